"""The actions of a deployed instance's own users (``World.residents``; the audit's menu).

The harness holds no key of theirs, so a resident signs no order. It still takes positions
over without one: it takes a trader's exit request at the oracle price, or liquidates an
under-margined account. It also withdraws what it may (or more), asks to leave a position
and has a trader take it, or withdraws that request, or deleverages a bankrupt account as
its keeper.
"""

from __future__ import annotations

from harness.core.call import Call
from harness.core.choices import Choices, World, mostly
from harness.core.genesis import USDC
from pyspec import margin, views
from pyspec.constants import MAX_POSITION_SIZE
from pyspec.state import get_position

# What a resident does, by weight: ``take`` and ``liquidate`` are its ways to a position.
KINDS = ("withdraw", "withdraw", "exit", "cancel_exit", "keeper", "take", "liquidate")


def resident(world: World, choose: Choices) -> list[Call]:
    """One resident's action (a world with none: a trader's deposit)."""
    if not world.residents:
        trader = choose.pick(world.traders)
        return [Call("engine", "deposit", trader, (choose.integer(1, 20_000) * USDC,))]
    who = choose.pick(world.residents)
    kind = choose.pick(KINDS)
    if kind == "keeper":
        bankrupt = _target(world, choose, who, lambda s, a: margin.equity(s, a) < 0)
        return [Call("engine", "deleverage", who, (bankrupt,))]
    if kind == "liquidate":
        target = _target(world, choose, who, margin.is_liquidatable)
        held = [m for _, m in live_positions(world, [target])] or [0]
        market_id = choose.pick(held)
        size = abs(get_position(world.state, world.actors[target], market_id).size)
        max_size = choose.pick((MAX_POSITION_SIZE, size, max(size // 2, 1), 1))
        return [Call("engine", "liquidate", who, (target, market_id, max_size))]
    traders_held = live_positions(world, world.traders)
    if kind == "take" and traders_held:
        trader, market_id = choose.pick(traders_held)
        return [
            Call("settlement", "request_exit", trader, (market_id,)),
            Call("settlement", "take_exit", who, (trader, market_id)),
        ]
    held = [m for _, m in live_positions(world, [who])]
    if kind in ("exit", "cancel_exit") and held:
        market_id = choose.pick(held)
        request = Call("settlement", "request_exit", who, (market_id,))
        if kind == "cancel_exit":
            return [request, Call("settlement", "cancel_exit", who, (market_id,))]
        taker = choose.pick(world.traders)
        return [request, Call("settlement", "take_exit", taker, (who, market_id))]
    available = views.free_collateral(world.state, world.actors[who])
    value = mostly(
        choose,
        lambda: choose.pick((available, max(available // 2, 1))),
        lambda: available + choose.integer(1, 10 * USDC),
    )
    return [Call("engine", "withdraw", who, (value,))]


def live_positions(world: World, names) -> list[tuple[str, int]]:
    """(name, market) for each position the named accounts hold in a live market."""
    state = world.state
    return [
        (name, m)
        for name in names
        for m, market in enumerate(state.markets)
        if not market.settled and get_position(state, world.actors[name], m).size != 0
    ]


def _target(world: World, choose: Choices, who: str, predicate) -> str:
    """Mostly an account other than ``who`` that ``predicate(state, address)`` flags
    (bankrupt, or liquidatable), traders and residents alike; else any of them."""
    accounts = [t for t in (*world.traders, *world.residents) if t != who]
    flagged = [t for t in accounts if predicate(world.state, world.actors[t])]
    if flagged and choose.chance(9, 10):
        return choose.pick(flagged)
    return choose.pick(accounts)
