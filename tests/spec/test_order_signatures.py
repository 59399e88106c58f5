"""Signed orders: the spec's EIP-712 digest against eth-account's, no replay across chains,
deployments or fields, the signature validity rules (low s, v in {27, 28}, 65 bytes), and
contracts/Settlement.vy against the spec on revm (digests, signature edge cases, and a short
sequence of settles, cancels and nonce bumps against a recording engine stub)."""

import random
from dataclasses import astuple, replace
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
import vyper
from eth_abi import decode, encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_keys import keys
from eth_utils import keccak
from pyrevm import EVM, BlockEnv, CfgEnv, Env

from harness.core import orders
from harness.core.eip712 import eip712_order
from harness.evm import artifacts
from harness.evm.base import ACCOUNTS
from pyspec import engine
from pyspec.errors import Revert
from pyspec.settlement import (
    MAX_S,
    ORDER_TYPES,
    Order,
    OrderBook,
    domain_separator,
    order_hash,
    process_cancel_order,
    process_invalidate_nonces,
    process_settle,
    recover_signer,
    struct_hash,
)
from pyspec.state import Account as SpecAccount
from pyspec.state import Position

ROOT = Path(__file__).resolve().parents[2]
# anvil's first two dev accounts
KEY_A = 0xAC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80
ADDR_A = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
KEY_B = 0x59C6995E998F97A5A0044966F0945389DC9E86DAE88C7A8412F4603B6B78690D
ADDR_B = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
CHAIN_ID = 31337
SETTLEMENT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
OPERATOR = "0x00000000000000000000000000000000000000a1"
ORDER_ABI = "(address,uint256,bool,uint256,uint256,bool,uint256,uint256)"

ORDERS = [
    Order(ADDR_A, 0, True, 10, 2_000_000, False, 0, 1_700_000_000),
    Order(ADDR_B, 3, False, 1, 1, True, 7, 2**64),
    Order(ADDR_A, 2**256 - 1, True, 2**256 - 1, 2**256 - 1, True, 2**256 - 1, 2**256 - 1),
    Order("0x" + "00" * 20, 0, False, 0, 0, False, 0, 0),
]


def book(address: str = SETTLEMENT, chain_id: int = CHAIN_ID) -> OrderBook:
    return OrderBook(address, chain_id, OPERATOR)


def typed_data(order: Order, address: str = SETTLEMENT, chain_id: int = CHAIN_ID) -> dict:
    return eip712_order(address, chain_id, astuple(order))


def sign(digest: bytes, key: int = KEY_A) -> bytes:
    """r || s || v with v in {27, 28}, as a wallet signs."""
    signature = keys.PrivateKey(key.to_bytes(32, "big")).sign_msg_hash(digest)
    r, s, v = signature.r, signature.s, signature.v
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v + 27])


def with_rsv(signature: bytes, r=None, s=None, v=None) -> bytes:
    old_r, old_s = signature[:32], signature[32:64]
    return (
        (old_r if r is None else r.to_bytes(32, "big"))
        + (old_s if s is None else s.to_bytes(32, "big"))
        + bytes([signature[64] if v is None else v])
    )


def high_s_twin(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return with_rsv(signature, s=SECP256K1_N - s, v=55 - signature[64])


# Digests


@pytest.mark.parametrize("order", ORDERS)
def test_order_hash_matches_eth_account(order):
    expected = _hash_eip191_message(encode_typed_data(full_message=typed_data(order)))
    assert order_hash(book(), order) == expected
    assert order_hash(book(), tuple(getattr(order, f) for f in order.__slots__)) == expected


def test_eth_account_signature_recovers_to_its_signer():
    order = ORDERS[0]
    signed = Account.sign_typed_data(KEY_A.to_bytes(32, "big"), full_message=typed_data(order))
    assert signed.message_hash == order_hash(book(), order)
    assert recover_signer(order_hash(book(), order), bytes(signed.signature)) == ADDR_A


def test_no_replay_across_chains_deployments_or_fields():
    order = ORDERS[0]
    digest = order_hash(book(), order)
    assert order_hash(book(chain_id=1), order) != digest
    assert order_hash(book(address="0x" + "11" * 20), order) != digest
    changed = {
        "trader": ADDR_B,
        "market": 1,
        "is_buy": False,
        "size": 11,
        "limit_price": 2_000_001,
        "reduce_only": True,
        "nonce": 1,
        "expiry": 1_700_000_001,
    }
    digests = {order_hash(book(), replace(order, **{f: v})) for f, v in changed.items()}
    assert digest not in digests and len(digests) == len(changed)


# Signature rules


def test_recover_signer_accepts_a_wallet_signature():
    for order in ORDERS:
        digest = order_hash(book(), order)
        assert recover_signer(digest, sign(digest)) == ADDR_A
        assert recover_signer(digest, sign(digest, KEY_B)) == ADDR_B


def eth_keys_signer(digest: bytes, signature: bytes) -> str | None:
    """The signer by eth_keys' whole path (the spec's recovery before it called
    libsecp256k1 directly), with the same validity rules."""
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28) or s > MAX_S:
        return None
    try:
        key = keys.Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest)
    except Exception:  # noqa: BLE001 (BadSignature, ValidationError: no address)
        return None
    return key.to_address().lower()


def test_recovery_is_eth_keys():
    """On orders the machine signs (its trader, another signer, another chain or contract)
    and on random r, s and v, including zero and out-of-range values."""
    rng = random.Random(5)
    for _ in range(200):
        trader, other = rng.sample(ACCOUNTS[:10], 2)
        order = Order(
            trader.lower(),
            rng.randrange(8),
            rng.random() < 0.5,
            rng.randrange(1, 10**9),
            rng.randrange(1, 10**12),
            rng.random() < 0.2,
            rng.randrange(10**6),
            2**40,
        )
        domain = rng.choice(
            [{}, {"signer": other}, {"chain_id": 1}, {"verifying_contract": OPERATOR}]
        )
        signature = orders.sign(book(), order, **domain)
        digest = order_hash(
            OrderBook(
                domain.get("verifying_contract", SETTLEMENT), domain.get("chain_id", CHAIN_ID), ""
            ),
            order,
        )
        assert recover_signer(digest, signature) == (domain.get("signer") or trader).lower()
        r = rng.choice([0, 1, SECP256K1_N - 1, SECP256K1_N, 2**256 - 1, rng.randrange(2**256)])
        s = rng.choice([0, 1, MAX_S, MAX_S + 1, rng.randrange(MAX_S)])
        for candidate in (
            with_rsv(signature, r=r),
            with_rsv(signature, s=s),
            with_rsv(signature, v=rng.choice([27, 28])),
        ):
            assert recover_signer(digest, candidate) == eth_keys_signer(digest, candidate)


def test_recover_signer_rejects_malformed_signatures():
    digest = order_hash(book(), ORDERS[0])
    signature = sign(digest)
    assert int.from_bytes(signature[32:64], "big") <= MAX_S  # signers emit low s
    assert recover_signer(digest, high_s_twin(signature)) is None
    for v in (0, 1, 29):
        assert recover_signer(digest, with_rsv(signature, v=v)) is None
    assert recover_signer(digest, signature[:64]) is None
    assert recover_signer(digest, signature + b"\x00") is None
    assert recover_signer(digest, b"") is None
    assert recover_signer(digest, with_rsv(signature, r=0)) is None
    assert recover_signer(digest, with_rsv(signature, s=0)) is None
    assert recover_signer(digest, with_rsv(signature, r=SECP256K1_N)) is None
    assert recover_signer(digest, with_rsv(signature, r=2**256 - 1)) is None


def test_recover_signer_on_a_tampered_digest_gives_another_address():
    digest = order_hash(book(), ORDERS[0])
    tampered = bytes([digest[0] ^ 1]) + digest[1:]
    other = recover_signer(tampered, sign(digest))
    assert other is not None and other != ADDR_A
    flipped = recover_signer(digest, with_rsv(sign(digest), v=55 - sign(digest)[64]))
    assert flipped != ADDR_A


# The contract against the spec (revm)

ENGINE_STUB = """
# pragma version ~=0.4.3
struct Position:
    size: int256
    entry_notional: int256
    funding_checkpoint: int256
    stamp: uint256

event SettleTrade:
    buyer: address
    seller: address
    market_id: uint256
    size: uint256
    price: uint256
    buyer_is_taker: bool

struct Market:
    initial_margin_ratio: uint256
    maintenance_margin_ratio: uint256
    liquidation_fee_ratio: uint256
    price_band_ratio: uint256
    max_funding_rate: uint256
    maker_fee_ratio: uint256
    taker_fee_ratio: uint256
    adl_policy: uint256
    max_price_age: uint256
    min_position_notional: uint256
    price: uint256
    price_timestamp: uint256
    open_interest: uint256
    funding_index: int256
    funding_residue: uint256
    funding_rate: int256
    funding_timestamp: uint256
    paused: bool
    settled: bool
    generation: uint256
    long_adl_round: uint256
    short_adl_round: uint256

positions: public(HashMap[address, HashMap[uint256, Position]])
# three markets, each in its first listing (orders name them by slot)
markets: public(HashMap[uint256, Market])
market_count: public(uint256)

@deploy
def __init__():
    self.market_count = 3

@external
def set_size(account: address, market_id: uint256, size: int256):
    self.positions[account][market_id].size = size

@external
def settle_trade(
    buyer: address,
    seller: address,
    market_id: uint256,
    size: uint256,
    price: uint256,
    buyer_is_taker: bool,
):
    log SettleTrade(
        buyer=buyer,
        seller=seller,
        market_id=market_id,
        size=size,
        price=price,
        buyer_is_taker=buyer_is_taker,
    )
"""

EVENTS = {
    keccak(text="OrderFilled(bytes32,address,uint256,uint256)"): "OrderFilled",
    keccak(text="OrderCancelled(bytes32,address)"): "OrderCancelled",
    keccak(text="NoncesInvalidated(address,uint256)"): "NoncesInvalidated",
    keccak(text="SettleTrade(address,address,uint256,uint256,uint256,bool)"): "SettleTrade",
}
NOW = 1_000_000


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _address(word: bytes) -> str:
    return "0x" + word[-20:].hex()


def _decode_log(log) -> tuple:
    topics = [bytes(t) for t in log.data[0]]
    data = bytes(log.data[1])
    name = EVENTS[topics[0]]
    if name == "OrderFilled":
        return name, (topics[1], _address(topics[2]), *decode(["uint256", "uint256"], data))
    if name == "OrderCancelled":
        return name, (topics[1], _address(topics[2]))
    if name == "NoncesInvalidated":
        return name, (_address(topics[1]), *decode(["uint256"], data))
    types = ["address", "address", "uint256", "uint256", "uint256", "bool"]
    buyer, seller, *rest = decode(types, data)
    return name, (buyer.lower(), seller.lower(), *rest)


@cache
def _bytecode(source: str) -> bytes:
    return bytes.fromhex(vyper.compile_code(source, output_formats=["bytecode"])["bytecode"][2:])


class Deployed:
    """Settlement and the engine stub on revm, at chain id 31337 and block time NOW."""

    def __init__(self):
        evm = EVM(env=Env(cfg=CfgEnv(chain_id=CHAIN_ID)))
        evm.set_block_env(BlockEnv(timestamp=NOW))
        deployer = "0x" + "de" * 20
        evm.set_balance(deployer, 10**20)
        self.engine = evm.deploy(deployer, _bytecode(ENGINE_STUB)).lower()
        initcode = artifacts.load("Settlement").initcode(self.engine, OPERATOR)
        self.address = evm.deploy(deployer, initcode).lower()
        self.evm = evm

    def call(self, sender: str, to: str, signature: str, types: list, args: list):
        """Run a transaction: (None, logs, output) on success, (reason, (), b"") on revert."""
        data = _selector(signature) + encode(types, args)
        try:
            output = self.evm.message_call(sender, to, data, gas=10_000_000)
        except RuntimeError as error:
            text = str(error)
            marker = text.find("output: 0x")
            raw = bytes.fromhex(text[marker + 10 :].split()[0].rstrip("},")) if marker >= 0 else b""
            reason = (
                decode(["string"], raw[4:])[0] if raw[:4] == _selector("Error(string)") else raw
            )
            return reason, (), b""
        return None, [_decode_log(log) for log in self.evm.result.logs], bytes(output)

    def view(self, signature: str, types: list, args: list, out: str):
        reason, _, output = self.call(OPERATOR, self.address, signature, types, args)
        assert reason is None, reason
        return decode([out], output)[0]


def _as_tuple(order: Order) -> tuple:
    return tuple(getattr(order, f) for f in order.__slots__)


@pytest.fixture
def deployed():
    return Deployed()


def test_contract_digest_matches_spec(deployed):
    spec_book = book(address=deployed.address)
    assert deployed.view("domain_separator()", [], [], "bytes32") == domain_separator(spec_book)
    for order in ORDERS:
        digest = deployed.view(
            f"order_hash({ORDER_ABI})", [ORDER_ABI], [_as_tuple(order)], "bytes32"
        )
        assert digest == order_hash(spec_book, order)


def _signature_variants(digest: bytes) -> list[bytes]:
    good = sign(digest, KEY_B)
    return [
        good,
        high_s_twin(good),
        with_rsv(good, v=0),
        with_rsv(good, v=1),
        with_rsv(good, v=29),
        with_rsv(good, v=55 - good[64]),
        with_rsv(good, r=0),
        with_rsv(good, s=0),
        with_rsv(good, r=SECP256K1_N),
        with_rsv(good, r=2**256 - 1),
        with_rsv(good, r=5),
        with_rsv(good, s=MAX_S),
        good[:64],
        b"",
        sign(digest, KEY_A),
    ]


SETTLE = f"settle({ORDER_ABI},bytes,{ORDER_ABI},bytes,uint256,uint256)"
SETTLE_TYPES = [ORDER_ABI, "bytes", ORDER_ABI, "bytes", "uint256", "uint256"]


def test_contract_signature_rules_match_spec(deployed):
    spec_book = book(address=deployed.address)
    maker = Order(ADDR_A, 0, True, 10, 100, False, 0, NOW)
    taker = Order(ADDR_B, 0, False, 10, 100, False, 0, NOW)
    maker_signature = sign(order_hash(spec_book, maker), KEY_A)
    taker_digest = order_hash(spec_book, taker)
    variants = _signature_variants(taker_digest)
    assert [recover_signer(taker_digest, v) == ADDR_B for v in variants].count(True) == 1
    for signature in variants:
        snapshot = deployed.evm.snapshot()
        args = [_as_tuple(maker), maker_signature, _as_tuple(taker), signature, 1, 100]
        reason, _, _ = deployed.call(OPERATOR, deployed.address, SETTLE, SETTLE_TYPES, args)
        deployed.evm.revert(snapshot)
        valid = recover_signer(taker_digest, signature) == ADDR_B
        assert reason == (None if valid else "order: invalid signature"), signature.hex()


class SpecSide:
    """The spec's order book with a recording engine in place of process_settle_trade."""

    def __init__(self, address: str, monkeypatch):
        self.state = SimpleNamespace(
            book=book(address=address),
            timestamp=NOW,
            events=[],
            accounts={},
            markets=[SimpleNamespace(generation=0)] * 3,  # the stub's
        )

        def settle_trade(state, caller, buyer, seller, market_id, size, price, buyer_is_taker):
            assert caller == state.book.address
            state.events.append(
                ("SettleTrade", (buyer, seller, market_id, size, price, buyer_is_taker))
            )

        monkeypatch.setattr(engine, "process_settle_trade", settle_trade)

    def run(self, function, *args):
        """Run a call; roll the book back on a rejection. Return (reason, new events)."""
        saved, count = self.state.book.copy(), len(self.state.events)
        try:
            function(self.state, *args)
        except Revert as error:
            self.state.book = saved
            del self.state.events[count:]
            return error.reason, []
        return None, self.state.events[count:]


def test_contract_matches_spec_on_a_sequence(deployed, monkeypatch):
    spec = SpecSide(deployed.address, monkeypatch)
    b = spec.state.book
    buy = Order(ADDR_A, 1, True, 10, 105, False, 3, NOW)
    sell = Order(ADDR_B, 1, False, 10, 95, False, 0, NOW + 1)
    reduce_buy = Order(ADDR_A, 1, True, 5, 200, True, 4, NOW)
    late = Order(ADDR_B, 1, False, 10, 95, False, 0, NOW - 1)
    other_market = Order(ADDR_B, 2, False, 10, 95, False, 0, NOW)
    signed = {
        o: sign(order_hash(b, o), KEY_A if o.trader == ADDR_A else KEY_B)
        for o in (buy, sell, reduce_buy, late, other_market)
    }
    forged = replace(sell, trader=ADDR_A)
    signed[forged] = signed[sell]

    def settle(maker, taker, size, price, sender=OPERATOR):
        return (
            "settle",
            sender,
            (maker, signed[maker], taker, signed[taker], size, price),
        )

    steps = [
        settle(buy, sell, 1, 100, sender=ADDR_A),
        settle(buy, other_market, 1, 100),
        settle(buy, reduce_buy, 1, 100),
        settle(buy, late, 1, 100),
        settle(buy, sell, 4, 100),
        settle(sell, buy, 7, 100),
        settle(sell, buy, 6, 106),
        settle(sell, buy, 6, 94),
        settle(sell, buy, 0, 100),
        settle(buy, forged, 1, 100),
        settle(reduce_buy, sell, 1, 100),
        ("set_size", None, (ADDR_A, 1, -3)),
        settle(reduce_buy, sell, 4, 100),
        settle(reduce_buy, sell, 3, 100),
        settle(sell, buy, 3, 100),
        ("cancel", ADDR_A, (sell,)),
        ("cancel", ADDR_B, (sell,)),
        ("cancel", ADDR_B, (sell,)),
        ("cancel", ADDR_B, (late,)),
        settle(buy, sell, 0, 100),
        ("nonces", ADDR_A, (4,)),
        ("nonces", ADDR_A, (4,)),
        ("nonces", ADDR_A, (5,)),
        settle(reduce_buy, sell, 1, 100),
    ]
    reasons = []
    for kind, sender, args in steps:
        if kind == "set_size":
            account, market_id, size = args
            deployed.call(
                OPERATOR,
                deployed.engine,
                "set_size(address,uint256,int256)",
                ["address", "uint256", "int256"],
                list(args),
            )
            spec.state.accounts.setdefault(account, SpecAccount()).positions[market_id] = Position(
                size
            )
            continue
        if kind == "settle":
            maker, maker_sig, taker, taker_sig, size, price = args
            encoded = [_as_tuple(maker), maker_sig, _as_tuple(taker), taker_sig, size, price]
            chain = deployed.call(sender, deployed.address, SETTLE, SETTLE_TYPES, encoded)
            ours = spec.run(process_settle, sender, *args)
        elif kind == "cancel":
            chain = deployed.call(
                sender,
                deployed.address,
                f"cancel_order({ORDER_ABI})",
                [ORDER_ABI],
                [_as_tuple(args[0])],
            )
            ours = spec.run(process_cancel_order, sender, *args)
        else:
            chain = deployed.call(
                sender, deployed.address, "invalidate_nonces(uint256)", ["uint256"], list(args)
            )
            ours = spec.run(process_invalidate_nonces, sender, *args)
        assert (chain[0], list(chain[1])) == ours, (kind, args)
        reasons.append(ours[0])
    b = spec.state.book  # a rejected call replaced it with its saved copy
    for digest in b.touched:
        assert deployed.view("filled(bytes32)", ["bytes32"], [digest], "uint256") == b.filled.get(
            digest, 0
        )
        assert deployed.view("cancelled(bytes32)", ["bytes32"], [digest], "bool") == (
            b.cancelled.get(digest, False)
        )
    assert deployed.view("min_nonce(address)", ["address"], [ADDR_A], "uint256") == 5
    assert reasons == [
        "auth: not operator",
        "order: market mismatch",
        "order: same side",
        "order: expired",
        None,
        "order: overfilled",
        "order: price beyond limit",
        "order: price beyond limit",
        None,
        "order: invalid signature",
        "order: not reduce-only",
        "order: not reduce-only",
        None,
        None,
        "order: not signer",
        None,
        "order: already cancelled",
        None,
        "order: cancelled",
        None,
        "order: nonce not increasing",
        None,
        "order: nonce invalidated",
    ]
    assert b.touched == [order_hash(b, o) for o in (buy, sell, reduce_buy, late)]
    assert [b.filled.get(digest, 0) for digest in b.touched] == [7, 10, 3, 0]


def test_harness_signatures_are_eth_keys_own():
    """The harness signs through coincurve directly: the same bytes eth_keys makes (RFC
    6979 nonce, low s), v in {27, 28}."""
    import random

    from harness.core.orders import sign_digest

    rng = random.Random(7)
    for _ in range(50):
        digest, key = rng.randbytes(32), rng.randbytes(31) + b"\x01"
        expected = keys.PrivateKey(key).sign_msg_hash(digest)
        got = sign_digest(digest, key)
        assert got == expected.r.to_bytes(32, "big") + expected.s.to_bytes(32, "big") + bytes(
            [expected.v + 27]
        )
        assert int.from_bytes(got[32:64], "big") <= MAX_S


def test_property_digest_is_eth_accounts_whole_typed_data():
    """``eip712.signed_by`` (the struct hash written word by word, libsecp256k1's
    recovery) makes the digest ``encode_typed_data`` makes of the whole typed data, and
    recovers what eth_account recovers (and so does the spec's ``order_hash``, word by
    word too): the signer, its high-s twin's signer, a random
    r || s's point, and nothing from a zero signature or a v other than 27 or 28."""
    import random

    from harness.core.eip712 import signed_by
    from harness.core.orders import high_s_twin

    rng = random.Random(3)
    account = Account.from_key(KEY_A)
    for i in range(60):
        contract = "0x" + rng.randbytes(20).hex()
        chain_id = rng.choice([1, 31337, 2**64])
        top = rng.choice([2**64, 2**128, 2**256])
        order = (
            account.address.lower(),
            rng.randrange(top),
            rng.random() < 0.5,
            rng.choice([0, top - 1, rng.randrange(top)]),
            rng.randrange(top),
            rng.random() < 0.5,
            rng.randrange(top),
            rng.randrange(top),
        )
        whole = _hash_eip191_message(
            encode_typed_data(full_message=eip712_order(contract, chain_id, order))
        )
        signature = bytes(Account._sign_hash(whole, KEY_A).signature)
        signature = [
            signature,
            high_s_twin(signature),
            rng.randbytes(64) + bytes([rng.choice([27, 28])]),
            b"\x00" * 65,
            signature[:64] + bytes([rng.choice([0, 1, 29, 37])]),
        ][i % 5]
        try:
            expected = Account._recover_hash(whole, signature=signature).lower()
        except Exception:  # noqa: BLE001
            expected = None
        if signature[64] not in (27, 28):
            expected = None  # the contract's rule: eth_account also takes 0, 1 and EIP-155 v
        digest, signer = signed_by(contract, chain_id, order, signature)
        assert digest == whole == order_hash(OrderBook(contract, chain_id, ""), order)
        assert signer == expected
        assert (signer == account.address.lower()) == (i % 5 in (0, 1))


def test_a_signature_the_harness_made_is_known_only_over_its_own_digest():
    """The consent property skips recovering the harness's own signatures: over the digest
    it signed, the signer is the key's holder; over any other digest the signature is
    recovered as any other (and names someone else)."""

    from harness.core.eip712 import signed_by
    from harness.core.orders import sign

    order = ORDERS[0]
    signature = sign(book(), order)
    digest, signer = signed_by(SETTLEMENT, CHAIN_ID, astuple(order), signature)
    assert digest == order_hash(book(), order) and signer == order.trader.lower()
    other = replace(order, size=order.size + 1)
    _, recovered = signed_by(SETTLEMENT, CHAIN_ID, astuple(other), signature)
    assert recovered is not None and recovered != order.trader.lower()


@pytest.mark.parametrize(
    "field, value",
    [("trader", "0x1"), ("market", -1), ("market", 2**256), ("is_buy", 2), ("size", True)],
)
def test_an_ill_typed_order_field_is_refused_as_eth_abi_refuses_it(field, value):
    """The spec's word-by-word struct hash takes what eth_abi's encoder takes, no more."""
    from eth_abi import encode

    order = replace(ORDERS[0], **{field: value})
    with pytest.raises(ValueError):
        struct_hash(order)
    fields = [getattr(order, f) for f in order.__slots__]
    with pytest.raises(Exception):  # noqa: B017 (eth_abi raises several kinds)
        encode(list(ORDER_TYPES[1:]), fields)
