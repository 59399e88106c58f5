"""The executive summary at the top of the lab's report: a recommendation and the figures
behind it, written from the results dict alone (so it says only what the run measured).

The rule: among the policies that touched no principal, recommend the one with the lowest
objective on the rounds with a deficit (the rounds where a policy chooses who pays; the
others score 0 and only lengthen the envelope), ties to the fewest cross-call inversions.
Then say plainly where the recommended policy still fails: inversions across the calls of
a round, a charge dropped by closing and reopening, a charge moved by a split or deposit.
"""

from __future__ import annotations

from typing import Any

from harness.lab.money import usdc


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def _usdc(units: int) -> str:
    return usdc(units) + " USDC"


def recommend(policies: dict[str, Any]) -> str | None:
    """The recommended policy's name (see the module docstring), None if no policy ran."""
    safe = {n: p["totals"] for n, p in policies.items() if p["totals"]["principal_touched"] == 0}
    if not safe:
        return None

    def key(name: str) -> tuple:
        percent = safe[name]["objective_deficit_percent"]
        return (percent is None, percent or 0, safe[name]["inversions"])

    return min(safe, key=key)


def _cascades(name: str, policies: dict[str, Any], lab: dict[str, Any]) -> list[str]:
    totals = policies[name]["totals"]
    others = "; ".join(
        f"{n} {_percent(p['totals']['objective_deficit_percent'])}"
        for n, p in policies.items()
        if n != name
    )
    lines = [
        f"Recommendation: {name}, the lowest objective on the rounds with a deficit among "
        "the policies that keep principal whole. "
        f"On {lab['cascades']} cascades ({totals['deficit_rounds']} of {totals['rounds']} "
        f"rounds with a deficit) it scores {_percent(totals['objective_deficit_percent'])} of "
        f"the envelope on those rounds ({others}), "
        f"{_percent(totals['objective_percent'])} over every round, and a median of "
        f"{_percent(totals['cascade_percent_median'])} per cascade "
        f"(worst {_percent(totals['cascade_percent_max'])}).",
    ]
    inversions = ", ".join(
        f"{n} {p['totals']['inversions']:,}/{p['totals']['ordered_pairs']:,}"
        for n, p in policies.items()
    )
    verdict = (
        "It is monotone across calls."
        if totals["inversions"] == 0
        else "It is not monotone across the calls of a round: a position with more profit "
        "(by PnL%) pays a smaller share of it than one with less, in "
        f"{totals['inversions']:,} of {totals['ordered_pairs']:,} same-round pairs."
    )
    lines.append(f"Cross-call inversions (of same-round pairs): {inversions}. {verdict}")
    return lines


def _dodge(name: str | None, reopen: dict[str, Any]) -> str:
    figures = {n: f for n, f in reopen.items() if isinstance(f, dict)}
    if all(f["refused"] and f["drop"] == 0 for f in figures.values()):
        reasons = sorted({r for f in figures.values() for r in f["refused"]})
        return (
            "Close-and-reopen between the public gap and the deleverage is refused under "
            f"every policy ({', '.join(reasons)}): the largest winner pays what it would "
            "have paid and nobody pays for it (the no-dodge gate of issue 19)."
        )
    dodged = [n for n, f in figures.items() if f["drop"] > f["dodger_fees"]]
    listed = "; ".join(
        f"{n} {_usdc(f['drop'])} of {_usdc(f['dodger_without'])}" for n, f in figures.items()
    )
    text = (
        "Close-and-reopen between the public gap and the deleverage drops the largest "
        f"winner's charge by: {listed}."
    )
    if name in figures:
        f = figures[name]
        text += (
            f" Under {name} the round trip costs it {_usdc(f['dodger_fees'])} in fees; the "
            f"other winners pay {_usdc(f['others_extra'])} more, the fund "
            f"{_usdc(f['fund_extra'])} and bad debt grows by {_usdc(f['bad_debt_extra'])}."
        )
    if dodged:
        text += (
            f" {len(dodged)} of {len(figures)} policies let a winner save more than the dodge "
            "costs: none is safe to ship before the round-consistent allocation and the "
            "no-dodge rule of issue 19."
        )
    return text


def _splits(name: str, sybil: dict[str, Any], deposit: dict[str, Any] | None) -> str:
    paid = [p for p in sybil["split"][name] + sybil["skewed"][name] if p is not None]
    spread = max(paid) - min(paid)
    text = (
        f"Under {name} a sybil split (k up to {max(sybil['k'])}, equal or skewed collateral) "
        f"moves the owner's total charge by at most {_usdc(spread)} (splits across entry "
        "prices are not in this lab)"
    )
    if deposit and name in deposit:
        moved = deposit[name]["depositor_without"] - deposit[name]["depositor_after_gap"]
        text += f", and a deposit after the gap by {_usdc(moved)}"
    return text + "."


def summary(results: dict[str, Any]) -> list[str]:
    """The summary's paragraphs (Markdown)."""
    policies, adv = results["policies"], results["adversarial"]
    name = recommend(policies)
    if policies and name is None:
        lines = ["No recommendation: every policy touched principal."]
    elif name:
        lines = _cascades(name, policies, results["lab"])
    else:
        lines = ["No recommendation: the cascades were not run (`--scenario all` or `cascade`)."]
    if "close_and_reopen" in adv:
        lines.append(_dodge(name, adv["close_and_reopen"]))
    if name and "sybil" in adv:
        lines.append(_splits(name, adv["sybil"], adv.get("deposit")))
    return lines
