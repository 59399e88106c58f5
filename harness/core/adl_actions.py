"""ADL adversaries (issue 19): what a winner or a keeper does once a deficit is public.

A bankrupt account exists at the current price; before (or instead of) the plain
``deleverage``, one of its winners closes and reopens at the oracle price, splits its
position onto another account, tops up or withdraws, has a sybil take its position over
(a liquidation, refused unless it is below maintenance), or the keeper takes the
bankrupt accounts in reverse order. The properties then judge the deleverages that follow:
``adl_order_free`` and ``adl_monotone_across_calls`` replay each round in both orders,
``adl_keeps_principal`` and ``adl_no_harm`` bound what each winner gives up. The dodge
itself is refused by the no-dodge gate (``adl: deficit pending``) and judged by
``adl_no_dodge``; these actions keep it exercised on both machines. ``owed_gain`` builds
the state a review found a free option in (M-1): an account whose deficit others paid
while it kept a position, which then gains. ``opposite_losers`` builds the one a fifth
review found the completion's order in: two bankrupt accounts at a loss on opposite
sides of one market (``adl_bankrupt_counterparty_last``).
"""

from __future__ import annotations

from harness.core.call import CLOCK, VIEWS, Call
from harness.core.choices import Choices, World
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.recompute import capacity, equity
from pyspec.constants import MAX_POSITION_SIZE, RATIO_PRECISION
from pyspec.margin import is_liquidatable
from pyspec.state import get_position

DODGES = (
    "close_reopen",
    "split",
    "top_up",
    "withdraw",
    "taken_over",
    "takeover_elsewhere",
    "reverse_keeper",
    "plain",
)
# Leverage of the twin longs, and the gap that bankrupts both, in parts per RATIO_PRECISION.
TWIN_LEVERAGE = 9
TWIN_GAP = 150_000


def dodge_deleverage(world: World, choose: Choices) -> list[Call]:
    """Mostly a bankrupt account's winners act first, then the keeper deleverages."""
    state, actors = world.state, world.actors
    bankrupt = sorted(
        (t for t in world.traders if _open(world, t) and equity(state, actors[t]) < 0),
        key=lambda t: int(actors[t], 16),
    )
    if not bankrupt:  # nothing public: a deleverage of a solvent account is refused
        return [Call("engine", "deleverage", "outsider", (choose.pick(world.traders),))]
    target = choose.pick(bankrupt)
    market_id = min(state.accounts[actors[target]].positions)
    side = 1 if get_position(state, actors[target], market_id).size > 0 else -1
    winners = [
        t
        for t in world.traders
        if get_position(state, actors[t], market_id).size * side < 0
        and capacity(state, actors[t], market_id) > 0
    ]
    keeper = choose.pick(("outsider", *world.traders))
    kind = choose.pick(DODGES)
    if kind == "reverse_keeper":
        return [Call("engine", "deleverage", keeper, (t,)) for t in reversed(bankrupt)]
    calls = []
    if winners and kind != "plain":
        calls = _dodge(world, choose, kind, choose.pick(winners), market_id)
    return [*calls, Call("engine", "deleverage", keeper, (target,))]


def _dodge(world: World, choose: Choices, kind: str, winner: str, market_id: int) -> list:
    state, actors = world.state, world.actors
    if kind == "top_up":
        return [Call("engine", "deposit", winner, (choose.pick((100, 10_000)) * USDC,))]
    if kind == "withdraw":
        return [Call("engine", "withdraw", winner, (choose.pick((10, 1_000)) * USDC,))]
    if kind == "taken_over":  # a flat sybil takes the winning position over, if it may
        other = choose.pick([t for t in world.traders if t != winner])
        return [
            Call("engine", "deposit", other, (10_000 * USDC,)),
            Call("engine", "liquidate", other, (winner, market_id, MAX_POSITION_SIZE)),
        ]
    if kind == "takeover_elsewhere":  # its maintenance grows: under the queue, its cap falls
        return _takeover_elsewhere(world, choose, winner, market_id)
    held = get_position(state, actors[winner], market_id).size
    other = choose.pick([t for t in world.traders if t != winner])
    price = state.markets[market_id].price
    lots = abs(held) if kind == "close_reopen" else max(abs(held) // 2, 1)
    # the winner's way out: the opposite trade against ``other``, at the oracle price
    buyer, seller = (winner, other) if held < 0 else (other, winner)
    out = Match(buyer, seller, market_id, lots, price)
    if kind == "split":  # the lots moved onto ``other``: a sybil of the winner
        return [Call("engine", "deposit", other, (10_000 * USDC,)), out]
    back = Match(seller, buyer, market_id, lots, price)
    return [Call("engine", "deposit", other, (10_000 * USDC,)), out, back]


def _takeover_elsewhere(world: World, choose: Choices, winner: str, market_id: int) -> list:
    """The winner liquidates another account's position in another market (one below
    maintenance when there is one), taking it over."""
    state, actors = world.state, world.actors
    others = [t for t in world.traders if t != winner and _open(world, t)]
    held = [
        (t, m)
        for t in others
        for m in sorted(state.accounts[actors[t]].positions)
        if m != market_id
    ]
    if not held:
        return []
    weak = [(t, m) for t, m in held if is_liquidatable(state, actors[t])]
    target, market = choose.pick(weak or held)
    return [Call("engine", "liquidate", winner, (target, market, MAX_POSITION_SIZE))]


def _open(world: World, trader: str) -> bool:
    account = world.state.accounts.get(world.actors[trader])
    return bool(account and account.positions)


def twin_bankruptcy(world: World, choose: Choices) -> list:
    """Two longs at 9x, opened at two prices against two shorts, then a 15% gap: two
    bankrupt accounts on one side at one price, the round ``adl_order_free`` and
    ``adl_monotone_across_calls`` replay in both orders; then the keeper takes one."""
    state = world.state
    market_id = choose.integer(0, len(state.markets) - 1)
    left = list(world.traders)
    first, second, winner_a, winner_b = (left.pop(choose.integer(0, len(left) - 1)) for _ in "abcd")
    market = state.markets[market_id]
    if market.price == 0:  # listed, never priced: nothing to size positions at
        return [Call(CLOCK, "wait", "", (1,))]
    price, now = market.price, max(state.timestamp, market.price_timestamp + 1)
    waits = [Call(CLOCK, "wait", "", (now - state.timestamp,))] if now > state.timestamp else []
    higher = price + price * 30_000 // RATIO_PRECISION
    lower = higher - higher * TWIN_GAP // RATIO_PRECISION
    calls = [*waits]
    for trader, at in ((first, price), (second, higher)):
        if at != price:
            calls += [Call(CLOCK, "wait", "", (1,)), _price(market_id, at, now + 1)]
        calls += [
            Call("engine", "deposit", trader, (1_000 * USDC,)),
            Call("engine", "deposit", winner_a if trader == first else winner_b, (20_000 * USDC,)),
            Match(trader, winner_a if trader == first else winner_b, market_id,
                  TWIN_LEVERAGE * 1_000 * USDC // at, at),
        ]  # fmt: skip
    calls += [Call(CLOCK, "wait", "", (1,)), _price(market_id, lower, now + 2)]
    return [*calls, Call("engine", "deleverage", "outsider", (choose.pick((first, second)),))]


def _price(market_id: int, price: int, timestamp: int) -> Call:
    return Call("engine", "update_price", "oracle", (market_id, max(price, 1), timestamp))


def _gap_and_side(state, choose: Choices) -> tuple[int, int] | None:
    """Two live, priced markets: the one a gap will hit and another beside it."""
    priced = [m for m, market in enumerate(state.markets) if market.price and not market.settled]
    if len(priced) < 2:
        return None
    gap_market = priced.pop(choose.integer(0, len(priced) - 1))
    return gap_market, choose.pick(priced)


def owed_gain(world: World, choose: Choices) -> list:
    """M-1: a long at 8x in one market beside a long bought at the price in another, a
    15% gap that bankrupts it, the deleverage that closes the first and leaves it owing
    what others paid beside the second; then a rise there, and the owing account sells,
    withdraws or is deleveraged: each repays first (``owed_repaid_first``)."""
    state = world.state
    markets = _gap_and_side(state, choose)
    if markets is None:
        return [Call(CLOCK, "wait", "", (1,))]
    gap_market, side_market = markets
    left = list(world.traders)
    loser, winner, partner = (left.pop(choose.integer(0, len(left) - 1)) for _ in "abc")
    now = max(state.timestamp, *(m.price_timestamp for m in state.markets)) + 1
    at = {m: state.markets[m].price for m in (gap_market, side_market)}
    side_lots = max(choose.pick((100, 1_000)) * USDC // at[side_market], 1)
    calls = [Call(CLOCK, "wait", "", (now - state.timestamp,))]
    calls += [_price(m, at[m], now) for m in sorted(at)]
    deposits = ((loser, 1_000), (winner, 20_000), (partner, 20_000))
    calls += [Call("engine", "deposit", t, (amount * USDC,)) for t, amount in deposits]
    calls += [
        Match(loser, partner, side_market, side_lots, at[side_market]),
        Match(loser, winner, gap_market, 8 * 1_000 * USDC // at[gap_market], at[gap_market]),
        Call(CLOCK, "wait", "", (1,)),
        _price(gap_market, at[gap_market] - at[gap_market] * TWIN_GAP // RATIO_PRECISION, now + 1),
        _price(side_market, at[side_market], now + 1),
        Call("engine", "deleverage", "outsider", (loser,)),
        Call(CLOCK, "wait", "", (1,)),
    ]
    rise = at[side_market] * choose.pick((100_000, 400_000, 2_000_000)) // RATIO_PRECISION
    calls += [
        _price(gap_market, state.markets[gap_market].price, now + 2),
        _price(side_market, at[side_market] + rise, now + 2),
        Call(VIEWS, "check_views", "operator", (loser,)),  # its views net of what it owes
    ]
    way_out = choose.pick(("sell", "withdraw", "deleverage"))
    if way_out == "sell":
        return [*calls, Match(partner, loser, side_market, side_lots, at[side_market] + rise)]
    if way_out == "withdraw":
        return [*calls, Call("engine", "withdraw", loser, (choose.pick((1, 50)) * USDC,))]
    return [*calls, Call("engine", "deleverage", choose.pick(("outsider", loser)), (loser,))]


def opposite_losers(world: World, choose: Choices) -> list:
    """Two accounts at a loss on opposite sides of one market, both bankrupt by a fall of
    their longs in another: a short opened low, a long bought high from the low long's
    winner, so the bankrupt long has no winner opposite and its lots close against the
    other shorts (a solvent one, of the same size or half of it, and the bankrupt one);
    then the keeper takes the two in either order (``adl_bankrupt_counterparty_last``,
    ``adl_order_free``)."""
    state = world.state
    markets = _gap_and_side(state, choose)
    if markets is None:
        return [Call(CLOCK, "wait", "", (1,))]
    gap_market, side_market = markets
    left = list(world.traders)
    high, low, winner, holder, solvent, partner = (
        left.pop(choose.integer(0, len(left) - 1)) for _ in "abcdef"
    )
    now = max(state.timestamp, *(m.price_timestamp for m in state.markets)) + 1
    at, side_at = state.markets[gap_market].price, state.markets[side_market].price
    top = at + at * 100_000 // RATIO_PRECISION  # +10%, then back to +5%
    lots = max(7_000 * USDC // top, 1)
    side_lots = max(2_000 * USDC // side_at, 1)
    deposits = ((high, 1_000), (low, 1_000), (winner, 20_000), (holder, 20_000),
                (solvent, 20_000), (partner, 20_000))  # fmt: skip
    calls = [
        Call(CLOCK, "wait", "", (now - state.timestamp,)),
        _price(gap_market, at, now),
        _price(side_market, side_at, now),
        *(Call("engine", "deposit", t, (amount * USDC,)) for t, amount in deposits),
        Match(high, partner, side_market, side_lots, side_at),
        Match(low, partner, side_market, side_lots, side_at),
        Match(winner, low, gap_market, lots, at),
        Match(holder, solvent, gap_market, lots // choose.pick((1, 2)), at),
        Call(CLOCK, "wait", "", (1,)),
        _price(gap_market, top, now + 1),
        _price(side_market, side_at, now + 1),
        Match(high, winner, gap_market, lots, top),
        Call(CLOCK, "wait", "", (1,)),
        _price(gap_market, at + at * 50_000 // RATIO_PRECISION, now + 2),
        _price(side_market, side_at // 2, now + 2),
    ]
    first = choose.pick((high, low))
    second = low if first == high else high
    return [
        *calls,
        Call("engine", "deleverage", "outsider", (first,)),
        Call("engine", "deleverage", "outsider", (second,)),
    ]
