"""Actions that reach rare states on purpose (issue 21): states the ordinary mix meets
seldom or never, each built from the current spec state and checked on both machines
like any other action. ``rare.observe`` counts what they reach, from the states alone.

- ``tie_deleverage``: three winners short at one price and one size against one loser,
  whom a gap bankrupts: equal ADL ranks (the queue's tie-break) and equal water-fill
  fractions (the remainder's tie-break), several fills and a remainder in one call.
- ``rotate_roles``: every role changes hands (guardian, oracle, operator through the
  timelock; the Governor's ownership by its two steps), then every privileged function
  is called by every other role's holder and by its own role's former holder (all
  refused), then every role comes back.
- ``fill_markets``: markets listed through the timelock up to ``MAX_MARKETS``, and one
  more (refused); at ``MAX_MARKETS``, a market delisted, emptied by anyone's
  ``deleverage`` of its last holders and listed again in its slot, where an order and a
  Governor call made for the market settled there are refused (N1).
- ``crowd``: a market filled with small positions up to the trade cap (one pair more is
  refused), then liquidators taking pieces of a leveraged long into the reserved slots,
  up to the holder bound (one more is refused). A deployment of ``N_TRADERS`` traders has
  too few accounts for the bound; the branch test runs this on a larger one.
- ``at_maintenance``: a price, found by bisection on trial copies, and a deposit that put
  an account's equity exactly at its maintenance requirement; a liquidation is refused.
- ``at_min_notional``: two flat traders trade a size and a price (inside the band) whose
  notional is exactly the market's minimum.
- ``order_expiry``: orders signed now with a lifetime of an hour to a week, a wait of
  exactly the lifetime (the fill lands in the second it expires) or one second more
  (refused, the maker's or the taker's order).
"""

from __future__ import annotations

from dataclasses import replace

from deployment.config import asset_id
from harness.core import orders, recompute
from harness.core.call import CLOCK, Call, Calldata, bundle
from harness.core.choices import Choices, World
from harness.core.genesis import ATTACKER, LISTED_ASSETS, USDC
from harness.core.governance_actions import market_params, name_of
from harness.core.orders import Match
from harness.core.rare import PRIVILEGED, callers_required
from harness.core.spec_step import spec_apply
from pyspec.constants import (
    LIQUIDATOR_RESERVE,
    MAX_MARKETS,
    MAX_POSITIONS_PER_MARKET,
    RATIO_PRECISION,
)
from pyspec.governance import market_key
from pyspec.state import get_position


def _engine(fn: str, sender: str, *args) -> Call:
    return Call("engine", fn, sender, args)


def _wait(seconds: int) -> Call:
    return Call(CLOCK, "wait", "", (seconds,))


def _refresh(world: World, timestamp: int, markets=None) -> list[Call]:
    """Every live market's price published again at ``timestamp`` (after a wait)."""
    state = world.state
    return [
        _engine("update_price", "oracle", m, market.price, timestamp)
        for m, market in enumerate(state.markets)
        if market.price > 0 and not market.settled and (markets is None or m in markets)
    ]


def _fresh_start(world: World, market_id: int, but=None) -> tuple[list[Call], int]:
    """A wait past the market's last price, and every price (but market ``but``'s)
    published again: fresh prices at a timestamp later than their last."""
    state = world.state
    now = max(state.timestamp, *(m.price_timestamp for m in state.markets)) + 1
    others = [m for m in range(len(state.markets)) if m != but]
    return [_wait(now - state.timestamp), *_refresh(world, now, others)], now


def _flat(world: World, market_id: int) -> list[str]:
    state = world.state
    return [t for t in world.traders if get_position(state, world.actors[t], market_id).size == 0]


def _free(world: World, who: str) -> int:
    """What ``who`` has above its initial margin (recomputed from the raw state)."""
    address = world.actors[who]
    return max(recompute.equity(world.state, address) - recompute.initial(world.state, address), 0)


def _live(world: World) -> list[int]:
    return [m for m, market in enumerate(world.state.markets) if not market.settled]


def _pick_live(world: World, choose: Choices) -> int | None:
    """A market not settled, or None when every one is."""
    live = _live(world)
    return choose.pick(live) if live else None


def tie_deleverage(world: World, choose: Choices) -> list[Call]:
    """Three winners at one price and one size, one loser at 10x, a gap, a deleverage."""
    live = _live(world)
    if not live:
        return [_wait(1)]
    market_id = max(live, key=lambda m: (len(_flat(world, m)), -m))
    flat = _flat(world, market_id)
    if len(flat) < 4 or world.state.markets[market_id].price == 0:
        return [_wait(1)]  # too few free traders, or a market never priced
    picked = [flat.pop(choose.integer(0, len(flat) - 1)) for _ in range(4)]
    loser, winners = picked[0], picked[1:]
    market = world.state.markets[market_id]
    price = market.price
    calls, now = _fresh_start(world, market_id)
    collateral = choose.pick((300, 1_000, 3_000)) * USDC
    calls.append(_engine("deposit", loser, collateral))
    collateral += _free(world, loser)
    # the loser near 10x: its whole deposit at the market's initial margin, in thirds
    lots = collateral * RATIO_PRECISION // (price * market.initial_margin_ratio) * 9 // 10 // 3
    lots = max(lots, 1)
    for winner in winners:
        calls += [
            _engine("deposit", winner, 20_000 * USDC),
            Match(loser, winner, market_id, lots, price, choose.chance(1, 2)),
        ]
    gap = price - price * choose.pick((200_000, 300_000, 450_000)) // RATIO_PRECISION
    calls += [
        _wait(1),
        _engine("update_price", "oracle", market_id, max(gap, 1), now + 1),
        _engine("deleverage", choose.pick(("outsider", *world.traders)), loser),
    ]
    return calls


# -- roles ------------------------------------------------------------------------------

GENESIS_ROLES = {"owner": "owner", "guardian": "owner", "oracle": "oracle", "operator": "operator"}
ROLE_SETTERS = (
    ("guardian", "engine", "set_guardian"),
    ("oracle", "engine", "set_oracle"),
    ("operator", "settlement", "set_operator"),
)


def rotate_roles(world: World, choose: Choices) -> list[Call]:
    """Every role to a new holder, every privileged function called by every other
    role's holder and its own role's former holder, every role back."""
    state = world.state
    names = {a: n for n, a in world.actors.items()}
    current = {
        "owner": names[state.timelock.owner],
        "guardian": names[state.guardian],
        "oracle": names[state.oracle],
        "operator": names[state.book.operator],
    }
    if any(current[r] != g for r, g in GENESIS_ROLES.items()):
        return [_wait(1)]  # a role is already away: the action starts from the genesis roles
    left = list(world.traders)
    holders = {role: left.pop(choose.integer(0, len(left) - 1)) for role in current}
    delay = state.timelock.delay
    calls = _hand_roles(holders, "owner", delay)
    calls += [
        Call("governor", "transfer_ownership", "owner", (holders["owner"],)),
        Call("governor", "accept_ownership", holders["owner"], ()),
    ]
    for (target, fn), own in PRIVILEGED.items():
        for role in callers_required((target, fn)):
            caller = GENESIS_ROLES[own] if role == "former" else holders[role]
            calls.append(_privileged_call(world, target, fn, caller))
    calls += _around_the_settlement(world, holders)
    back = _hand_roles(GENESIS_ROLES, holders["owner"], delay)
    later = state.timestamp + 2 * delay
    return [
        *calls,
        *back,
        Call("governor", "transfer_ownership", holders["owner"], ("owner",)),
        Call("governor", "accept_ownership", "owner", ()),
        *_refresh(world, later),
    ]


def _around_the_settlement(world: World, holders: dict) -> list[Call]:
    """The engine's trade entry called around the Settlement, which checks both signed
    orders: by every role's holder, the genesis operator and the attacker contract. Each
    must be refused (``auth: not settlement``): one that passed would trade for anyone."""
    trade = ("trader0", "trader1", 0, 1, max(world.state.markets[0].price, 1), True)
    callers = [*holders.values(), GENESIS_ROLES["operator"]]
    calls = [Call("engine", "settle_trade", caller, trade) for caller in callers]
    return [*calls, bundle(holders["operator"], Call("engine", "settle_trade", ATTACKER, trade))]


def _hand_roles(holders: dict, owner: str, delay: int) -> list[Call]:
    data = [(target, Calldata(fn, (holders[role],))) for role, target, fn in ROLE_SETTERS]
    return [
        *(Call("governor", "schedule", owner, (t, d)) for t, d in data),
        _wait(delay),
        *(Call("governor", "execute", "outsider", (t, d)) for t, d in data),
    ]


def _privileged_call(world: World, target: str, fn: str, caller: str) -> Call:
    state = world.state
    if fn == "settle":
        market = state.markets[0]
        return orders.match_call(
            state, world.actors, "trader0", "trader1", 0, 1, market.price, True, caller
        )
    args = {
        "update_price": (0, max(state.markets[0].price, 1), state.timestamp),
        "set_funding_rate": (0, 0),
        "set_market_paused": (0, False),
        "schedule": ("engine", Calldata("set_guardian", ("outsider",))),
        "cancel": (bytes(32),),
        "transfer_ownership": ("outsider",),
        "set_oracle": ("outsider",),
        "set_guardian": ("outsider",),
        "set_market_params": (0, market_params(world, 0)),
        "delist_market": (0,),
        "withdraw_insurance": (1,),
        "set_operator": ("outsider",),
    }[fn]
    return Call(target, fn, caller, args)


# -- the population ---------------------------------------------------------------------


def fill_markets(world: World, choose: Choices) -> list[Call]:
    """List markets like market 0 up to MAX_MARKETS through the timelock, then one more
    (refused: too many markets); every price published after the delay."""
    state = world.state
    if not choose.chance(1, 3):  # eight markets dilute the rest of the sequence: seldom
        return [_wait(1)]
    if len(state.markets) == MAX_MARKETS:
        return _relist(world, choose, state.timestamp)
    base = market_params(world, 0)
    listings = []
    for i in range(MAX_MARKETS - len(state.markets) + 1):
        params = list(base)
        params[-1] = base[-1] + i + 1  # the minimum notional: each listing its own call
        listings.append(Calldata("add_market", (tuple(params), asset_id(f"listed-{i}"))))
    later = state.timestamp + state.timelock.delay
    first_new = len(state.markets)
    calls = [Call("governor", "schedule", "owner", ("engine", d)) for d in listings]
    calls += [_wait(state.timelock.delay)]
    calls += [Call("governor", "execute", "outsider", ("engine", d)) for d in listings]
    calls += _refresh(world, later)
    price = choose.pick((10**6, 25 * 10**6))
    calls += [
        _engine("update_price", "oracle", m, price, later) for m in range(first_new, MAX_MARKETS)
    ]
    if choose.chance(1, 2):  # and on to a market settled and listed again in its slot
        calls += _relist(world, choose, later)
    return calls


def _relist(world: World, choose: Choices, start: int) -> list[Call]:
    """A settled market frees its slot (N1), from block time ``start`` (the markets up to
    ``MAX_MARKETS`` listed by then): one of the markets the state has (a live one, or a
    settled one) is delisted through the timelock at a fresh price, anyone's
    ``deleverage`` settles each holder left there, and a new market is listed in the slot
    and traded. An order signed for the market settled there, and a Governor call
    scheduled for it before, then fail on both sides."""
    state, actors = world.state, world.actors
    market_id = choose.integer(0, len(state.markets) - 1)
    market = state.markets[market_id]
    key = market_key(state, market_id)
    traders = [t for t in world.traders if _free(world, t) > 10 * USDC]
    stale = []
    if len(traders) >= 2 and market.price > 0 and not market.settled:
        # signed now for this listing, submitted after the relisting
        a, b = traders[:2]
        stale.append(orders.match_call(state, actors, a, b, market_id, 1, market.price, True))
    delay = state.timelock.delay
    now = max(start, *(m.price_timestamp for m in state.markets)) + 1
    calls = [_wait(now - start), *_refresh(world, now)]
    params = list(market_params(world, market_id))
    params[-1] += 1  # its own listing call
    # a parameter change scheduled for this listing while it is listed (the Governor takes
    # it), executed once another market holds the slot: the engine refuses it
    old_call = Calldata("set_market_params", (key, tuple(params)))
    calls.append(Call("governor", "schedule", "owner", ("engine", old_call)))
    delist = Calldata("delist_market", (key,))
    calls += [Call("governor", "schedule", "owner", ("engine", delist)), _wait(delay)]
    calls += _refresh(world, now + delay)  # the delisting needs a fresh price
    calls.append(Call("governor", "execute", "outsider", ("engine", delist)))
    known = set(actors.values())  # an account no actor holds is left alone
    holders = [name_of(world, a) for a in market.holders if a in known]
    calls += [_engine("deleverage", "outsider", name) for name in holders]
    listing = Calldata("add_market", (tuple(params), asset_id(choose.pick(LISTED_ASSETS))))
    later = now + 2 * delay
    calls += [Call("governor", "schedule", "owner", ("engine", listing)), _wait(delay)]
    calls.append(Call("governor", "execute", "outsider", ("engine", listing)))
    calls += _refresh(world, later, [m for m in range(MAX_MARKETS) if m != market_id])
    calls.append(_engine("update_price", "oracle", market_id, market.price or 10**6, later))
    if len(traders) >= 2:
        calls.append(Match(traders[0], traders[1], market_id, 1, market.price or 10**6))
    calls += stale
    calls.append(Call("governor", "execute", "outsider", ("engine", old_call)))
    return calls


def crowd(world: World, choose: Choices) -> list[Call]:
    """Fill a market: one leveraged long, then pairs of small positions up to the trade
    cap and one pair more; a 7% drop; liquidators taking a lot each of the long into the
    reserved slots, up to the holder bound, and one more."""
    state, actors = world.state, world.actors
    market_id = _pick_live(world, choose)
    if market_id is None:
        return [_wait(1)]
    market = state.markets[market_id]
    price = market.price
    holders = len(market.holders)
    flat = _flat(world, market_id)
    if len(flat) < 3 or price == 0:
        return [_wait(1)]
    calls, now = _fresh_start(world, market_id)
    long, short = flat.pop(0), flat.pop(0)
    margin = 500 * USDC + _free(world, long)
    lots = margin * RATIO_PRECISION // (price * market.initial_margin_ratio) * 95 // 100
    calls += [
        _engine("deposit", long, 500 * USDC),
        _engine("deposit", short, 20_000 * USDC),
        Match(long, short, market_id, max(lots, 1), price),
    ]
    holders += 2
    small = max(-(-market.min_position_notional // price), 1)
    deposit = small * price // 2 + 50 * USDC
    cap = MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE
    # pairs of new holders up to the cap (one new holder against the short when one slot
    # is left), then one trade more: refused
    while flat and holders <= cap:
        pair = len(flat) >= 2 and (cap - holders >= 2 or holders >= cap)
        a = flat.pop(0)
        b = flat.pop(0) if pair else short
        calls += [_engine("deposit", n, deposit) for n in dict.fromkeys((a, b))]  # in order
        calls.append(Match(a, b, market_id, small, price))
        if holders >= cap:
            flat[:0] = [a] if b == short else [a, b]  # refused: still flat, liquidators
            break
        holders += 2 if pair else 1
    others = [n for n in ("outsider", "owner") if _holds_nothing(world, n, market_id)]
    liquidators = flat + others
    calls += [_wait(1), _engine("update_price", "oracle", market_id, price * 93 // 100, now + 1)]
    for liquidator in liquidators[: LIQUIDATOR_RESERVE + 1]:
        calls += [
            _engine("deposit", liquidator, 1_000 * USDC),
            _engine("liquidate", liquidator, long, market_id, 1),
        ]
    if ATTACKER in actors:
        calls.append(orders_free_bundle(long, market_id))
    return calls


def orders_free_bundle(target: str, market_id: int) -> Call:
    """The attacker contract takes a lot over too (it has no key, only a bundle)."""
    from harness.core.call import bundle

    return bundle(
        "outsider",
        Call("engine", "deposit", ATTACKER, (1_000 * USDC,)),
        Call("engine", "liquidate", ATTACKER, (target, market_id, 1)),
    )


def _holds_nothing(world: World, name: str, market_id: int) -> bool:
    return get_position(world.state, world.actors[name], market_id).size == 0


# -- exact boundaries -------------------------------------------------------------------


def at_maintenance(world: World, choose: Choices) -> list[Call]:
    """A price, then a deposit, that put an account's equity exactly at its maintenance
    requirement; then a liquidation of it (refused: healthy at equality)."""
    state, actors = world.state, world.actors
    holding = [
        (t, m)
        for t in world.traders
        for m in range(len(state.markets))
        if get_position(state, actors[t], m).size and not state.markets[m].settled
    ]
    if not holding:
        return [_wait(1)]
    trader, market_id = choose.pick(holding)
    address = actors[trader]
    calls, now = _fresh_start(world, market_id, but=market_id)
    base = state.copy()
    for call in calls:
        base, _, _ = spec_apply(base, actors, call)

    def slack(price: int):
        trial, reason, _ = spec_apply(
            base.copy(), actors, _engine("update_price", "oracle", market_id, price, now)
        )
        if reason is not None:
            return None
        return recompute.equity(trial, address) - recompute.maintenance(trial, address)

    long = get_position(state, address, market_id).size > 0
    low, high = 1, max(state.markets[market_id].price * 3, 2)
    # the slack grows with the price for a long, falls for a short: the last price at or
    # below zero on the losing side
    for _ in range(60):
        if high - low <= 1:
            break
        middle = (low + high) // 2
        value = slack(middle)
        if value is None:
            return [_wait(1)]
        if (value <= 0) == long:
            low = middle
        else:
            high = middle
    price = low if long else high
    value = slack(price)
    if value is None or value > 0:
        return [_wait(1)]
    calls.append(_engine("update_price", "oracle", market_id, price, now))
    if value < 0:
        calls.append(_engine("deposit", trader, -value))
    liquidator = choose.pick([t for t in world.traders if t != trader])
    return [*calls, _engine("liquidate", liquidator, trader, market_id, 1)]


def at_min_notional(world: World, choose: Choices) -> list[Call]:
    """The oracle publishes the minimum notional over a few lots (a lot is usually worth
    more than the minimum), and two flat traders trade those lots at that price: a
    notional exactly at the minimum."""
    state = world.state
    options = [
        m for m in _live(world) if state.markets[m].min_position_notional and _flat(world, m)[1:]
    ]
    if not options:
        return [_wait(1)]
    market_id = choose.pick(options)
    minimum = state.markets[market_id].min_position_notional
    size = choose.pick([s for s in (1, 2, 4, 5, 10) if minimum % s == 0] or [1])
    price = minimum // size
    flat = _flat(world, market_id)
    buyer = flat.pop(choose.integer(0, len(flat) - 1))
    seller = choose.pick(flat)
    calls, now = _fresh_start(world, market_id, but=market_id)
    return [
        *calls,
        _engine("update_price", "oracle", market_id, price, now),
        _engine("deposit", buyer, 100 * USDC),
        _engine("deposit", seller, 100 * USDC),
        Match(buyer, seller, market_id, size, price, choose.chance(1, 2)),
    ]


ORDER_LIFETIMES = (3_600, 86_400, 7 * 86_400)


def order_expiry(world: World, choose: Choices) -> list[Call]:
    """Orders signed now for a lifetime; a wait of exactly that long (the fill lands in
    the second the order expires) or one second more (refused: expired, on the side that
    had the short lifetime)."""
    state, actors = world.state, world.actors
    market_id = _pick_live(world, choose)
    if market_id is None:
        return [_wait(1)]
    market = state.markets[market_id]
    buyer = choose.pick(world.traders)
    seller = choose.pick([t for t in world.traders if t != buyer])
    size = max(market.min_position_notional // max(market.price, 1) + 1, 1)
    lifetime = choose.pick(ORDER_LIFETIMES)
    late = choose.chance(1, 2)
    buy = orders.make_order(state, actors[buyer], market_id, True, size, market.price)
    sell = orders.make_order(state, actors[seller], market_id, False, size, market.price)
    maker, taker = (sell, buy) if choose.chance(1, 2) else (buy, sell)
    short_side = choose.pick(("maker", "taker", "both"))
    expiry = state.timestamp + lifetime
    if short_side in ("maker", "both"):
        maker = replace(maker, expiry=expiry)
    if short_side in ("taker", "both"):
        taker = replace(taker, expiry=expiry)
    wait = lifetime + (1 if late else 0)
    later = state.timestamp + wait
    settle = orders.settle_call(state, actors, maker, taker, size, market.price)
    return [
        _engine("deposit", buyer, 100 * USDC),
        _engine("deposit", seller, 100 * USDC),
        _wait(wait),
        *_refresh(world, later),
        settle,
    ]
