"""Signed orders on the harness side: every actor's key, and the signatures the spec's
``settlement`` module verifies.

Keys are anvil's default mnemonic (``harness.evm.base.ACCOUNTS``) and the fixed keys of
the extra accounts; signing is libsecp256k1 through coincurve (what eth_keys signs with,
without its wrappers: about 20 us a signature, the same bytes; tests/spec checks them
against eth_keys). The spec only ever verifies: it never sees a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import coincurve

from harness.core import eip712
from harness.evm.base import ACCOUNTS, CHAIN_ID, extra_accounts, extra_key
from pyspec import governance, settlement
from pyspec.settlement import Order
from pyspec.state import OrderBook

MNEMONIC = "test test test test test test test test test test test junk"
N_EXTRA_KEYS = 64


@cache
def _keys() -> dict[str, bytes]:
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    found = {}
    for i, address in enumerate(ACCOUNTS):
        account = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        assert account.address.lower() == address
        found[address] = bytes(account.key)
    for i, address in enumerate(extra_accounts(N_EXTRA_KEYS)):
        found[address] = extra_key(i)
    return found


def private_key(address: str) -> bytes:
    """The key of a harness account (anvil's 20 and the extra ones)."""
    return _keys()[address.lower()]


@cache
def _signer(key: bytes) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(key)  # once per key


def sign_digest(digest: bytes, key: bytes) -> bytes:
    """r || s || v with v in {27, 28} (RFC 6979 nonce, low s, as the contract requires:
    libsecp256k1 normalizes s)."""
    signature = _signer(key).sign_recoverable(digest, hasher=None)  # r || s || recovery id
    return signature[:64] + bytes([signature[64] + 27])


def sign(
    book: OrderBook,
    order: Order,
    signer: str | None = None,
    chain_id: int | None = None,
    verifying_contract: str | None = None,
) -> bytes:
    """``order`` signed by ``signer`` (its trader by default) for ``book``'s domain, or for
    another chain or contract when given (the wrong-domain inputs)."""
    domain = book
    if chain_id is not None or verifying_contract is not None:
        domain = OrderBook(
            verifying_contract or book.address,
            book.chain_id if chain_id is None else chain_id,
            book.operator,
        )
    digest = settlement.order_hash(domain, order)
    signature = sign_digest(digest, private_key(signer or order.trader))
    eip712.remember(digest, signature, signer or order.trader)
    return signature


def sign_for(actors: dict[str, str], order: Order) -> bytes:
    """``order`` signed by its trader for the domain of the deployment ``actors`` names
    (its Settlement, the harness's chain id)."""
    return sign(OrderBook(actors["settlement"], CHAIN_ID, actors["operator"]), order)


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def high_s_twin(signature: bytes) -> bytes:
    """The same signature with s -> n - s and v flipped: valid for ecrecover, refused by
    the low-s rule (malleability)."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


# An order lives this long unless an action makes it expire: a day of block time.
ORDER_LIFETIME = 86_400


def next_nonce(state, trader: str) -> int:
    """A nonce no order of this state used (a successful fill or cancel grows ``touched``;
    a rejected one leaves nothing behind to collide with), above the trader's floor."""
    book = state.book
    return max(len(book.touched), book.min_nonce.get(trader, 0))


def named_order(order: Order, names: dict[str, str]) -> tuple:
    """``order`` as call arguments: the trader by actor name."""
    return (
        names.get(order.trader, order.trader),
        order.market,
        order.is_buy,
        order.size,
        order.limit_price,
        order.reduce_only,
        order.nonce,
        order.expiry,
    )


def make_order(state, trader: str, market_id: int, is_buy: bool, size: int, price: int) -> Order:
    """An order of ``trader`` (an address) for ``size`` lots at limit ``price`` in the
    market listed in slot ``market_id`` now, named by its key (an unlisted slot: as is)."""
    listed = market_id < len(state.markets)
    return Order(
        trader,
        governance.market_key(state, market_id) if listed else market_id,
        is_buy,
        size,
        price,
        False,
        next_nonce(state, trader),
        state.timestamp + ORDER_LIFETIME,
    )


def settle_call(
    state,
    actors: dict[str, str],
    maker: Order,
    taker: Order,
    size: int,
    price: int,
    sender: str = "operator",
    maker_signature: bytes | None = None,
    taker_signature: bytes | None = None,
):
    """The operator's ``settle`` of a matched pair, signed by the traders unless given."""
    from harness.core.call import Call

    names = {address: name for name, address in actors.items()}
    book = state.book
    return Call(
        "settlement",
        "settle",
        sender,
        (
            named_order(maker, names),
            maker_signature if maker_signature is not None else sign(book, maker),
            named_order(taker, names),
            taker_signature if taker_signature is not None else sign(book, taker),
            size,
            price,
        ),
    )


def match_call(
    state,
    actors: dict[str, str],
    buyer: str,
    seller: str,
    market_id: int,
    size: int,
    price: int,
    buyer_is_taker: bool,
    sender: str = "operator",
):
    """A trade between two actors as the operator settles it: each signs an order for
    exactly this fill at this price (the taker is the buyer when ``buyer_is_taker``)."""
    buy = make_order(state, actors[buyer], market_id, True, size, price)
    sell = make_order(state, actors[seller], market_id, False, size, price)
    maker, taker = (sell, buy) if buyer_is_taker else (buy, sell)
    return settle_call(state, actors, maker, taker, size, price, sender)


@dataclass(frozen=True, slots=True)
class Match:
    """A trade between two actors, before it is signed: ``call`` makes the orders (nonces,
    expiry) and signatures in the state it will run in. Scripts that write trades ahead
    of time (cases, the lab) hold these."""

    buyer: str
    seller: str
    market: int
    size: int
    price: int
    buyer_is_taker: bool = True
    sender: str = "operator"

    def call(self, state, actors: dict[str, str]):
        return match_call(
            state,
            actors,
            self.buyer,
            self.seller,
            self.market,
            self.size,
            self.price,
            self.buyer_is_taker,
            self.sender,
        )
