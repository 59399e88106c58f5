"""Signed orders: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/order/<name>.json`` (the vectors carry the orders and their signatures).

Traders sign EIP-712 orders; the operator can only settle a match of two of them, within
both limits and sizes, before expiry, and never an order cancelled or below its trader's
nonce floor. The engine accepts trades from the Settlement contract only.
"""

from dataclasses import replace

from harness.core import orders
from harness.core.call import Call
from harness.core.genesis import USDC
from harness.vectors.builder import call, settle_trade

PRICE = 10**6


def funded(case, *traders: str) -> None:
    for trader in traders:
        case("deposit", trader, 10_000 * USDC)


def order(case, trader: str, is_buy: bool, size: int = 10, price: int = PRICE, **changes):
    made = orders.make_order(case.state, case.address(trader), 0, is_buy, size, price)
    return replace(made, **changes)


def settle(case, maker, taker, size: int = 10, price: int = PRICE, **signatures) -> Call:
    return orders.settle_call(
        case.state, case.pair.actors, maker, taker, size, price, "operator", **signatures
    )


def cancel(case, made, sender: str | None = None) -> Call:
    args = (orders.named_order(made, case.names),)
    return Call("settlement", "cancel_order", sender or case.names[made.trader], args)


# -- T1: no trade without the traders' consent --------------------------------------------


def test_t1_operator_cannot_settle_unsigned(case):
    """T1: the operator calling the engine directly (the old path that forced a trader long
    at the top of the band) is refused: only the Settlement contract settles trades."""
    funded(case, "trader0", "trader1")
    case.act(
        call("settle_trade", "operator", "trader0", "trader1", 0, 10, 1_050_000, True),
        reverts="auth: not settlement",
    )


def test_t1_operator_cannot_forge_an_order(case):
    """T1: an order the victim never signed (signed by the operator) is refused."""
    funded(case, "trader0", "trader1")
    victim = order(case, "trader0", True, price=1_050_000)
    forged = orders.sign(case.state.book, victim, signer=case.address("operator"))
    colluder = order(case, "trader1", False, price=1_050_000)
    case.act(
        settle(case, victim, colluder, price=1_050_000, maker_signature=forged),
        reverts="order: invalid signature",
    )


# -- valid fills --------------------------------------------------------------------------


def test_settles_two_signed_orders(case):
    """A maker's sell and a taker's buy settle at a price within both limits."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False, price=990_000)
    taker = order(case, "trader0", True, price=1_010_000)
    case.act(settle(case, maker, taker, price=PRICE))


def test_partial_fills(case):
    """An order of 10 lots fills 4, then 6 against another taker; both fills are recorded."""
    funded(case, "trader0", "trader1", "trader2")
    maker = order(case, "trader1", False)
    case(settle(case, maker, order(case, "trader0", True, size=4), size=4))
    taker = order(case, "trader2", True, size=6)
    case.act(settle(case, maker, taker, size=6), branches=("orders.refilled",))


def test_reduce_only_closes(case):
    """A reduce-only sell closes part of a long."""
    funded(case, "trader0", "trader1", "trader2")
    case(settle_trade("trader0", "trader1", 10, PRICE))
    maker = order(case, "trader0", False, size=4, reduce_only=True)
    case.act(settle(case, maker, order(case, "trader2", True, size=4), size=4))


def test_cancel_order(case):
    """A trader cancels its own order."""
    case.act(cancel(case, order(case, "trader0", True)), branches=("orders.cancelled",))


def test_invalidate_nonces(case):
    """A trader voids every order below nonce 5."""
    case.act(
        "invalidate_nonces", "trader0", 5, target="settlement",
        branches=("orders.nonces_invalidated",),
    )  # fmt: skip


# -- rejected orders ----------------------------------------------------------------------


def test_not_operator(case):
    """Only the operator submits matches."""
    funded(case, "trader0", "trader1")
    made = settle(case, order(case, "trader1", False), order(case, "trader0", True))
    case.act(replace(made, sender="outsider"), reverts="auth: not operator")


def test_expired(case):
    """An order past its expiry does not fill."""
    funded(case, "trader0", "trader1")
    stale = order(case, "trader1", False, expiry=case.state.timestamp - 1)
    case.act(settle(case, stale, order(case, "trader0", True)), reverts="order: expired")


def test_nonce_invalidated(case):
    """An order below its trader's nonce floor does not fill."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    case("invalidate_nonces", "trader1", maker.nonce + 1, target="settlement")
    taker = order(case, "trader0", True)
    case.act(settle(case, maker, taker), reverts="order: nonce invalidated")


def test_cancelled(case):
    """A cancelled order does not fill."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    case(cancel(case, maker))
    case.act(settle(case, maker, order(case, "trader0", True)), reverts="order: cancelled")


def test_overfilled(case):
    """A fill larger than what remains of an order is refused."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False, size=9)
    case.act(settle(case, maker, order(case, "trader0", True)), reverts="order: overfilled")


def test_replayed(case):
    """A filled match submitted again is refused: the orders have nothing left."""
    funded(case, "trader0", "trader1")
    match = settle(case, order(case, "trader1", False), order(case, "trader0", True))
    case(match)
    case.act(match, reverts="order: overfilled")


def test_buy_limit(case):
    """A buy does not fill above its limit."""
    funded(case, "trader0", "trader1")
    taker = order(case, "trader0", True, price=PRICE - 1)
    case.act(
        settle(case, order(case, "trader1", False), taker), reverts="order: price beyond limit"
    )


def test_sell_limit(case):
    """A sell does not fill below its limit."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False, price=PRICE + 1)
    case.act(settle(case, maker, order(case, "trader0", True)), reverts="order: price beyond limit")


def test_wrong_chain(case):
    """A signature for chain 1 does not verify here (no replay across chains)."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    signature = orders.sign(case.state.book, maker, chain_id=1)
    case.act(
        settle(case, maker, order(case, "trader0", True), maker_signature=signature),
        reverts="order: invalid signature",
    )


def test_wrong_contract(case):
    """A signature for another verifying contract (here the engine) does not verify (no
    replay across deployments)."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    signature = orders.sign(case.state.book, maker, verifying_contract=case.address("engine"))
    case.act(
        settle(case, maker, order(case, "trader0", True), maker_signature=signature),
        reverts="order: invalid signature",
    )


def test_other_market(case):
    """An order signed for market 0 cannot be replayed on market 1."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    signature = orders.sign(case.state.book, maker)
    moved = replace(maker, market=1)
    taker = replace(order(case, "trader0", True), market=1)
    case.act(
        settle(case, moved, taker, maker_signature=signature), reverts="order: invalid signature"
    )


def test_wrong_signer(case):
    """An order signed by someone else than its trader does not verify."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    signature = orders.sign(case.state.book, maker, signer=case.address("trader0"))
    case.act(
        settle(case, maker, order(case, "trader0", True), maker_signature=signature),
        reverts="order: invalid signature",
    )


def test_malleable_signature(case):
    """The high-s twin of a valid signature is refused (EIP-2)."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    twin = orders.high_s_twin(orders.sign(case.state.book, maker))
    case.act(
        settle(case, maker, order(case, "trader0", True), maker_signature=twin),
        reverts="order: invalid signature",
    )


def test_truncated_signature(case):
    """A 64-byte signature is refused."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False)
    short = orders.sign(case.state.book, maker)[:64]
    case.act(
        settle(case, maker, order(case, "trader0", True), maker_signature=short),
        reverts="order: invalid signature",
    )


def test_not_reduce_only(case):
    """A reduce-only order cannot open a position."""
    funded(case, "trader0", "trader1")
    maker = order(case, "trader1", False, reduce_only=True)
    case.act(settle(case, maker, order(case, "trader0", True)), reverts="order: not reduce-only")


def test_reduce_only_cannot_flip(case):
    """A reduce-only sell larger than the long it reduces is refused."""
    funded(case, "trader0", "trader1", "trader2")
    case(settle_trade("trader0", "trader1", 5, PRICE))
    maker = order(case, "trader0", False, reduce_only=True)
    case.act(settle(case, maker, order(case, "trader2", True)), reverts="order: not reduce-only")


def test_market_mismatch(case):
    """Two orders for different markets do not match."""
    taker = replace(order(case, "trader0", True), market=1)
    case.act(settle(case, order(case, "trader1", False), taker), reverts="order: market mismatch")


def test_same_side(case):
    """Two buys do not match."""
    case.act(
        settle(case, order(case, "trader1", True), order(case, "trader0", True)),
        reverts="order: same side",
    )


def test_cancel_not_signer(case):
    """Only an order's trader cancels it."""
    made = cancel(case, order(case, "trader0", True), sender="trader1")
    case.act(made, reverts="order: not signer")


def test_cancel_twice(case):
    """An order is cancelled once."""
    made = cancel(case, order(case, "trader0", True))
    case(made)
    case.act(made, reverts="order: already cancelled")


def test_nonce_not_increasing(case):
    """A nonce floor only rises."""
    case("invalidate_nonces", "trader0", 5, target="settlement")
    case.act(
        "invalidate_nonces", "trader0", 5, target="settlement",
        reverts="order: nonce not increasing",
    )  # fmt: skip
