"""Issue 19's targets (deliverable 7) for the default policy, judged on one generator's
totals: the objective at most 3% of the envelope (over every round, over the rounds with
a deficit, and over those that asked ADL for a budget: a deficit the fund covers whole
widens the envelope without asking anything of the policy), no cross-call inversion, a
call-order effect of at most one unit per account, and no principal touched. Each verdict
says what the run measured; a miss is reported, never tuned away.
"""

from __future__ import annotations

from typing import Any

from harness.core import genesis
from harness.lab.money import usdc, usdc_exact
from pyspec.constants import ADL_POLICY_NAMES

DEFAULT_POLICY = ADL_POLICY_NAMES[genesis.DEFAULT_CONFIG.markets[0].adl_policy]
OBJECTIVE_PERCENT = 3
CALL_ORDER_UNITS = 1
NOT_MEASURED = "not measured"  # no round or pair of that kind in the run
TARGETS = (
    f"objective ≤ {OBJECTIVE_PERCENT}% of the envelope",
    f"objective on deficit rounds ≤ {OBJECTIVE_PERCENT}%",
    f"objective on rounds with an ADL budget ≤ {OBJECTIVE_PERCENT}%",
    "cross-call inversions 0",
    f"call-order effect ≤ {CALL_ORDER_UNITS} unit per account",
    "principal touched 0",
)


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def _objective(percent: float | None) -> str:
    if percent is None:  # no round of that kind: nothing to judge
        return f"n/a: {NOT_MEASURED}"
    return f"{percent:.2f}%: {_verdict(percent <= OBJECTIVE_PERCENT)}"


def verdicts(totals: dict[str, Any]) -> list[str]:
    """One cell per target (``TARGETS`` order): the measured figure and met or missed."""
    effect, uncapped = totals["call_order_effect_max"], totals["call_order_effect_max_uncapped"]
    return [
        _objective(totals["objective_percent"]),
        _objective(totals["objective_deficit_percent"]),
        _objective(totals["objective_budget_percent"]),
        f"{totals['inversions']:,} of {totals['ordered_pairs']:,}: "
        + (_verdict(totals["inversions"] == 0) if totals["ordered_pairs"] else NOT_MEASURED),
        f"{effect:,} units; uncapped {usdc(uncapped)} USDC, "
        f"{totals['call_order_beyond_unit']} beyond the rounding unit; without keeper "
        f"rewards {usdc_exact(totals['call_order_effect_max_unrewarded'])} USDC: "
        + (_verdict(effect <= CALL_ORDER_UNITS) if totals["call_order_rounds"] else NOT_MEASURED),
        f"{usdc(totals['principal_touched'])} USDC: " + _verdict(totals["principal_touched"] == 0),
    ]
