"""How one deleverage shares a bankrupt position among its counterparties, recomputed from
the raw state before the call (``properties._check_deleverage`` calls these): the queue's
rank order, the pro-rata policies' two water-fills against the exact continuous level,
and the uncharged completion's order."""

from __future__ import annotations

import math
from fractions import Fraction

from harness.core import adl_apportion
from harness.core.invariants import check
from harness.core.recompute import (
    RATIO,
    adl_budget,
    capacity,
    equity,
    equity_after_repayment,
    pnl_percent,
    size,
)
from pyspec.state import State

PNL_PRO_RATA, CONTRACT_PRO_RATA = 1, 3
MAX_LEVERAGE = 1000 * RATIO


def check_completion(before: State, market_id: int, side: int, eligible, fills) -> None:
    """The uncharged rest: solvent accounts in holder order, then bankrupt ones, each
    filled whole but the last."""
    rest = [
        a
        for a in before.markets[market_id].holders
        if size(before, a, market_id) * side < 0 and a not in eligible
    ]
    order = [a for a in rest if equity(before, a) >= 0] + [a for a in rest if equity(before, a) < 0]
    taken = [f[1] for f in fills if f[1] not in eligible]
    whole = all(
        f[3] == abs(size(before, f[1], market_id)) for f in fills[:-1] if f[1] not in eligible
    )
    check(
        "adl_bankrupt_counterparty_last",
        taken == order[: len(taken)] and whole,
        f"the rest filled in the order {taken}; solvent first, then bankrupt: {order}",
    )


def check_queue(before: State, market_id: int, eligible, fills, charged) -> None:
    """Eligible positions in PnL% rank order (equal ranks to the lower address), then the
    rest; only eligible ones charged."""
    order = [
        a
        for _, _, a in sorted((-pnl_percent(before, a, market_id), int(a, 16), a) for a in eligible)
    ]
    ranked = [order.index(f[1]) for f in fills if f[1] in order]
    check(
        "adl_rank_order",
        all(f[1] in order for f in charged)
        and ranked == sorted(ranked)
        and [f[1] in order for f in fills] == sorted([f[1] in order for f in fills], reverse=True),
        f"fills {fills}, queue {order}",
    )


def check_pro_rata(before: State, market_id: int, policy: int, eligible, fills, events) -> None:
    """Lots (by size) and charges (by the policy's weights) against the exact continuous
    water-filling (``level``)."""
    bankrupt = fills[0][0]
    market = before.markets[market_id]
    held = {a: abs(size(before, a, market_id)) for a in eligible}
    profit = {a: capacity(before, a, market_id) for a in eligible}  # the round's record too
    caps = {a: min(profit[a], equity_after_repayment(before, a)) for a in eligible}
    if policy == PNL_PRO_RATA:
        weights = profit
    elif policy == CONTRACT_PRO_RATA:
        weights = held
    else:
        weights = {
            a: profit[a]
            * min(
                max(held[a] * market.price * RATIO // equity_after_repayment(before, a), 1),
                MAX_LEVERAGE,
            )
            for a in eligible
        }
    # the budget: the bankrupt position's share of the deficit (by the unrealized losses
    # where it arose, M-W3; all of it when no position is at a loss), less the fund's cover
    position_size = abs(size(before, bankrupt, market_id))
    budget = adl_budget(before, bankrupt, market_id, events)
    lots = {f[1]: f[3] for f in fills}
    charges = {f[1]: f[5] for f in fills}
    lot_budget = min(position_size, sum(held.values()))
    # lots by size under every policy (issue 19); under pro-rata on profit each keeping a
    # lot while the others hold the bankrupt size (a review: no winner leaves the round by
    # a rounding)
    keep = {a: held[a] - 1 for a in eligible}
    pnl = policy == PNL_PRO_RATA
    most = keep if pnl and sum(keep.values()) >= position_size else held
    lot_level = level(held, most, lot_budget)
    far = [a for a in eligible if abs(lots.get(a, 0) - min(most[a], lot_level * held[a])) >= 1]
    total = max(min(budget, sum(caps.values())), 0)
    if policy == PNL_PRO_RATA:
        far += _off_the_round(before, market_id, fills, charges, budget)
        if not _apportioned_before(before, market_id, fills):
            total = sum(charges.values())  # the price moved within the round: at most
            far += [a for a in eligible if charges.get(a, 0) > caps[a]] + (
                ["the budget"] if total > max(budget, 0) else []
            )
    else:
        charge_level = level(weights, caps, budget)
        far += [
            a
            for a in eligible
            if abs(charges.get(a, 0) - min(caps[a], charge_level * weights[a])) >= 1
        ]
    rest = [f for f in fills if f[1] not in held]
    check(
        "adl_pro_rata_shares",
        not far
        and sum(lots.get(a, 0) for a in eligible) == lot_budget
        and sum(charges.values()) == total
        and all(f[5] == 0 for f in rest),
        f"policy {policy}: fills {fills}; weights {weights}, caps {caps}, budget {budget}; "
        f"off by a unit or more: {far}",
    )


def _apportioned_before(before: State, market_id: int, fills) -> bool:
    side = -1 if size(before, fills[0][0], market_id) > 0 else 1
    terms = adl_apportion.round_terms(before, market_id, side)
    return adl_apportion.is_apportionment(terms, {a: t[2] for a, t in terms.items()})


def _off_the_round(before: State, market_id: int, fills, charges: dict, budget: int) -> list:
    """Under pro-rata on profit, in a round whose charges were its apportionment before the
    call: the winners whose round total (paid plus this charge) is off the exact level of
    the round's total on the bases (profit at the round's start) under the round caps by
    more than the highest averages allow: at least its floor, at most k x base / B above
    it (k uncapped winners of bases B), or its cap when the level reaches it."""
    if not _apportioned_before(before, market_id, fills):
        return []
    side = -1 if size(before, fills[0][0], market_id) > 0 else 1
    terms = adl_apportion.round_terms(before, market_id, side)
    bases = {a: t[0] for a, t in terms.items()}
    caps = {a: t[1] for a, t in terms.items()}
    total = {a: t[2] + charges.get(a, 0) for a, t in terms.items()}
    round_level = level(bases, caps, sum(t[2] for t in terms.values()) + max(budget, 0))
    free = [a for a in terms if round_level * bases[a] < caps[a]]
    weight = sum(bases[a] for a in free)
    return [
        a
        for a in terms
        if (
            total[a] != caps[a]
            if a not in free
            else not (
                math.floor(round_level * bases[a])
                <= total[a]
                <= round_level * bases[a] + Fraction(len(free) * bases[a], weight)
            )
        )
    ]


def level(weights: dict, caps: dict, budget: int) -> Fraction:
    """The water level L with sum(min(cap, L x weight)) = min(budget, sum caps), exactly."""
    if budget <= 0:
        return Fraction(0)
    order = sorted(weights, key=lambda a: Fraction(caps[a], weights[a]))
    remaining, total = Fraction(budget), sum(weights.values())
    for a in order:
        if remaining < Fraction(caps[a], weights[a]) * total:
            return remaining / total
        remaining -= caps[a]
        total -= weights[a]
    return Fraction(10**80)  # every cap binds
