"""The action policy: which call to make next, written once.

Each action reads the spec state of a ``World`` (a pair, or a spec-only run) and takes
every decision through a ``Choices`` source, then returns the calls to make (usually one;
two when it first moves an actor onto a margin boundary). Two sources exist:
``HypothesisChoices`` (the state machine: hypothesis draws, so failures shrink) and
``RandomChoices`` (``random.Random``: the bench workload and the seeded random vectors).

Choices that need the state (who is liquidatable, how large a trade the poorer side can
afford) read the spec, which drives accounts to high leverage and prices through crashes
and spikes so that every branch of the solvency waterfall is reached. About one input in
ten is invalid on purpose. The decision sources are in ``choices``; the signed-order
actions (defective orders, cancels, nonce floors) in ``order_actions``.
"""

from __future__ import annotations

from collections.abc import Sequence

from deployment.config import asset_id
from harness.core import orders
from harness.core.adl_actions import dodge_deleverage, opposite_losers, owed_gain, twin_bankruptcy
from harness.core.bundle_actions import attack
from harness.core.call import CLOCK, VIEWS, Call
from harness.core.choices import (  # noqa: F401 (the policy's sources, used as actions.X)
    Choices,
    HypothesisChoices,
    RandomChoices,
    World,
    mostly,
)
from harness.core.genesis import LISTED_ASSETS, USDC
from harness.core.governance_actions import (  # noqa: F401 (pin_adl_policy: actions.X)
    exit_position,
    govern,
    governed,
    governed_fresh,
    hand_over,
    pause,
    pin_adl_policy,
)
from harness.core.order_actions import bad_order, cancel_order, invalidate_nonces
from harness.core.rare_actions import (
    at_maintenance,
    at_min_notional,
    crowd,
    fill_markets,
    order_expiry,
    rotate_roles,
    tie_deleverage,
)
from harness.core.resident_actions import resident
from harness.core.spec_step import spec_apply
from pyspec import adl, adl_allocator, margin, views
from pyspec.constants import (
    ADL_POLICY_COUNT,
    EXIT_DELAY,
    MAX_DEPOSIT,
    MAX_FEE_RATIO,
    MAX_FUNDING_RATE,
    MAX_MIN_POSITION_NOTIONAL,
    MAX_POSITION_SIZE,
    MAX_PRICE,
    MAX_PRICE_AGE,
    MAX_TRADE_SIZE,
    RATIO_PRECISION,
)
from pyspec.fixed_math import sign
from pyspec.state import State, get_position

SPECIAL_AMOUNTS = (0, 1, MAX_DEPOSIT, MAX_DEPOSIT + 1, 2**256 - 1)
# Relative price moves in parts per RATIO_PRECISION: drifts, crashes and spikes. Sampled
# from a grid (hypothesis biases plain integer ranges toward their bounds) plus jitter.
PRICE_MOVE_STEPS = (
    -700_000, -400_000, -200_000, -100_000, -60_000, -30_000, -10_000,
    10_000, 30_000, 60_000, 100_000, 200_000, 500_000, 1_000_000,
)  # fmt: skip
# Share of the affordable size a trade takes, in percent.
LEVERAGE_USE_PERCENT = (10, 25, 50, 75, 90, 95, 100, 105)
PRICE_UPDATE_KINDS = ("ok",) * 12 + ("stale", "future", "zero", "huge", "outsider", "unknown")


def price_stamp(state: State, market_id: int) -> tuple[list[Call], int]:
    """The timestamp of a valid price update now (later than the last, not in the future),
    after the wait it needs when the last price is from this very second."""
    last, now = state.markets[market_id].price_timestamp, state.timestamp
    if last < now:
        return [], now
    return [Call(CLOCK, "wait", "", (last + 1 - now,))], last + 1


def amount(choose: Choices) -> int:
    """Mostly an ordinary amount, sometimes one at or beyond a bound."""
    if choose.chance(3, 4):
        return choose.integer(1, 20_000 * USDC)
    return choose.pick(SPECIAL_AMOUNTS)


def free(world: World, who: str) -> int:
    return views.free_collateral(world.state, world.actors[who])


def engine_call(fn: str, sender: str, *args) -> Call:
    return Call("engine", fn, sender, args)


# -- actions ----------------------------------------------------------------------------


def opening_deposits(world: World, choose: Choices) -> list[Call]:
    """Every trader starts with collateral, so sequences reach leverage quickly."""
    return [
        engine_call("deposit", trader, choose.integer(500, 20_000) * USDC)
        for trader in world.traders
    ]


def deposit(world: World, choose: Choices) -> list[Call]:
    who = choose.pick([*world.traders, "outsider"])
    return [engine_call("deposit", who, amount(choose))]


def withdraw(world: World, choose: Choices) -> list[Call]:
    who = choose.pick(world.traders)
    available = free(world, who)
    value = mostly(
        choose,
        lambda: choose.integer(1, max(available, 1)),
        lambda: (
            choose.integer(available, available + 10 * USDC)
            if choose.chance(1, 2)
            else amount(choose)
        ),
    )
    return [engine_call("withdraw", who, value)]


def trade(world: World, choose: Choices) -> list[Call]:
    state, traders = world.state, world.traders
    n = len(state.markets)
    buyer = choose.pick(traders)
    seller = mostly(choose, lambda: choose.pick([t for t in traders if t != buyer]), lambda: buyer)
    market_id = mostly(choose, lambda: choose.integer(0, n - 1), lambda: n)
    caller = mostly(choose, lambda: "operator", lambda: "outsider")
    buyer_is_taker = choose.chance(1, 2)
    if market_id < n:
        market = state.markets[market_id]
        band = market.price_band_ratio
        deviation = mostly(
            choose, lambda: choose.integer(-band, band), lambda: choose.integer(-2 * band, 2 * band)
        )
        price = max(market.price + market.price * deviation // RATIO_PRECISION, 0)
        # Size near what the poorer side can afford: trades run at high leverage.
        poorer = min(free(world, buyer), free(world, seller))
        affordable = poorer * RATIO_PRECISION // max(price * market.initial_margin_ratio, 1)
        size = mostly(
            choose,
            lambda: max(affordable * choose.pick(LEVERAGE_USE_PERCENT) // 100, 1),
            lambda: choose.pick((0, 10**9 + 1)),
        )
    else:
        price, size = 1_000_000, 1
    call = match(world, buyer, seller, market_id, size, price, buyer_is_taker, caller)
    return _maybe_at_boundary(world, choose, choose.pick((buyer, seller)), call)


def match(world: World, buyer, seller, market_id, size, price, buyer_is_taker, sender="operator"):
    """The operator settles two orders the traders signed for exactly this fill."""
    return orders.match_call(
        world.state, world.actors, buyer, seller, market_id, size, price, buyer_is_taker, sender
    )


def move_price(world: World, choose: Choices) -> list[Call]:
    state = world.state
    n = len(state.markets)
    move = choose.pick(PRICE_MOVE_STEPS) + choose.integer(-5_000, 5_000)
    market_id = choose.integer(0, n - 1)
    market = state.markets[market_id]
    price = max(market.price + market.price * move // RATIO_PRECISION, 1)
    kind = choose.pick(PRICE_UPDATE_KINDS)
    waits, timestamp = price_stamp(state, market_id)
    if kind == "stale":
        waits, timestamp = [], market.price_timestamp
    elif kind == "future":
        waits, timestamp = [], state.timestamp + choose.pick((1, 3_600))
    if kind == "zero":
        price = 0
    elif kind == "huge":
        price = MAX_PRICE + choose.pick((0, 1))
    caller = "outsider" if kind == "outsider" else "oracle"
    target = n if kind == "unknown" else market_id
    return [*waits, engine_call("update_price", caller, target, price, timestamp)]


def keeper_away(world: World, choose: Choices) -> list[Call]:
    """The keeper never comes: a market drifts one way for three to six fresh prices, a
    minute to an hour apart, with no liquidation or deleverage between them; traders
    withdraw meanwhile. Losers sink far below bankruptcy before anyone
    acts, so the waterfall later meets deficits that a prompt keeper would have kept
    small (and the end-of-sequence liveness drain meets them if nobody ever comes)."""
    state = world.state.copy()
    market_id = choose.integer(0, len(state.markets) - 1)
    direction = choose.pick((-1, 1))
    calls = []
    for _ in range(choose.integer(3, 6)):
        wait = choose.pick((60, 600, 3_600))
        state.timestamp += wait
        price = state.markets[market_id].price
        price = max(
            price + direction * price * choose.integer(30_000, 150_000) // RATIO_PRECISION, 1
        )
        state.markets[market_id].price = price
        calls += [
            Call(CLOCK, "wait", "", (wait,)),
            engine_call("update_price", "oracle", market_id, price, state.timestamp),
        ]
        if choose.chance(1, 3):
            calls.append(engine_call("withdraw", choose.pick(world.traders), 10_000 * USDC))
    return calls


def liquidate(world: World, choose: Choices) -> list[Call]:
    """Mostly the whole allowed piece; sometimes a smaller one, one lot or zero."""
    target = _pick_account(
        world, choose, lambda who: margin.is_liquidatable(world.state, world.actors[who])
    )
    richest = max((t for t in world.traders if t != target), key=lambda t: free(world, t))
    liquidator = mostly(choose, lambda: richest, lambda: choose.pick(world.traders))
    market_id = _pick_market(world, choose, target)
    held = abs(get_position(world.state, world.actors[target], market_id).size)
    max_size = mostly(
        choose,
        lambda: choose.pick((MAX_POSITION_SIZE, held, max(held // 2, 1), 1)),
        lambda: choose.pick((0, 2**256 - 1)),
    )
    call = engine_call("liquidate", liquidator, target, market_id, max_size)
    return _maybe_at_boundary(world, choose, liquidator, call)


def deleverage(world: World, choose: Choices) -> list[Call]:
    target = _pick_account(
        world, choose, lambda who: margin.equity(world.state, world.actors[who]) < 0
    )
    keeper = choose.pick([*world.traders, "outsider"])
    return [engine_call("deleverage", keeper, target)]


def top_up_insurance(world: World, choose: Choices) -> list[Call]:
    who = choose.pick([*world.traders, "outsider", "owner"])
    return [engine_call("top_up_insurance", who, amount(choose))]


def withdraw_insurance(world: World, choose: Choices) -> list[Call]:
    state = world.state
    available = max(state.insurance_fund - state.insurance_floor, 0)
    value = mostly(
        choose,
        lambda: choose.integer(1, max(available, 1)),
        lambda: available + 1 if choose.chance(1, 2) else amount(choose),
    )
    if choose.chance(1, 8):  # only the Governor withdraws, after its delay (N6)
        return [engine_call("withdraw_insurance", choose.pick(("owner", "outsider")), value)]
    return governed_fresh(world, "withdraw_insurance", value)


def set_funding_rate(world: World, choose: Choices) -> list[Call]:
    """A funding rate per second, often beyond the market's bound (the contract clamps it)."""
    n = len(world.state.markets)
    market_id = mostly(choose, lambda: choose.integer(0, n - 1), lambda: n)
    bound = world.state.markets[min(market_id, n - 1)].max_funding_rate
    if choose.chance(1, 2):
        rate = choose.integer(-bound, bound)
    else:
        rate = choose.pick((-bound - 1, bound + 1, 0, -(10**12), -(2**255), 2**255 - 1))
    caller = mostly(choose, lambda: "oracle", lambda: "outsider")
    return [engine_call("set_funding_rate", caller, market_id, rate)]


def list_market(world: World, choose: Choices) -> list[Call]:
    """List a market, with parameters at and across their bounds."""
    imr = choose.pick((1, 50_000, 100_000, RATIO_PRECISION, RATIO_PRECISION + 1))
    mmr = choose.pick((0, 1, max(imr - 1, 0), imr))
    fee = choose.pick((0, max(mmr - 1, 0), mmr))
    band = choose.pick((0, 1, 50_000, RATIO_PRECISION, RATIO_PRECISION + 1))
    funding_bound = choose.pick((0, 1_388_888, MAX_FUNDING_RATE, MAX_FUNDING_RATE + 1))
    fees = (0, 500, MAX_FEE_RATIO, MAX_FEE_RATIO + 1)
    maker, taker = choose.pick(fees), choose.pick(fees)
    policy = choose.integer(0, ADL_POLICY_COUNT)  # the last one is invalid
    age = choose.pick((0, 1, 3_600, MAX_PRICE_AGE, MAX_PRICE_AGE + 1))
    min_notional = choose.pick((0, 1_000_000, MAX_MIN_POSITION_NOTIONAL + 1))
    listing = (imr, mmr, fee, band, funding_bound, maker, taker, policy, age, min_notional)
    asset = asset_id(choose.pick(LISTED_ASSETS))  # two assets may share one risk tier
    if choose.chance(1, 8):  # the owner at once, or a stranger: refused (N6)
        return [engine_call("add_market", choose.pick(("owner", "outsider")), listing, asset)]
    return governed(world, "engine", "add_market", listing, asset)


# Seconds that pass in one wait: a block, a minute, an hour, a day, a week.
WAITS = (1, 12, 60, 3_600, 86_400, 7 * 86_400)


def wait(world: World, choose: Choices) -> list[Call]:
    """Time passes (block time on both sides); no transaction."""
    return [Call(CLOCK, "wait", "", (choose.pick(WAITS),))]


def check_views(world: World, choose: Choices) -> list[Call]:
    """Compare the trader-facing views (equity, margins, liquidation and bankruptcy
    prices, ADL rank and quantile) of one or two traders between spec and chain."""
    first = choose.pick(world.traders)
    who = [first]
    if choose.chance(1, 2):
        who.append(choose.pick([t for t in world.traders if t != first]))
    return [Call(VIEWS, "check_views", "operator", tuple(who))]


# -- adversaries ------------------------------------------------------------------------


def collude(world: World, choose: Choices) -> list[Call]:
    """An account below maintenance reduces at the band's edge with a colluding account:
    the equity stripping of finding W6, which the trade ratio rule must refuse."""
    state = world.state
    weak = [
        t
        for t in world.traders
        if margin.is_liquidatable(state, world.actors[t])
        and state.accounts[world.actors[t]].positions
    ]
    if not weak:
        return trade(world, choose)
    who = choose.pick(weak)
    positions = state.accounts[world.actors[who]].positions
    market_id = choose.pick(sorted(positions))
    held = positions[market_id].size
    market = state.markets[market_id]
    edge = market.price * market.price_band_ratio // RATIO_PRECISION
    size = choose.pick((abs(held), max(abs(held) // 2, 1), 1))
    colluder = choose.pick([t for t in world.traders if t != who])
    if held > 0:  # the weak long sells at the bottom of the band
        buyer, seller, price = colluder, who, market.price - edge
    else:  # the weak short buys at the top
        buyer, seller, price = who, colluder, market.price + edge
    taker = choose.chance(1, 2)
    return [match(world, buyer, seller, market_id, size, price, taker)]


def self_dealing_pair(world: World, choose: Choices) -> list[Call]:
    """Two accounts of one owner hold both sides (N2): a thin long against a deep short,
    the price gaps past the long's bankruptcy, and the short asks to exit and escapes a day
    later with nobody trading, to be paid its profit in full by a settlement instead of a
    deleverage; or the long withdraws what it can before anyone deleverages it."""
    state = world.state
    long, short = choose.pick(world.traders), choose.pick(world.traders)
    market_id = choose.integer(0, len(state.markets) - 1)
    market = state.markets[market_id]
    if long == short or market.settled or market.price == 0:
        return trade(world, choose)
    price = market.price
    lots = max(9_000 * USDC // price, 1)
    gap = max(price * choose.integer(80, 92) // 100, 1)
    now = state.timestamp
    calls = [
        engine_call("deposit", long, 1_000 * USDC),
        engine_call("deposit", short, 20_000 * USDC),
        match(world, long, short, market_id, lots, price, choose.chance(1, 2)),
        Call(CLOCK, "wait", "", (1,)),
        engine_call("update_price", "oracle", market_id, gap, now + 1),
    ]
    if choose.chance(1, 3):
        return [*calls, engine_call("withdraw", long, choose.integer(1, 1_000) * USDC)]
    return [
        *calls,
        Call("settlement", "request_exit", short, (market_id,)),
        Call(CLOCK, "wait", "", (EXIT_DELAY,)),
        engine_call("update_price", "oracle", market_id, gap, now + 1 + EXIT_DELAY),
        Call("settlement", "escape", "outsider", (short, market_id)),
    ]


def front_run(world: World, choose: Choices) -> list[Call]:
    """An ADL counterparty of a bankrupt account (the queue's first, or any eligible one)
    deposits just before a public deleverage (finding W7): its place in the queue must not
    move, and under the pro-rata policies it only raises its own cap."""
    state = world.state
    bankrupt = [
        t
        for t in world.traders
        if margin.equity(state, world.actors[t]) < 0 and state.accounts[world.actors[t]].positions
    ]
    if not bankrupt:
        return deleverage(world, choose)
    who = choose.pick(bankrupt)
    positions = state.accounts[world.actors[who]].positions
    market_id = min(positions)
    queue = adl_allocator.queue_order(
        adl.side_holders(state, market_id, -sign(positions[market_id].size))
    )
    names = {address: name for name, address in world.actors.items()}
    calls = []
    if queue:
        depositor = names.get(queue[0 if choose.chance(1, 2) else -1].account)
        if depositor in world.traders:
            calls.append(engine_call("deposit", depositor, amount(choose)))
    keeper = choose.pick([*world.traders, "outsider"])
    return [*calls, engine_call("deleverage", keeper, who)]


def dust(world: World, choose: Choices) -> list[Call]:
    """Sybil-like one-lot trades at the oracle price between two traders."""
    buyer = choose.pick(world.traders)
    seller = choose.pick([t for t in world.traders if t != buyer])
    market_id = choose.integer(0, len(world.state.markets) - 1)
    price = world.state.markets[market_id].price
    return [match(world, buyer, seller, market_id, 1, price, True)]


def extremes(world: World, choose: Choices) -> list[Call]:
    """The declared bounds (finding W10): the oracle drops a market to 1 unit per lot, two
    traders trade MAX_TRADE_SIZE lots there, and the price comes back, so PnL, ranks and
    deficits reach magnitudes far beyond the usual mix."""
    state = world.state
    market_id = choose.integer(0, len(state.markets) - 1)
    market = state.markets[market_id]
    buyer = choose.pick(world.traders)
    seller = choose.pick([t for t in world.traders if t != buyer])
    back = choose.pick((market.price, MAX_PRICE))
    waits, ts = price_stamp(state, market_id)
    return [
        *waits,
        engine_call("update_price", "oracle", market_id, 1, ts),
        match(world, buyer, seller, market_id, MAX_TRADE_SIZE, 1, True),
        Call(CLOCK, "wait", "", (1,)),
        engine_call("update_price", "oracle", market_id, back, ts + 1),
    ]


# -- shared steering --------------------------------------------------------------------


def _pick_account(world: World, choose: Choices, predicate) -> str:
    """Mostly an account the predicate flags (when there is one; a resident too), else
    any trader."""
    flagged = [t for t in (*world.traders, *world.residents) if predicate(t)]
    if flagged and choose.chance(9, 10):
        return choose.pick(flagged)
    return choose.pick(world.traders)


def _pick_market(world: World, choose: Choices, who: str) -> int:
    """Mostly a market ``who`` holds a position in; sometimes any id, unknown included."""
    account = world.state.accounts.get(world.actors[who])
    held = sorted(account.positions) if account else []
    n = len(world.state.markets)
    if not held:
        return n
    return mostly(choose, lambda: choose.pick(held), lambda: choose.integer(0, n))


def _maybe_at_boundary(world: World, choose: Choices, actor: str, call: Call) -> list[Call]:
    """One time in four, first withdraw exactly what ``actor`` would have above its
    initial margin after ``call``, so that the call lands on the margin boundary (where a
    check written with the wrong comparison differs)."""
    if choose.chance(3, 4):
        return [call]
    trial, reason, _ = spec_apply(world.state.copy(), world.actors, call)
    if reason is not None:
        return [call]
    address = world.actors[actor]
    slack = margin.equity(trial, address) - margin.initial_margin(trial, address)
    if slack <= 0:
        return [call]
    return [engine_call("withdraw", actor, slack), call]


ACTIONS = {
    "trade": trade,
    "move_price": move_price,
    "liquidate": liquidate,
    "deleverage": deleverage,
    "deposit": deposit,
    "withdraw": withdraw,
    "withdraw_insurance": withdraw_insurance,
    "top_up_insurance": top_up_insurance,
    "check_views": check_views,
    "set_funding_rate": set_funding_rate,
    "bad_order": bad_order,
    "cancel_order": cancel_order,
    "invalidate_nonces": invalidate_nonces,
    "list_market": list_market,
    "govern": govern,
    "pause": pause,
    "hand_over": hand_over,
    "exit_position": exit_position,
    "wait": wait,
    "collude": collude,
    "front_run": front_run,
    "self_dealing_pair": self_dealing_pair,
    "dust": dust,
    "extremes": extremes,
    "attack": attack,
    "keeper_away": keeper_away,
    "dodge_deleverage": dodge_deleverage,
    "twin_bankruptcy": twin_bankruptcy,
    "owed_gain": owed_gain,
    "opposite_losers": opposite_losers,
    "tie_deleverage": tie_deleverage,
    "rotate_roles": rotate_roles,
    "fill_markets": fill_markets,
    "crowd": crowd,
    "at_maintenance": at_maintenance,
    "at_min_notional": at_min_notional,
    "order_expiry": order_expiry,
    "resident": resident,
}
# How often each action is chosen: hypothesis picks rules uniformly (and switches some
# off per example), which starves the waterfall; one weighted choice keeps it fed.
ACTION_WEIGHTS = {
    "trade": 30,
    "move_price": 15,
    "liquidate": 15,
    "deleverage": 8,
    "deposit": 8,
    "withdraw": 8,
    "withdraw_insurance": 3,
    "top_up_insurance": 4,
    "check_views": 3,
    "set_funding_rate": 8,
    "bad_order": 6,
    "cancel_order": 2,
    "invalidate_nonces": 1,
    "list_market": 1,
    "govern": 3,
    "pause": 2,
    "hand_over": 1,
    "exit_position": 3,
    "wait": 3,
    "collude": 3,
    "front_run": 2,
    "self_dealing_pair": 1,
    "dust": 2,
    "extremes": 1,
    "attack": 3,
    "keeper_away": 1,
    "dodge_deleverage": 4,
    "twin_bankruptcy": 2,
    "owed_gain": 2,
    "opposite_losers": 2,
    # rare states on purpose (``rare_actions``)
    "tie_deleverage": 2,
    "rotate_roles": 1,
    "fill_markets": 1,
    "crowd": 1,
    "at_maintenance": 2,
    "at_min_notional": 1,
    "order_expiry": 2,
}


def weighted(weights: dict[str, int]) -> tuple[str, ...]:
    """Each action name repeated by its weight: ``pick`` from it chooses by weight."""
    return tuple(name for name, weight in weights.items() for _ in range(weight))


def next_calls(world: World, choose: Choices, menu: Sequence[str]) -> list[Call]:
    """Choose an action from ``menu`` (see ``weighted``) and return its calls."""
    return ACTIONS[choose.pick(menu)](world, choose)
