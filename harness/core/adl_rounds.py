"""ADL across calls (issue 19): a round's charges do not depend on the keeper's order.

A round is the deleverage work known at one set of oracle prices. Whenever a
``deleverage`` succeeds while two or more bankrupt accounts hold the same side of the
market it closes, the round is replayed on copies of the state before the call, the two
first bankrupt accounts in both orders, and the charges each counterparty absorbs in that
market are compared:

- ``adl_order_free``: the same total for every counterparty in both orders: exactly under
  pro-rata on profit while the round's charges are the apportionment of its bases (the
  price has not moved within the round, ``adl_apportion``), but for the funding units the
  fund received between the calls (a whole unit of a market's funding residue reaches the
  fund when an account settles, and covers a unit more of the next call's deficit: a
  default campaign found one moving a unit), else within the
  round's rounding unit (per call two units, and by size the budget per eligible lot:
  lots are handed out whole, ``_call_unit``), each replayed call made by the bankrupt
  account itself, which earns no keeper reward (N9 pays another caller only); and again
  with a keeper making the calls, within the same unit: a keeper's reward joins the
  deficit of the call that earns it and is fixed by the closed position, so the rewards
  are the same in either order and the fund covers the same total first (before, the fund
  paid them from its room between the covers, and the order moved charges by up to the
  round's rewards);
- ``adl_monotone_across_calls``: under pro-rata on profit, every counterparty's total
  charge is the same fraction of the profit it held at the round's start (under contract
  pro-rata, of its size), within the same unit: a larger winner never pays a smaller
  share, however the work was split.

Both hold where caps bind too: what a call's closed lots realize and no charge takes is
the round's record (``margin.adl_capacity``), so a later call of the round finds each
winner's capacity at what it held less what it paid, and a capped winner pays its cap in
either order. A replay is not compared when a call closes a winner's whole position
before the round's last call (its capacity leaves the market with it), or a call fails:
SPEC.md states that regime.

Two bankrupt accounts whose next deleverages close opposite sides of the market (the
fifth review) are replayed too, every position of both, and ``adl_order_free`` compares
every counterparty's total in every market whose policy is round-consistent (pro-rata on
profit or on size: the queue's and the leverage-weighted charges follow the order by
design, and compared they raised a false alarm), the fund at the start added to the slack
(it covers whichever deficit comes first); not when a winner's equity caps what a market
may charge it below its capacity there (its equity is shared by its markets, F3), a
winner's position closes whole before a later call on its side, or the completion takes
a bankrupt counterparty after every solvent one (each stated in SPEC.md).
"""

from __future__ import annotations

from collections import Counter

from harness.core import adl_apportion
from harness.core.invariants import check
from harness.core.recompute import (
    adl_budget,
    capacity,
    equity,
    equity_after_repayment,
    size,
)
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
    # under pro-rata on profit, a round whose charges so far are the apportionment of its
    # bases (the price has not moved within it) ends at the apportionment of its total in
    # either order: exactly (``adl_apportion``)
    terms = adl_apportion.round_terms(before, market_id, -side)
    exact = market.adl_policy == PNL_PRO_RATA and adl_apportion.is_apportionment(
        terms, {a: t[2] for a, t in terms.items()}
    )
    for keeper in (None, before.timelock.owner):
        runs = [_replay(before, order, keeper) for order in (peers, peers[::-1])]
        if any(run is None for run in runs):
            return  # a winner's position closed whole before the last call: stated
        (first, unit_a, fund_a), (second, unit_b, fund_b) = runs
        # exact but for the funding units the fund received between the calls (else each
        # order within its own unit, and those units)
        slack = max(fund_a, fund_b) + (0 if exact else unit_a + unit_b)
        accounts = sorted(set(first) | set(second))
        check(
            "adl_order_free",
            all(abs(first[a] - second[a]) <= slack for a in accounts),
            f"market {market_id}: deleveraging {peers} "
            f"{'by a keeper' if keeper else 'each by itself'} charged {dict(first)}, "
            f"in the other order {dict(second)} (rounding unit {slack})",
        )
        if keeper is None and exact:  # the round's totals: its apportionment, exactly
            _check_apportioned(market_id, terms, first)
        elif keeper is None and market.adl_policy != PNL_PRO_RATA:
            # (a price that moved within a round under pro-rata on profit: each call raises
            # the winners' totals to the apportionment at the new price, or apportions its
            # increment, SPEC.md "One round over several calls"; not compared)
            _check_monotone(before, market_id, first, unit_a + unit_b)


def _check_apportioned(market_id: int, terms: dict, charged: Counter) -> None:
    totals = {a: t[2] + charged.get(a, 0) for a, t in terms.items()}
    check(
        "adl_monotone_across_calls",
        adl_apportion.is_apportionment(terms, totals),
        lambda: (
            f"market {market_id}: the round's totals {totals} are not the "
            f"highest-averages apportionment on (base, cap, paid) {terms}"
        ),
    )


def _check_opposite(before: State, bankrupt: str, market_id: int, side: int) -> None:
    """Two bankrupt accounts whose next deleverages close opposite sides of one market
    (the fifth review of issue 19): every position of both, deleveraged on copies in
    both orders, charges every counterparty, in every market, the same total within the
    calls' rounding units and the fund at the start (which covers whichever deficit
    comes first)."""
    opposite = sorted(
        (a for a in before.markets[market_id].holders if _first_in(before, a, market_id, -side)),
        key=lambda a: int(a, 16),
    )
    if not opposite:
        return
    pair = [bankrupt, opposite[0]]
    runs = [_replay_whole(before, order) for order in (pair, pair[::-1])]
    if any(run is None for run in runs):
        return  # an equity cap, a winner closed, a bankrupt counterparty: stated regimes
    (first, unit_a), (second, unit_b) = runs
    # each order within its own unit, and the fund (first-come)
    slack = unit_a + unit_b + before.insurance_fund
    accounts = sorted(set(first) | set(second))
    check(
        "adl_order_free",
        all(abs(first[a] - second[a]) <= slack for a in accounts),
        f"market {market_id}: deleveraging {pair} (opposite sides) whole charged "
        f"{dict(first)}, in the other order {dict(second)} (rounding unit and fund {slack})",
    )


def _replay_whole(before: State, order: list[str]) -> tuple[Counter, int] | None:
    """Deleverage every position of each account of ``order`` on a copy; the charges per
    counterparty (all markets) and the calls' rounding units, or None
    when a call failed, a winner's equity capped a charge below its capacity (shared by
    its markets), a winner's whole position closed before a later call on its side, or
    the completion took a bankrupt counterparty once the solvent ones were used up (it
    realizes its loss there: SPEC.md states the three regimes)."""
    state, charged, unit = before.copy(), Counter(), 0
    emptied = set()  # (market, the bankrupt position's side) where a winner closed whole
    for address in order:
        for _ in range(2 * len(state.markets) + 1):  # a call may only settle settled ones
            live = [m for m in state.accounts[address].positions if not state.markets[m].settled]
            if not live:
                break
            market_id = min(live)
            side = 1 if size(state, address, market_id) > 0 else -1
            caps = _caps(state, market_id)
            if (market_id, side) in emptied:
                return None  # a winner's capacity left the market with its position
            called = _deleverage(state, address, market_id, address)
            if called is None:
                return None
            before_call, fills, budget = called
            if not fills:
                continue
            if _equity_capped(before_call, market_id, fills) or _last_resort(
                before_call, market_id, fills
            ):
                return None
            emptied |= {
                (market_id, side)
                for f in fills
                if caps[f[1]] > 0 and not size(state, f[1], market_id)
            }
            if state.markets[market_id].adl_policy in (PNL_PRO_RATA, CONTRACT_PRO_RATA):
                unit += _tally(charged, fills, before_call, market_id, caps, budget)
            # the queue and leverage-weighted charges follow the order by design (SPEC.md);
            # with no equity cap binding, they move nothing in the other markets
    return charged, unit


def _last_resort(state: State, market_id: int, fills: list) -> bool:
    """The completion took a bankrupt counterparty after every solvent opposite position
    it could take (the allocator's rule; taken earlier, ``adl_order_free`` compares)."""
    taken = {f[1] for f in fills}
    bankrupt = [a for a in taken if equity(state, a) < 0]
    if not bankrupt:
        return False
    side = -1 if size(state, fills[0][0], market_id) > 0 else 1
    solvent = [
        a
        for a in state.markets[market_id].holders
        if size(state, a, market_id) * side > 0
        and equity(state, a) >= 0
        and not (capacity(state, a, market_id) > 0 and equity_after_repayment(state, a) > 0)
    ]
    return all(a in taken for a in solvent)


def _first_in(state: State, address: str, market_id: int, side: int) -> bool:
    """``address`` is bankrupt and its next deleverage closes ``side`` in ``market_id``."""
    live = [m for m in state.accounts[address].positions if not state.markets[m].settled]
    return (
        equity(state, address) < 0
        and min(live, default=None) == market_id
        and (size(state, address, market_id) > 0) == (side > 0)
    )


def _replay(before: State, order: list[str], keeper: str | None) -> tuple[Counter, int, int] | None:
    """Deleverage ``order`` on a copy, each call by ``keeper`` or (None) by the account
    itself; the charge each counterparty absorbed, the round's rounding unit and the
    funding units the fund received meanwhile (settling an account books the market's
    whole residue units to the fund, and a unit there before a call covers a unit more of
    its deficit), or None when a call closed a winner's whole position before the round's
    last call, or a call failed."""
    state, charged, unit, covered = before.copy(), Counter(), 0, 0
    for index, address in enumerate(order):
        caller = keeper or address
        if any(state.markets[m].settled for m in state.accounts[address].positions):
            try:  # a first call settles them and stops there (N1)
                engine.process_deleverage(state, caller, address)
            except Revert:
                return None
        market_id = min(state.accounts[address].positions, default=None)
        if market_id is None:
            continue
        caps = _caps(state, market_id)
        called = _deleverage(state, address, market_id, caller)
        if called is None:
            return None
        before_call, fills, budget = called
        closed = [f[1] for f in fills if caps[f[1]] > 0 and not size(state, f[1], market_id)]
        if closed and index < len(order) - 1:
            return None  # a winner's capacity left the market with its position
        unit += _tally(charged, fills, before_call, market_id, caps, budget)
        covered += sum(args[2] for name, args in state.events if name == "InsuranceCover")
    return charged, unit, state.insurance_fund - before.insurance_fund + covered


def _tally(charged: Counter, fills, before_call: State, market_id: int, caps, budget) -> int:
    """Add one call's charges to ``charged``; return its rounding unit."""
    for fill in fills:
        charged[fill[1]] += fill[5]
    side = 1 if size(before_call, fills[0][1], market_id) > 0 else -1  # the winners' side
    capped = {f[1] for f in fills if f[5] > 0 and f[5] >= caps.get(f[1], 0)}
    return _call_unit(before_call, market_id, caps, budget, side, capped)


def _caps(state: State, market_id: int) -> dict[str, int]:
    return {
        a: min(capacity(state, a, market_id), equity_after_repayment(state, a))
        for a in state.markets[market_id].holders
    }


def _equity_capped(state: State, market_id: int, fills: list) -> bool:
    """A charged winner's equity was below its capacity in the market: its equity caps
    every market's charges at once, so which market's deficit it pays follows the order
    (F3, stated in SPEC.md)."""
    return any(
        f[5] > 0 and equity_after_repayment(state, f[1]) < capacity(state, f[1], market_id)
        for f in fills
    )


def _deleverage(state: State, address: str, market_id: int, caller: str) -> tuple | None:
    """One deleverage of ``address`` on ``state`` (in place) by ``caller``: the state
    before it, its fills and the budget it had in ``market_id`` (a keeper's reward
    included), or None when it failed."""
    before_call = state.copy()
    state.events.clear()
    try:
        engine.process_deleverage(state, caller, address)
    except Revert:
        return None
    fills = [args for name, args in state.events if name == "Deleverage"]
    if not fills:  # it settled positions in settled markets and stopped there
        return before_call, [], 0
    return before_call, fills, adl_budget(before_call, address, market_id, state.events)


def _call_unit(
    state: State, market_id: int, caps: dict, budget: int, side: int, capped: set
) -> int:
    """One call's rounding unit: two units of charge (each share is within one of the exact
    water-fill, and so is each capacity it leaves). By size, lots are handed out whole, so
    what a position keeps may be a lot off its exact share, which moves its next weight by
    one lot: the budget per eligible lot more, counting only the positions the call left
    below their caps and what it did not pay to capped ones (the level those share: a
    campaign's capped round moved a charge a unit past the unit over every eligible lot).
    Under pro-rata on profit the next weight is the capacity left, capacity less charge,
    whatever the lots (the round's record), so a lot moves nothing (an eighth review: a
    per-lot term read the record over the few lots left and allowed almost a whole
    call's budget)."""
    if state.markets[market_id].adl_policy == PNL_PRO_RATA:
        return 2
    lots = sum(
        abs(size(state, a, market_id))
        for a, cap in caps.items()
        if cap > 0 and a not in capped and size(state, a, market_id) * side > 0  # eligible
    )
    budget -= sum(caps[a] for a in capped)
    return (-(-budget // lots) if lots and budget > 0 else 0) + 2


def _check_monotone(before: State, market_id: int, charged: Counter, slack: int) -> None:
    """Under contract pro-rata, every charge the same fraction of the counterparty's size
    at the round's start, within the round's rounding unit of charge, unless it reached its
    cap at the round's start (min(capacity, equity)): then it pays that cap, and no more
    of its size than the others."""
    eligible = [
        a
        for a in charged
        if capacity(before, a, market_id) > 0 and equity_after_repayment(before, a) > 0
    ]
    weight = {a: abs(size(before, a, market_id)) for a in eligible}  # contract pro-rata
    cap = {
        a: min(capacity(before, a, market_id), equity_after_repayment(before, a)) for a in eligible
    }
    capped = {a for a in eligible if charged[a] >= cap[a] - slack}

    def more(a: str, b: str) -> bool:  # a paid a larger share of its weight than b
        return charged[a] * weight[b] > charged[b] * weight[a] + slack * (weight[a] + weight[b])

    def out_of_line(a: str, b: str) -> bool:  # a capped winner may pay less, never more
        if a in capped and b in capped:
            return False
        if a in capped or b in capped:
            return more(a, b) if a in capped else more(b, a)
        return more(a, b) or more(b, a)

    off = [(a, b) for a in eligible for b in eligible if a < b and out_of_line(a, b)]
    check(
        "adl_monotone_across_calls",
        not off and all(charged[a] <= cap[a] for a in eligible),
        f"market {market_id}: charges {dict(charged)} against weights {weight} and caps "
        f"{cap} at the round's start; not in proportion: {off}",
    )
