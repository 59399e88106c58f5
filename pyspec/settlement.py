"""Signed-order settlement. Contract: ``contracts/Settlement.vy``.

Traders sign orders off-chain as EIP-712 typed data: domain "Perp Settlement", version "1",
the chain id and the Settlement contract's address (so an order replays on no other chain
or deployment). The operator submits a matched pair of orders; each is checked (expiry,
nonce floor, cancellation, lots left, limit price, signature, reduce-only) and its filled
lots recorded, maker first, then the engine settles the trade with its own checks (band,
margins, sizes, self-trade), which are not repeated here. Signatures are ECDSA only (no
EIP-1271): a contract account cannot sign an order. Signing is the harness's job.

The escape hatch lives here too (StarkEx's forced trades and freeze, reduced to one
market): a trader's exit request is its consent to be closed at the oracle price; anyone
may take the position over at that price; a request nobody serves for EXIT_DELAY, while
nobody trades at all, lets anyone settle the market at a fresh price
(``process_escape``), so no deposit stays locked when the operator disappears, and no
trader can settle a market the operator still runs (N1).

The order book lives at ``state.book``. Addresses are lowercase 0x-hex, digests 32 bytes.
"""

from dataclasses import dataclass
from functools import lru_cache

import coincurve
from eth_abi import encode

from pyspec import engine, governance
from pyspec.constants import EXIT_DELAY, EXIT_WINDOW
from pyspec.errors import require
from pyspec.keccak import keccak
from pyspec.state import OrderBook, State, get_position

DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
NAME_HASH = keccak(b"Perp Settlement")
VERSION_HASH = keccak(b"1")
ORDER_TYPEHASH = keccak(
    b"Order(address trader,uint256 market,bool is_buy,uint256 size,uint256 limit_price,"
    b"bool reduce_only,uint256 nonce,uint256 expiry)"
)
# typehash, then the fields in declaration order
ORDER_TYPES = (
    "bytes32",
    "address",
    "uint256",
    "bool",
    "uint256",
    "uint256",
    "bool",
    "uint256",
    "uint256",
)
# secp256k1n / 2: a higher s is the malleable twin of a valid signature (EIP-2).
MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


@dataclass(frozen=True, slots=True)
class Order:
    """A signed order (the contract's ``Order`` struct)."""

    trader: str
    market: int  # its key: slot + MAX_MARKETS x generation (governance.market_slot)
    is_buy: bool
    size: int  # lots: the most this order may fill in total
    limit_price: int  # the most a buy pays, the least a sell takes
    reduce_only: bool  # fill only against an opposite position, up to its size
    nonce: int
    expiry: int  # last block time at which the order may fill


def _as_order(order: Order | tuple) -> Order:
    return order if isinstance(order, Order) else Order(*order)


def domain_separator(book: OrderBook) -> bytes:
    """Return the EIP-712 domain separator. Contract: ``Settlement.domain_separator``."""
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, book.chain_id, book.address],
        )
    )


def struct_hash(order: Order | tuple) -> bytes:
    """Return the EIP-712 hashStruct of an order: keccak256 of the typehash and the
    fields' 32-byte words in declaration order (``abi_encode`` of static values).
    Contract: ``Settlement._struct_hash``."""
    o = _as_order(order)
    values = (o.trader, o.market, o.is_buy, o.size, o.limit_price, o.reduce_only, o.nonce, o.expiry)
    return keccak(
        ORDER_TYPEHASH + b"".join(_word(t, v) for t, v in zip(ORDER_TYPES[1:], values, strict=True))
    )


def _word(kind: str, value) -> bytes:
    """A static ABI value's word: an address or a bool as the unsigned integer it is.
    A value of another type or out of range raises, as eth_abi's encoder and the
    contract's decoder refuse it."""
    if kind == "address":
        if not (isinstance(value, str) and len(value) == 42 and value[:2] in ("0x", "0X")):
            raise ValueError(f"not an address: {value!r}")
        value = int(value, 16)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"not a bool: {value!r}")
        value = int(value)
    elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise ValueError(f"not a uint256: {value!r}")
    return value.to_bytes(32, "big")


def order_hash(book: OrderBook, order: Order | tuple) -> bytes:
    """Return the EIP-712 digest a trader signs: keccak256(0x1901 || domain || hashStruct).

    Contract: ``Settlement.order_hash``.
    """
    return _digest(book.address, book.chain_id, _as_order(order))


@lru_cache(maxsize=65536)
def _digest(address: str, chain_id: int, order: Order) -> bytes:
    """``order_hash`` by its inputs; cached (pure): the harness signs a digest and the
    spec verifies the same one."""
    return keccak(b"\x19\x01" + _domain_separator(address, chain_id) + struct_hash(order))


@lru_cache(maxsize=256)
def _domain_separator(address: str, chain_id: int) -> bytes:
    """``domain_separator`` by its inputs; cached (pure: one per deployment)."""
    return domain_separator(OrderBook(address, chain_id, ""))


@lru_cache(maxsize=65536)
def recover_signer(digest: bytes, signature: bytes) -> str | None:
    """Return the signer of ``digest``, or None for a signature that is not 65 bytes
    r || s || v with v in {27, 28} and a low s, or that does not recover (r or s zero or
    not below the curve order, or no point: the precompile returns no address then).

    Contract: ``Settlement._recover_signer`` (the ecrecover precompile). libsecp256k1
    through coincurve (eth_keys' own backend, without its wrappers). Cached: pure, and
    the harness verifies the same signatures many times.
    """
    if len(signature) != 65:
        return None
    v = signature[64]
    if v not in (27, 28) or int.from_bytes(signature[32:64], "big") > MAX_S:
        return None
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except Exception:  # noqa: BLE001 (r or s out of range, or no point)
        return None
    return "0x" + keccak(key.format(compressed=False)[1:])[-20:].hex()


def _fill(
    state: State, order: Order, signature: bytes, market_id: int, size: int, price: int
) -> bytes:
    """Check one side of a match in the market listed in slot ``market_id`` and record
    ``size`` more lots filled on it; return the order's digest.
    Contract: ``Settlement._fill``.
    """
    book = state.book
    require(state.timestamp <= order.expiry, "order: expired")
    require(order.nonce >= book.min_nonce.get(order.trader, 0), "order: nonce invalidated")
    digest = order_hash(book, order)
    require(not book.cancelled.get(digest, False), "order: cancelled")
    already = book.filled.get(digest, 0)
    require(size <= order.size - already, "order: overfilled")
    if order.is_buy:
        require(price <= order.limit_price, "order: price beyond limit")
    else:
        require(price >= order.limit_price, "order: price beyond limit")
    signer = recover_signer(digest, bytes(signature))
    require(signer is not None and signer == order.trader, "order: invalid signature")
    if order.reduce_only:
        position = get_position(state, order.trader, market_id).size
        if order.is_buy:
            reduces = position < 0 and size <= -position
        else:
            reduces = position > 0 and size <= position
        require(reduces, "order: not reduce-only")
    if digest not in book.filled:  # a cancelled digest never gets here
        book.touched.append(digest)
    book.filled[digest] = already + size
    state.events.append(("OrderFilled", (digest, order.trader, size, already + size)))
    return digest


def process_settle(
    state: State,
    caller: str,
    maker: Order | tuple,
    maker_signature: bytes,
    taker: Order | tuple,
    taker_signature: bytes,
    size: int,
    price: int,
) -> None:
    """Settle ``size`` lots at ``price`` between two signed orders on opposite sides of one
    market (operator only): the maker's order is checked and filled first, then the
    taker's, then the engine settles the trade. An order names its market by key
    (``governance.market_slot``): signed for a market settled since, it never fills on
    the next one listed in that slot. Contract: ``Settlement.settle``.
    """
    maker = _as_order(maker)
    taker = _as_order(taker)
    require(caller == state.book.operator, "auth: not operator")
    require(maker.market == taker.market, "order: market mismatch")
    require(maker.is_buy != taker.is_buy, "order: same side")
    market_id = governance.market_slot(state, maker.market)
    _fill(state, maker, maker_signature, market_id, size, price)
    _fill(state, taker, taker_signature, market_id, size, price)
    buyer, seller = (taker.trader, maker.trader) if taker.is_buy else (maker.trader, taker.trader)
    buyer_is_taker = taker.is_buy
    state.book.exit_requests.pop((buyer, market_id), None)
    state.book.exit_requests.pop((seller, market_id), None)
    state.book.last_trade_time = state.timestamp
    engine.process_settle_trade(
        state, state.book.address, buyer, seller, market_id, size, price, buyer_is_taker
    )


def process_cancel_order(state: State, caller: str, order: Order | tuple) -> None:
    """Void an order for good (its trader only). Contract: ``Settlement.cancel_order``."""
    order = _as_order(order)
    book = state.book
    require(caller == order.trader, "order: not signer")
    digest = order_hash(book, order)
    require(not book.cancelled.get(digest, False), "order: already cancelled")
    if digest not in book.filled:
        book.touched.append(digest)
    book.cancelled[digest] = True
    state.events.append(("OrderCancelled", (digest, order.trader)))


def process_invalidate_nonces(state: State, caller: str, min_nonce: int) -> None:
    """Void every order of the caller with a nonce below ``min_nonce``.

    Contract: ``Settlement.invalidate_nonces``.
    """
    book = state.book
    require(min_nonce > book.min_nonce.get(caller, 0), "order: nonce not increasing")
    book.min_nonce[caller] = min_nonce
    state.events.append(("NoncesInvalidated", (caller, min_nonce)))


def process_set_operator(state: State, caller: str, operator: str) -> None:
    """Name the operator (the engine's Governor only, so after its delay).

    Contract: ``Settlement.set_operator``.
    """
    require(caller == state.governor, "auth: not governor")
    state.book.operator = operator
    state.events.append(("OperatorSet", (operator,)))


def process_request_exit(state: State, caller: str, market_id: int) -> None:
    """Ask to leave the caller's whole position in a live market at the oracle price;
    asking again restarts the clock. The request names the position by its last fill, so
    any change of the position (a trade, a takeover, a liquidation, an ADL fill) voids
    it for good (N1). Contract: ``Settlement.request_exit``.
    """
    position = get_position(state, caller, market_id)
    require(position.size != 0, "exit: no position")
    require(not state.markets[market_id].settled, "market: settled")
    deadline = state.timestamp + EXIT_DELAY
    state.book.exit_requests[(caller, market_id)] = (position.size, position.last_fill, deadline)
    state.events.append(("ExitRequested", (caller, market_id, position.size, deadline)))


def process_cancel_exit(state: State, caller: str, market_id: int) -> None:
    """Withdraw the caller's exit request. Contract: ``Settlement.cancel_exit``."""
    require((caller, market_id) in state.book.exit_requests, "exit: not requested")
    del state.book.exit_requests[(caller, market_id)]
    state.events.append(("ExitCancelled", (caller, market_id)))


def _require_request(state: State, trader: str, market_id: int) -> tuple[int, int, int]:
    """The standing request, unexpired, for the very position it named.

    Contract: ``Settlement._require_request``."""
    request = state.book.exit_requests.get((trader, market_id))
    require(request is not None, "exit: not requested")
    require(state.timestamp <= request[2] + EXIT_WINDOW, "exit: expired")
    position = get_position(state, trader, market_id)
    require(
        position.size == request[0] and position.last_fill == request[1],
        "exit: position changed",
    )
    return request


def process_take_exit(state: State, caller: str, trader: str, market_id: int) -> None:
    """Take a requested position over whole at the oracle price (anyone: the caller is
    the taker and pays the taker fee); the engine checks the trade as any other: band,
    freshness, margins, minimum notional, pause, capacity. Contract: ``Settlement.take_exit``.
    """
    size, _, _ = _require_request(state, trader, market_id)
    del state.book.exit_requests[(trader, market_id)]
    state.book.last_trade_time = state.timestamp
    price = state.markets[market_id].price
    state.events.append(("ExitTaken", (trader, caller, market_id, size, price)))
    buyer, seller = (caller, trader) if size > 0 else (trader, caller)
    engine.process_settle_trade(
        state, state.book.address, buyer, seller, market_id, abs(size), price, size > 0
    )


def process_escape(state: State, caller: str, trader: str, market_id: int) -> None:
    """Settle the market of an exit request nobody served (anyone), at its fresh oracle
    price. Contract: ``Settlement.escape``.

    The escape is the last resort when the operator is gone, and is open only then: from
    the request's deadline to EXIT_WINDOW after it, for the very position requested, and
    only if no match was settled and no exit taken anywhere since the request
    (``exit: operator active``): while the operator matches orders or anyone takes exits,
    the trader's way out is a trade or a takeover, and no holder can settle a market that
    still runs (N1). The engine refuses a stale price (N3).

    Why the market and not the one position: closing it against the insurance fund would
    give the fund a directional position it cannot hedge and unbalance open interest;
    forcing it onto opposite traders would let any trader push others out at will. A
    market whose exits nobody takes at the oracle price for EXIT_DELAY, with no operator,
    is not being operated; settling it at one price for all is zero-sum and frees every
    deposit.
    """
    _, _, deadline = _require_request(state, trader, market_id)
    require(state.timestamp >= deadline, "exit: too early")
    require(state.book.last_trade_time < deadline - EXIT_DELAY, "exit: operator active")
    del state.book.exit_requests[(trader, market_id)]
    state.events.append(("ExitEscaped", (trader, market_id)))
    governance.process_delist_market(
        state, state.book.address, governance.market_key(state, market_id)
    )
