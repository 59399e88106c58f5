"""ADL across calls (issue 19): a round's charges do not depend on the keeper's order.

A round is the deleverage work known at one set of oracle prices. Whenever a
``deleverage`` succeeds while two or more bankrupt accounts hold the same side of the
market it closes, the round is replayed on copies of the state before the call, the two
first bankrupt accounts in both orders, and the charges each counterparty absorbs in that
market are compared:

- ``adl_order_free``: the same total for every counterparty in both orders, within the
  round's rounding unit (per call, what one lot moves: its profit, or the budget per
  eligible lot, and a unit: lots are handed out whole) and the keeper rewards the round
  paid (N9: a reward taken from the fund above its floor before a later deficit's cover
  leaves that much more to charge; which deficit comes first is the keeper's order);
- ``adl_monotone_across_calls``: under pro-rata on profit, every counterparty's total
  charge is the same fraction of the profit it held at the round's start (under contract
  pro-rata, of its size), within the same unit: a larger winner never pays a smaller
  share, however the work was split.

Both hold where caps bind too: the profit a call's closed lots realize stays in the
position each winner keeps (``engine._charge``), so a later call of the round finds
each winner's capacity at what it held less what it paid, and a capped winner pays
exactly its cap in either order. A replay is not compared when a call closes a winner's
whole position while a later call of the round follows (its capacity left the market
with it: SPEC.md states that regime) or a call fails.
"""

from __future__ import annotations

from collections import Counter

from harness.core.invariants import check
from harness.core.recompute import adl_budget, equity, equity_after_repayment, pnl, size
from pyspec import engine
from pyspec.errors import Revert
from pyspec.state import State

PNL_PRO_RATA, CONTRACT_PRO_RATA = 1, 3
CALLS = 2  # deleverages in each replayed order


def check_round(before: State, bankrupt: str) -> None:
    """After a successful ``deleverage`` of ``bankrupt`` from ``before``."""
    market_id = min(before.accounts[bankrupt].positions)
    market = before.markets[market_id]
    if market.adl_policy not in (PNL_PRO_RATA, CONTRACT_PRO_RATA) or market.settled:
        return
    side = 1 if size(before, bankrupt, market_id) > 0 else -1
    _check_opposite(before, bankrupt, market_id, side)
    peers = sorted(
        (a for a in market.holders if _first_in(before, a, market_id, side)),
        key=lambda a: int(a, 16),
    )[:CALLS]
    if len(peers) < CALLS:
        return
    runs = [_replay(before, order) for order in (peers, peers[::-1])]
    if any(run is None for run in runs):
        return  # a charge was capped: the stated regime
    (first, unit_a, paid_a), (second, unit_b, paid_b) = runs
    slack = max(unit_a, unit_b) + max(paid_a, paid_b)
    accounts = sorted(set(first) | set(second))
    check(
        "adl_order_free",
        all(abs(first[a] - second[a]) <= slack for a in accounts),
        f"market {market_id}: deleveraging {peers} charged {dict(first)}, "
        f"in the other order {dict(second)} (rounding unit {slack})",
    )
    _check_monotone(before, market_id, market.adl_policy, first, slack)


def _check_opposite(before: State, bankrupt: str, market_id: int, side: int) -> None:
    """Two bankrupt accounts whose next deleverages close opposite sides of one market
    (the sixth review of issue 19): every position of both, deleveraged on copies in
    both orders, charges every counterparty, in every market, the same total within the
    calls' rounding units, the keeper rewards and the fund at the start (which covers
    whichever deficit comes first)."""
    opposite = sorted(
        (a for a in before.markets[market_id].holders if _first_in(before, a, market_id, -side)),
        key=lambda a: int(a, 16),
    )
    if not opposite:
        return
    pair = [bankrupt, opposite[0]]
    runs = [_replay_whole(before, order) for order in (pair, pair[::-1])]
    if any(run is None for run in runs):
        return  # a winner's or a bankrupt counterparty's whole position closed: stated
    (first, unit_a, paid_a), (second, unit_b, paid_b) = runs
    slack = max(unit_a, unit_b) + max(paid_a, paid_b) + before.insurance_fund
    accounts = sorted(set(first) | set(second))
    check(
        "adl_order_free",
        all(abs(first[a] - second[a]) <= slack for a in accounts),
        f"market {market_id}: deleveraging {pair} (opposite sides) whole charged "
        f"{dict(first)}, in the other order {dict(second)} (rounding unit, rewards and "
        f"fund {slack})",
    )


def _replay_whole(before: State, order: list[str]) -> tuple[Counter, int, int] | None:
    """Deleverage every position of each account of ``order`` on a copy; the charges per
    counterparty (all markets), the calls' rounding units and the keeper rewards, or None
    when a call failed, closed a winner's whole position before a later call on the same
    side of that market, or closed the whole position of a bankrupt account the replay
    deleverages later (its loss is then realized where it closed: SPEC.md states both)."""
    state, charged, unit, paid = before.copy(), Counter(), 0, 0
    calls, emptied = [], []  # (market, bankrupt side) of each call; of each winner gone
    for index, address in enumerate(order):
        for _ in range(len(state.markets) + 1):
            live = [m for m in state.accounts[address].positions if not state.markets[m].settled]
            if not live:
                break
            market_id = min(live)
            side = 1 if size(state, address, market_id) > 0 else -1
            caps = {
                a: min(pnl(state, a, market_id), equity_after_repayment(state, a))
                for a in state.markets[market_id].holders
            }
            before_call = state.copy()
            state.events.clear()
            try:
                engine.process_deleverage(state, state.timelock.owner, address)
            except Revert:
                return None
            fills = [args for name, args in state.events if name == "Deleverage"]
            gone = [f[1] for f in fills if size(state, f[1], f[2]) == 0]
            if any(equity(before_call, a) < 0 and a in order[index + 1 :] for a in gone):
                return None
            if (market_id, side) in emptied:
                return None
            calls.append((market_id, side))
            emptied += [(market_id, side) for a in gone if caps[a] > 0]
            for fill in fills:
                charged[fill[1]] += fill[5]
            budget = adl_budget(before_call, address, market_id, state.events)
            unit += _call_unit(before_call, market_id, caps, budget)
            paid += sum(args[2] for name, args in state.events if name == "KeeperReward")
    return charged, unit, paid


def _first_in(state: State, address: str, market_id: int, side: int) -> bool:
    """``address`` is bankrupt and its next deleverage closes ``side`` in ``market_id``."""
    live = [m for m in state.accounts[address].positions if not state.markets[m].settled]
    return (
        equity(state, address) < 0
        and min(live, default=None) == market_id
        and (size(state, address, market_id) > 0) == (side > 0)
    )


def _replay(before: State, order: list[str]) -> tuple[Counter, int, int] | None:
    """Deleverage ``order`` on a copy; the charge each counterparty absorbed, the round's
    rounding unit and the keeper rewards it paid, or None when a call closed a winner's
    whole position before the round's last call, or a call failed."""
    state, charged, unit, paid = before.copy(), Counter(), 0, 0
    for index, address in enumerate(order):
        if any(state.markets[m].settled for m in state.accounts[address].positions):
            try:  # a first call settles them and stops there (N1)
                engine.process_deleverage(state, state.timelock.owner, address)
            except Revert:
                return None
        market_id = min(state.accounts[address].positions, default=None)
        if market_id is None:
            continue
        caps = {
            a: min(pnl(state, a, market_id), equity_after_repayment(state, a))
            for a in state.markets[market_id].holders
        }
        before_call = state.copy()
        state.events.clear()
        try:
            engine.process_deleverage(state, state.timelock.owner, address)
        except Revert:
            return None
        fills = [args for name, args in state.events if name == "Deleverage"]
        closed = [f[1] for f in fills if caps[f[1]] > 0 and size(state, f[1], market_id) == 0]
        if closed and index < len(order) - 1:
            return None  # a winner's capacity left the market with its position
        for fill in fills:
            charged[fill[1]] += fill[5]
        budget = adl_budget(before_call, address, market_id, state.events)
        unit += _call_unit(before_call, market_id, caps, budget)
        paid += sum(args[2] for name, args in state.events if name == "KeeperReward")
    return charged, unit, paid


def _call_unit(state: State, market_id: int, caps: dict, budget: int) -> int:
    """One call's rounding unit: lots are handed out whole, so what a position keeps may
    be a lot off its exact share, which moves its next weight by one lot: its profit per
    lot (pro-rata on profit) or the budget per eligible lot (by size); plus a unit."""
    eligible = [a for a, cap in caps.items() if cap > 0]
    lots = sum(abs(size(state, a, market_id)) for a in eligible)
    per_lot = max(
        (-(-pnl(state, a, market_id) // abs(size(state, a, market_id))) for a in eligible),
        default=0,
    )
    return max(per_lot, -(-budget // lots) if lots else 0) + 1


def _check_monotone(
    before: State, market_id: int, policy: int, charged: Counter, slack: int
) -> None:
    """Every charge the same fraction of the counterparty's weight at the round's start
    (profit, or size), within the round's rounding unit of charge, unless it reached its
    cap at the round's start (min(profit, equity)): then it pays that cap, and no more
    of its weight than the others."""
    eligible = [
        a
        for a in charged
        if pnl(before, a, market_id) > 0 and equity_after_repayment(before, a) > 0
    ]
    weight = {
        a: pnl(before, a, market_id) if policy == PNL_PRO_RATA else abs(size(before, a, market_id))
        for a in eligible
    }
    cap = {a: min(pnl(before, a, market_id), equity_after_repayment(before, a)) for a in eligible}
    capped = {a for a in eligible if charged[a] >= cap[a] - slack}
    pairs = [(a, b) for a in eligible for b in eligible if a < b]
    off = [
        (a, b)
        for a, b in pairs
        if a not in capped
        and b not in capped
        and abs(charged[a] * weight[b] - charged[b] * weight[a]) > slack * (weight[a] + weight[b])
        or a in capped
        and b not in capped
        and charged[a] * weight[b] > charged[b] * weight[a] + slack * (weight[a] + weight[b])
        or b in capped
        and a not in capped
        and charged[b] * weight[a] > charged[a] * weight[b] + slack * (weight[a] + weight[b])
    ]
    check(
        "adl_monotone_across_calls",
        not off and all(charged[a] <= cap[a] for a in eligible),
        f"market {market_id}: charges {dict(charged)} against weights {weight} and caps "
        f"{cap} at the round's start; not in proportion: {off}",
    )
