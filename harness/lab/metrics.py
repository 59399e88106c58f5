"""Who paid for a cascade: the per-round metrics of the ADL research on a ``cascade.Run``.

Per round: deficit D (sum of negative equity right after the price moved), fund draw,
residual (D less the fund draw), needed budget B (the deficit shares ADL was asked to
allocate: at the bankruptcy price, the gap of the lots closed), profit taken at the fill
(the charges) and at the horizon (the charges plus what the closed lots would have earned
until the next round's price), overshoot, undershoot and tracking against B, concentration m
(the largest charge / capacity of one account over the round; capacity = its position's
profit before the round's first charge), the reference concentration of continuous pro-rata
(min(1, B / U), U the profit of every position eligible in the round, charged or not),
accounts touched, top-1 share of the charges, the largest profit left standing, cross-call
monotonicity inversions (two eligible positions where the one with more PnL% paid a smaller
share of its profit over all the round's deleverage calls), order flips (two winners whose
order of profit flips after one call's charges), the rank correlation of haircut fractions
with the previous round, the call-order effect (in rounds with two or more bankrupt
accounts, the largest |difference| in what one account paid between deleveraging them lowest
address first and highest first, in token units; over every such round, and over those where
no cap bound in either order, where SPEC.md's "One round over several calls" bounds it by
the round's rounding unit; and again with each call made by the bankrupt account itself,
which pays no keeper reward), and principal touched (charges beyond capacity: must be 0). The
online-learning objective (lambda = 1) and its instance envelope are scored by
``rounds.score``, the same code that scores anyone's CSV: overall, on the rounds with a
deficit, and per cascade; with profit taken valued at the fill (``objective``) and at the
horizon (``objective_horizon``). Every policy closes exactly the bankrupt lots at the
bankruptcy price, so one deleverage asks the same of every policy: policies differ in who
pays, which the fairness term measures (later rounds of a cascade follow the positions each
policy left, so their deficits may differ).
"""

from __future__ import annotations

from fractions import Fraction

from harness.lab import rounds as scoring
from harness.lab.cascade import Round, Run

REFERENCE = "reference"


def round_metrics(round_: Round, previous: dict[str, Fraction] | None) -> dict:
    """The metrics of one round; ``previous``: the last round's haircut fractions."""
    capacity, entry = _eligible(round_)
    taken: dict[str, int] = {}
    touched: set[str] = set()
    flips = principal = forgone = 0
    for record in round_.deleveragings:
        after = {}
        for charge in record.charges:
            if charge.lots or charge.absorbed:
                touched.add(charge.account)
            taken[charge.account] = taken.get(charge.account, 0) + charge.absorbed
            principal += max(charge.absorbed - max(charge.capacity, 0), 0)
            forgone += record.side * charge.lots * (round_.horizon_price - round_.price)
            after[charge.account] = charge.capacity - charge.absorbed
        flips += _order_flips(record.capacities, after)
    needed = sum(r.budget for r in round_.deleveragings)
    taken_fill = sum(taken.values())
    taken_horizon = taken_fill + forgone
    fractions = {a: Fraction(x, capacity[a]) for a, x in taken.items() if capacity.get(a) and x}
    concentration = max(fractions.values(), default=Fraction(0))
    # U: the profit of every position eligible in the round, charged or not
    eligible = sum(capacity.values())
    reference = min(Fraction(1), Fraction(needed, eligible)) if eligible and needed else Fraction(0)
    inversions, pairs = share_inversions(capacity, entry, taken, _rounding_unit(round_))
    reversed_ = round_.reversed
    unrewarded = [o.taken for o in round_.unrewarded] if round_.unrewarded else None
    return {
        "price": round_.price,
        "deficit": round_.deficit,
        "fund_draw": round_.fund_draw,
        "residual": max(round_.deficit - round_.fund_draw, 0),
        "needed": needed,
        "eligible_capacity": eligible,
        "taken_fill": taken_fill,
        "taken_horizon": taken_horizon,
        "overshoot": max(taken_horizon - needed, 0),
        "undershoot": max(needed - taken_horizon, 0),
        "tracking": abs(taken_horizon - needed),
        "concentration": concentration,
        "reference_concentration": reference,
        "touched": len(touched),
        "top1_share": Fraction(max(taken.values()), taken_fill) if taken_fill else None,
        "largest_surviving_profit": round_.largest_surviving_profit,
        "inversions": inversions,
        "ordered_pairs": pairs,
        "order_flips": flips,
        "rank_correlation": _spearman(previous, fractions) if previous else None,
        "call_order_effect": call_order_effect(taken, reversed_.taken if reversed_ else None),
        "call_order_effect_unrewarded": call_order_effect(*unrewarded) if unrewarded else 0,
        # the first unrewarded order against itself with the price published again
        "price_between_effect": call_order_effect(unrewarded[0], round_.price_between.taken)
        if unrewarded and round_.price_between
        else 0,
        # what it wrote off: the charges the record would have carried, now bad debt
        "price_between_bad_debt": round_.price_between.bad_debt if round_.price_between else 0,
        "call_order_measured": reversed_ is not None,
        # a cap bound: bad debt, or charges short of the budgets, in one order or both,
        # each against its own budgets (an order that paid less in keeper rewards asks less)
        "capped": round_.bad_debt > 0
        or taken_fill < needed
        or (
            reversed_ is not None
            and (reversed_.bad_debt > 0 or sum(reversed_.taken.values()) < reversed_.needed)
        ),
        # what the order may move: the round's rounding unit (a keeper's reward is part of
        # the deficit it closes, fixed by the position: N9)
        "rounding_unit": _rounding_unit(round_),
        "principal_touched": principal,
        "fractions": fractions,
    }


def _eligible(round_: Round) -> tuple[dict[str, int], dict[str, int]]:
    """Profit (capacity) and entry notional of every position eligible in the round, as it
    stood before the round's first deleverage that saw it: the price does not move within a
    round, so that is its profit before any of the round's charges."""
    capacity: dict[str, int] = {}
    entry: dict[str, int] = {}
    for record in round_.deleveragings:
        for account, upnl in record.capacities.items():
            if account not in capacity and upnl > 0:
                capacity[account] = upnl
                entry[account] = record.entries[account]
    return capacity, entry


def _rounding_unit(round_: Round) -> int:
    """The round's rounding unit of charge (property ``adl_monotone_across_calls``): per
    call, one lot's profit (lots are handed out whole) and one unit."""
    per_lot = max(
        (
            -(-upnl // record.sizes[a])
            for record in round_.deleveragings
            for a, upnl in record.capacities.items()
            if upnl > 0 and record.sizes.get(a)
        ),
        default=0,
    )
    return len(round_.deleveragings) * (per_lot + 1)


def call_order_effect(taken: dict[str, int], reversed_taken: dict[str, int] | None) -> int:
    """The largest |difference| in what one account paid over the round between the two
    orders of its bankrupt accounts (0 when one order only)."""
    if reversed_taken is None:
        return 0
    accounts = set(taken) | set(reversed_taken)
    return max((abs(taken.get(a, 0) - reversed_taken.get(a, 0)) for a in accounts), default=0)


def share_inversions(
    capacity: dict[str, int], entry: dict[str, int], taken: dict[str, int], unit: int = 0
) -> tuple[int, int]:
    """Cross-call monotonicity over one round: the pairs of eligible positions where the one
    with more profit by PnL% (upnl / entry) paid a smaller share of its profit (taken /
    upnl) than the other, beyond ``unit`` of charge (the round's rounding), summed over
    every deleverage call of the round; and the number of pairs compared (those whose
    PnL% differ). Exact cross-multiplied integers."""
    names = sorted(capacity)
    inversions = pairs = 0
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            richer = capacity[a] * entry[b] - capacity[b] * entry[a]  # > 0: a has more PnL%
            if not richer:
                continue
            pairs += 1
            paid_more = taken.get(a, 0) * capacity[b] - taken.get(b, 0) * capacity[a]
            if richer * paid_more < 0 and abs(paid_more) > unit * (capacity[a] + capacity[b]):
                inversions += 1
    return inversions, pairs


def run_metrics(runs: list[Run]) -> dict:
    """Per-round metrics of every cascade of one policy, their totals and the objective:
    over all rounds of all cascades in order as one instance, over the rounds with a
    deficit only (a round without one scores 0 but, its theta 0, lengthens the envelope's
    path), and per cascade (each its own instance: no path term between cascades)."""
    rows = []
    for index, run in enumerate(runs):
        previous = None
        for t, round_ in enumerate(run.rounds):
            row = round_metrics(round_, previous)
            previous = row.pop("fractions") or previous
            rows.append({"cascade": index, "round": t, **row})
    scored = score_rows(rows, "taken_fill")
    at_horizon = score_rows(rows, "taken_horizon")
    deficit_rows = [r for r in rows if r["deficit"] > 0]
    on_deficit = score_rows(deficit_rows, "taken_fill")
    # the rounds ADL was asked to pay for: a deficit the fund covered whole asks nothing
    # of any policy, yet its D still widens the envelope
    budget_rows = [r for r in rows if r["needed"] > 0]
    on_budget = score_rows(budget_rows, "taken_fill")
    cascades = [
        _cascade_score(index, [r for r in rows if r["cascade"] == index])
        for index in range(len(runs))
    ]
    percents = sorted(c["percent"] for c in cascades if c["percent"] is not None)
    for row in rows:
        row["objective"] = int(
            abs(row["taken_fill"] - row["needed"])
            + row["needed"] * abs(row["concentration"] - row["reference_concentration"])
        )
    correlations = [r["rank_correlation"] for r in rows if r["rank_correlation"] is not None]
    ordered = [r for r in rows if r["call_order_measured"]]
    totals = {
        key: sum(r[key] for r in rows)
        for key in (
            "deficit",
            "fund_draw",
            "residual",
            "needed",
            "taken_fill",
            "taken_horizon",
            "overshoot",
            "undershoot",
            "tracking",
            "touched",
            "inversions",
            "ordered_pairs",
            "order_flips",
            "principal_touched",
        )
    }
    totals |= {
        "rounds": len(rows),
        "deficit_rounds": len(deficit_rows),
        "call_order_rounds": len(ordered),
        "call_order_capped_rounds": sum(r["capped"] for r in ordered),
        "call_order_effect_max": max((r["call_order_effect"] for r in ordered), default=0),
        "call_order_effect_max_uncapped": max(
            (r["call_order_effect"] for r in ordered if not r["capped"]), default=0
        ),
        # each call by the bankrupt account itself: no keeper reward, rounding alone
        "call_order_effect_max_unrewarded": max(
            (r["call_order_effect_unrewarded"] for r in ordered), default=0
        ),
        # a keeper that waits for the next price between two calls of a round
        "price_between_effect_max": max((r["price_between_effect"] for r in ordered), default=0),
        "price_between_bad_debt_max": max(
            (r["price_between_bad_debt"] for r in ordered), default=0
        ),
        "price_between_bad_debt_rounds": sum(r["price_between_bad_debt"] > 0 for r in ordered),
        "call_order_beyond_unit": sum(
            r["call_order_effect"] > r["rounding_unit"] for r in ordered if not r["capped"]
        ),
        "concentration_max": float(max((r["concentration"] for r in rows), default=0)),
        "top1_share_max": float(max((r["top1_share"] or 0 for r in rows), default=0)),
        "largest_surviving_profit": max((r["largest_surviving_profit"] for r in rows), default=0),
        "rank_correlation_mean": sum(correlations) / len(correlations) if correlations else None,
        "objective": int(scored["total"]),
        "envelope": int(scored["envelope"]),
        "objective_percent": _float(scored["percent"]),
        "objective_deficit": int(on_deficit["total"]),
        "envelope_deficit": int(on_deficit["envelope"]),
        "objective_deficit_percent": _float(on_deficit["percent"]),
        "budget_rounds": len(budget_rows),
        "objective_budget_percent": _float(on_budget["percent"]),
        "cascade_percent_median": _median(percents),
        "cascade_percent_max": percents[-1] if percents else None,
        "objective_horizon": int(at_horizon["total"]),
        "objective_horizon_percent": _float(at_horizon["percent"]),
    }
    for row in rows:
        for key in ("concentration", "reference_concentration", "top1_share"):
            row[key] = None if row[key] is None else float(row[key])
    return {"totals": totals, "cascades": cascades, "rounds": rows}


def _cascade_score(index: int, rows: list[dict]) -> dict:
    scored = score_rows(rows, "taken_fill")
    return {
        "cascade": index,
        "deficit_rounds": sum(1 for r in rows if r["deficit"] > 0),
        "inversions": sum(r["inversions"] for r in rows),
        "objective": int(scored["total"]),
        "envelope": int(scored["envelope"]),
        "percent": _float(scored["percent"]),
    }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def score_rows(rows: list[dict], taken: str) -> dict:
    """The objective of the rows against continuous pro-rata, with profit taken valued
    at the fill or at the horizon, scored by the CSV scorer."""
    if not rows:  # nothing to score (no round had a deficit)
        return {"total": 0, "envelope": 0, "percent": None}
    return scoring.score(
        [
            scoring.Round(
                i,
                Fraction(row["deficit"]),
                Fraction(row["needed"]),
                {"policy": Fraction(row[taken]), REFERENCE: Fraction(row["needed"])},
                {"policy": row["concentration"], REFERENCE: row["reference_concentration"]},
            )
            for i, row in enumerate(rows)
        ],
        REFERENCE,
    )["policy"]


def _float(value) -> float | None:
    return None if value is None else float(value)


def haircuts(runs: list[Run]) -> list[float]:
    """Every charged account's total charge / capacity per deleverage, in [0, 1]."""
    return [
        float(Fraction(c.absorbed, c.capacity))
        for run in runs
        for round_ in run.rounds
        for record in round_.deleveragings
        for c in record.charges
        if c.capacity > 0 and c.absorbed > 0
    ]


def _order_flips(before: dict[str, int], after: dict[str, int]) -> int:
    """Pairs of eligible winners whose order of profit flips after one call's charges."""
    left = {a: after.get(a, u) for a, u in before.items()}
    names = sorted(before)
    return sum(
        1
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if (before[a] - before[b]) * (left[a] - left[b]) < 0
    )


def _spearman(previous: dict[str, Fraction], current: dict[str, Fraction]) -> float | None:
    """Rank correlation of the haircut fractions of the accounts charged in both rounds;
    None when fewer than three or either side has no spread."""
    common = sorted(set(previous) & set(current))
    if len(common) < 3:
        return None
    a, b = _ranks([previous[x] for x in common]), _ranks([current[x] for x in common])
    mean = (len(common) + 1) / 2
    cov = sum((x - mean) * (y - mean) for x, y in zip(a, b, strict=True))
    var_a = sum((x - mean) ** 2 for x in a)
    var_b = sum((y - mean) ** 2 for y in b)
    if not var_a or not var_b:
        return None
    return cov / (var_a * var_b) ** 0.5


def _ranks(values: list[Fraction]) -> list[float]:
    """Average ranks (1-based), ties sharing the mean of their positions."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks
