"""The governance and liveness actions of the policy (``harness.core.actions``): calls
through the Governor's timelock (scheduled, waited out or not, executed, cancelled),
ownership handovers, the guardian's pause, and exits: requested, taken over, escaped.
"""

from __future__ import annotations

from harness.core import orders
from harness.core.call import CLOCK, Call, Calldata
from harness.core.choices import Choices, World, mostly
from harness.core.genesis import USDC
from harness.core.resident_actions import live_positions
from harness.core.spec_step import encode_calldata
from pyspec import governor
from pyspec.constants import (
    ADL_POLICY_COUNT,
    EXIT_DELAY,
    EXIT_WINDOW,
    MAX_MARKETS,
    RATIO_PRECISION,
)
from pyspec.governance import MARKET_PARAMS, market_key

GOVERN_KINDS = (
    ("params",) * 6 + ("policy",) * 4 + ("guardian", "oracle", "operator")
    + ("too_early", "cancel", "outsider", "not_allowed", "delist")
)  # fmt: skip


def governor_call(fn: str, sender: str, *args) -> Call:
    return Call("governor", fn, sender, args)


def governed(world: World, target: str, fn: str, *args, wait: bool = True) -> list[Call]:
    """Schedule ``fn(*args)`` on ``target`` through the timelock, wait the delay out and
    execute it (anyone may)."""
    data = Calldata(fn, args)
    calls = [governor_call("schedule", "owner", target, data)]
    if wait:
        calls.append(Call(CLOCK, "wait", "", (world.state.timelock.delay,)))
    return [*calls, governor_call("execute", "outsider", target, data)]


def governed_fresh(world: World, fn: str, *args) -> list[Call]:
    """``governed`` on the engine, with every live market's price published again after
    the delay (the delay aged them; a fund withdrawal scans holders at fresh prices)."""
    schedule, wait, execute = governed(world, "engine", fn, *args)
    later = world.state.timestamp + world.state.timelock.delay
    prices = [
        Call("engine", "update_price", "oracle", (m, market.price, later))
        for m, market in enumerate(world.state.markets)
        if market.price > 0 and not market.settled
    ]
    return [schedule, wait, *prices, execute]


def name_of(world: World, address: str) -> str:
    return next((n for n, a in world.actors.items() if a == address), address)


def market_params(world: World, market_id: int) -> tuple:
    market = world.state.markets[market_id]
    return tuple(getattr(market, name) for name in MARKET_PARAMS)


def govern(world: World, choose: Choices) -> list[Call]:
    """One change through the timelock: new risk parameters (sometimes out of bounds:
    the engine's reason comes back through ``execute``) or ADL policy; a role handed to
    another actor and back; an early execution, a cancel, a stranger scheduling, a call
    outside the allowlist; rarely, delisting market 1 (final settlement)."""
    state = world.state
    live = [i for i, m in enumerate(state.markets) if not m.settled]
    market_id = choose.pick(live) if live else 0
    kind = choose.pick(GOVERN_KINDS)
    if kind in ("params", "policy"):
        params = list(market_params(world, market_id))
        if kind == "policy":
            params[MARKET_PARAMS.index("adl_policy")] = choose.integer(0, ADL_POLICY_COUNT - 1)
        else:
            field = choose.pick(("initial_margin_ratio", "maintenance_margin_ratio",
                                 "max_funding_rate", "taker_fee_ratio", "max_price_age",
                                 "min_position_notional", "price_band_ratio"))  # fmt: skip
            i = MARKET_PARAMS.index(field)
            params[i] = mostly(
                choose,
                lambda: max(params[i] + choose.pick((-1, 1)) * params[i] // 5, 1),
                lambda: choose.pick((0, RATIO_PRECISION + 1, 2**64)),
            )
        key = listing_key(world, choose, market_id)
        return governed(world, "engine", "set_market_params", key, tuple(params))
    if kind in ("guardian", "oracle", "operator"):
        current = {
            "guardian": state.guardian,
            "oracle": state.oracle,
            "operator": state.book.operator,
        }[kind]
        target, fn = (
            ("settlement", "set_operator") if kind == "operator" else ("engine", f"set_{kind}")
        )
        other = choose.pick([*world.traders, "outsider"])
        return [
            *governed(world, target, fn, other),
            *governed(world, target, fn, name_of(world, current)),
        ]
    if kind == "too_early":
        return governed(world, "engine", "set_guardian", "owner", wait=False)
    if kind == "cancel":
        data = Calldata("set_guardian", ("outsider",))
        encoded = encode_calldata("set_guardian", (world.actors["outsider"],))
        ident = governor.call_id(world.actors["engine"], encoded)
        return [
            governor_call("schedule", "owner", "engine", data),
            governor_call("cancel", "owner", ident),
            governor_call("execute", "outsider", "engine", data),
        ]
    if kind == "outsider":
        stranger = choose.pick([*world.traders, "outsider"])
        return [governor_call("schedule", stranger, "engine", Calldata("set_oracle", (stranger,)))]
    if kind == "not_allowed":
        return [governor_call("schedule", "owner", "engine", bytes.fromhex("a9059cbb"))]
    market_id = len(state.markets) - 1
    key = listing_key(world, choose, market_id)
    if state.markets[market_id].settled:
        return governed(world, "engine", "delist_market", key)  # "market: settled"
    schedule, wait, execute = governed(world, "engine", "delist_market", key)
    fresh = state.timestamp + state.timelock.delay  # the delay aged the price: publish it again
    price = Call(
        "engine", "update_price", "oracle", (market_id, state.markets[market_id].price, fresh)
    )
    return [schedule, wait, price, execute]


def listing_key(world: World, choose: Choices, market_id: int) -> int:
    """The key a Governor call names the market in slot ``market_id`` by; sometimes the
    key of another generation of the slot, which no listing there holds now (``market:
    unknown market``; a listing's generation is a hash, issue 18: the relisting action
    names the settled listing's own key)."""
    key = market_key(world.state, market_id)
    if choose.chance(1, 8):
        generation = world.state.markets[market_id].generation
        return market_id + MAX_MARKETS * (generation ^ 1)
    return key


def hand_over(world: World, choose: Choices) -> list[Call]:
    """Two-step ownership of the Governor: the owner names an actor, who accepts (or a
    stranger tries), and the ownership comes back the same way."""
    heir = choose.pick([*world.traders, "outsider"])
    accepter = mostly(choose, lambda: heir, lambda: "owner")
    return [
        governor_call("transfer_ownership", "owner", heir),
        governor_call("accept_ownership", accepter),
        governor_call("transfer_ownership", heir, "owner"),
        governor_call("accept_ownership", "owner"),
    ]


def pin_adl_policy(world: World, policy: int) -> list[Call]:
    """Set every market to ``policy`` through the timelock (the start of a campaign or a
    lab run for one policy), then publish every price again: the delay aged them."""
    later = world.state.timestamp + world.state.timelock.delay
    data = [
        Calldata(
            "set_market_params",
            (market_key(world.state, m), with_policy(market_params(world, m), policy)),
        )
        for m in range(len(world.state.markets))
    ]
    return [
        *(governor_call("schedule", "owner", "engine", d) for d in data),
        Call(CLOCK, "wait", "", (world.state.timelock.delay,)),
        *(governor_call("execute", "outsider", "engine", d) for d in data),
        *(
            Call("engine", "update_price", "oracle", (m, market.price, later))
            for m, market in enumerate(world.state.markets)
        ),
    ]


def with_policy(params: tuple, policy: int) -> tuple:
    """``params`` (``MARKET_PARAMS`` order) with ``policy`` as the ADL policy."""
    i = MARKET_PARAMS.index("adl_policy")
    return (*params[:i], policy, *params[i + 1 :])


def pause(world: World, choose: Choices) -> list[Call]:
    """The guardian pauses or resumes a market; mostly it flips the flag, so a paused
    market resumes soon; sometimes a stranger tries."""
    n = len(world.state.markets)
    market_id = mostly(choose, lambda: choose.integer(0, n - 1), lambda: n)
    paused = world.state.markets[market_id].paused if market_id < n else False
    flag = mostly(choose, lambda: not paused, lambda: paused)
    guardian = name_of(world, world.state.guardian)
    caller = mostly(choose, lambda: guardian, lambda: "outsider")
    return [Call("engine", "set_market_paused", caller, (market_id, flag))]


EXIT_KINDS = ("take",) * 10 + (
    "escape", "escape", "stale_escape", "early", "self", "stale", "cancel", "lapse", "revive",
    "busy",
)  # fmt: skip


def exit_position(world: World, choose: Choices) -> list[Call]:
    """A trader asks to leave a position at the oracle price; mostly another trader takes
    it over. The adversaries of the escape hatch (N1, N3): the operator gone (nobody trades
    for EXIT_DELAY, then anyone escapes at a fresh price, or at a stale one); an escape too
    early, a self-take, a take of a request nobody made; a request withdrawn, or left to
    lapse and escaped weeks later; a request the trader revives by changing its position
    (taking another's exit) before escaping."""
    state = world.state
    holders = live_positions(world, world.traders)
    if not holders:
        trader = choose.pick(world.traders)
        return [Call("settlement", "request_exit", trader, (0,))]
    trader, market_id = choose.pick(holders)
    request = Call("settlement", "request_exit", trader, (market_id,))
    taker = choose.pick([t for t in world.traders if t != trader])
    escape = Call("settlement", "escape", "outsider", (trader, market_id))
    kind = choose.pick(EXIT_KINDS)
    if kind == "take":
        return [request, Call("settlement", "take_exit", taker, (trader, market_id))]
    if kind in ("escape", "stale_escape", "lapse"):
        wait = EXIT_DELAY + (EXIT_WINDOW + 1 if kind == "lapse" else 0)
        calls = [Call(CLOCK, "wait", "", (1,)), request, Call(CLOCK, "wait", "", (wait,))]
        if kind != "stale_escape":
            later = state.timestamp + 1 + wait
            price = state.markets[market_id].price
            calls.append(Call("engine", "update_price", "oracle", (market_id, price, later)))
        return [*calls, escape]
    if kind == "revive":
        other = Call("settlement", "request_exit", taker, (market_id,))
        revive = Call("settlement", "take_exit", trader, (taker, market_id))
        later = state.timestamp + 1 + EXIT_DELAY
        price = state.markets[market_id].price
        return [
            Call(CLOCK, "wait", "", (1,)),
            request,
            other,
            revive,
            Call(CLOCK, "wait", "", (EXIT_DELAY,)),
            Call("engine", "update_price", "oracle", (market_id, price, later)),
            escape,
        ]
    if kind == "busy":  # the operator still matches others: the market runs, no escape
        others = [t for t in world.traders if t not in (trader, taker)]
        price = state.markets[market_id].price
        lots = state.markets[market_id].min_position_notional // max(price, 1) + 1
        later = state.timestamp + 2 + EXIT_DELAY
        return [
            Call(CLOCK, "wait", "", (1,)),
            request,
            Call("engine", "deposit", others[0], (1_000 * USDC,)),
            Call("engine", "deposit", taker, (1_000 * USDC,)),
            Call(CLOCK, "wait", "", (1,)),
            Call("engine", "update_price", "oracle", (market_id, price, state.timestamp + 2)),
            orders.match_call(state, world.actors, others[0], taker, market_id, lots, price, True),
            Call(CLOCK, "wait", "", (EXIT_DELAY,)),
            Call("engine", "update_price", "oracle", (market_id, price, later)),
            escape,
        ]
    if kind == "cancel":
        return [request, Call("settlement", "cancel_exit", trader, (market_id,)), escape]
    if kind == "early":
        return [request, escape]
    if kind == "self":
        return [request, Call("settlement", "take_exit", trader, (trader, market_id))]
    return [Call("settlement", "take_exit", taker, (taker, market_id))]
