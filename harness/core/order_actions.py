"""The signed-order actions of the policy (``harness.core.actions``): matches with one
defect each (expired, overfilled, replayed, cancelled, below the nonce floor, signed for
another chain or contract or by another key, malleable, truncated, beyond a limit, not
reduce-only, mismatched), valid partial and reduce-only fills, cancels and nonce floors.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core import orders
from harness.core.call import Call
from harness.core.choices import Choices, World, mostly
from pyspec.state import get_position

BAD_ORDER_KINDS = (
    "expired", "overfilled", "replayed", "cancelled", "nonce", "wrong_chain",
    "wrong_contract", "wrong_signer", "high_s", "truncated", "limit", "reduce_only",
    "reduce_ok", "mismatch", "same_side", "partial",
)  # fmt: skip


def bad_order(world: World, choose: Choices) -> list[Call]:
    """A small match with one defect in its orders (or a valid partial or reduce-only
    fill): each defect has its own reason, on both sides."""
    state, actors = world.state, world.actors
    book = state.book
    buyer = choose.pick(world.traders)
    seller = choose.pick([t for t in world.traders if t != buyer])
    market_id = choose.integer(0, len(state.markets) - 1)
    price = state.markets[market_id].price
    size = choose.integer(1, 5)
    kind = choose.pick(BAD_ORDER_KINDS)
    buy = orders.make_order(state, actors[buyer], market_id, True, size, price)
    sell = orders.make_order(state, actors[seller], market_id, False, size, price)
    maker, taker = (sell, buy) if choose.chance(1, 2) else (buy, sell)
    maker_signature = None
    calls = []
    if kind in SIDED_DEFECTS and choose.chance(1, 2):  # the taker's order has the defect
        taker, calls = _defect(world, choose, kind, taker, size)
    elif kind in SIDED_DEFECTS:
        maker, calls = _defect(world, choose, kind, maker, size)
    elif kind == "wrong_chain":
        maker_signature = orders.sign(book, maker, chain_id=1)
    elif kind == "wrong_contract":
        maker_signature = orders.sign(book, maker, verifying_contract=state.address)
    elif kind == "wrong_signer":
        maker_signature = orders.sign(book, maker, signer=taker.trader)
    elif kind == "high_s":
        maker_signature = orders.high_s_twin(orders.sign(book, maker))
    elif kind == "truncated":
        maker_signature = orders.sign(book, maker)[:64]
    elif kind == "limit":
        tighter = price - 1 if maker.is_buy else price + 1
        maker = replace(maker, limit_price=max(tighter, 0))
    elif kind in ("reduce_only", "reduce_ok"):
        held = get_position(state, maker.trader, market_id).size
        if kind == "reduce_ok" and held != 0:  # the maker closes part of its position
            size = max(abs(held) // 2, 1)
            maker = replace(maker, is_buy=held < 0, size=size)
            taker = replace(taker, is_buy=held > 0, size=size)
        maker = replace(maker, reduce_only=True)
    elif kind == "mismatch":
        taker = replace(taker, market=(market_id + 1) % len(state.markets))
    elif kind == "same_side":
        taker = replace(taker, is_buy=maker.is_buy)
    elif kind == "partial":  # the maker's order fills in two matches
        maker = replace(maker, size=2 * size)
    call = orders.settle_call(state, actors, maker, taker, size, price, "operator", maker_signature)
    calls.append(call)
    if kind == "replayed":
        calls.append(call)
    elif kind == "partial":
        other = replace(taker, nonce=taker.nonce + 1)
        calls.append(orders.settle_call(state, actors, maker, other, size, price))
    return calls


SIDED_DEFECTS = ("expired", "overfilled", "cancelled", "nonce")


def _defect(world: World, choose: Choices, kind: str, order, size: int):
    """``order`` with the defect ``kind`` (one of ``SIDED_DEFECTS``), and the calls that
    make it (a cancel, a nonce floor)."""
    if kind == "expired":
        return replace(order, expiry=world.state.timestamp - choose.pick((1, 3_600))), []
    if kind == "overfilled":
        return replace(order, size=size - 1), []
    if kind == "cancelled":
        return order, [cancel(world, order)]
    trader = names(world)[order.trader]
    return order, [Call("settlement", "invalidate_nonces", trader, (order.nonce + 1,))]


def cancel(world: World, order) -> Call:
    trader = names(world)[order.trader]
    return Call("settlement", "cancel_order", trader, (orders.named_order(order, names(world)),))


def cancel_order(world: World, choose: Choices) -> list[Call]:
    """A trader cancels an order; sometimes twice, or someone else tries."""
    state = world.state
    trader = choose.pick(world.traders)
    market_id = choose.integer(0, len(state.markets) - 1)
    order = orders.make_order(
        state,
        world.actors[trader],
        market_id,
        choose.chance(1, 2),
        1,
        state.markets[market_id].price,
    )
    call = cancel(world, order)
    kind = choose.pick(("ok", "ok", "twice", "stranger"))
    if kind == "twice":
        return [call, call]
    if kind == "stranger":
        return [Call("settlement", "cancel_order", "outsider", call.args)]
    return [call]


def invalidate_nonces(world: World, choose: Choices) -> list[Call]:
    """A trader voids every order below a nonce; sometimes one not above its floor."""
    trader = choose.pick(world.traders)
    floor = world.state.book.min_nonce.get(world.actors[trader], 0)
    nonce = mostly(choose, lambda: floor + choose.integer(1, 3), lambda: floor)
    return [Call("settlement", "invalidate_nonces", trader, (nonce,))]


def names(world: World) -> dict[str, str]:
    return {address: name for name, address in world.actors.items()}
