"""How one deleverage shares a bankrupt position among its counterparties, recomputed from
the raw state before the call (``properties._check_deleverage`` calls these): the queue's
rank order, the pro-rata policies' two water-fills against the exact continuous level,
and the uncharged completion's order."""

from __future__ import annotations

from fractions import Fraction

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
    lot_level = level(held, held, lot_budget)  # lots by size under every policy (issue 19)
    charge_level = level(weights, caps, budget)
    far = [
        a
        for a in eligible
        if abs(lots.get(a, 0) - min(held[a], lot_level * held[a])) >= 1
        or abs(charges.get(a, 0) - min(caps[a], charge_level * weights[a])) >= 1
    ]
    rest = [f for f in fills if f[1] not in held]
    check(
        "adl_pro_rata_shares",
        not far
        and sum(lots.get(a, 0) for a in eligible) == lot_budget
        and sum(charges.values()) == max(min(budget, sum(caps.values())), 0)
        and all(f[5] == 0 for f in rest),
        f"policy {policy}: fills {fills}; weights {weights}, caps {caps}, budget {budget}; "
        f"off by a unit or more: {far}",
    )


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
