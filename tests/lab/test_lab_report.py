"""The stress lab's report on a small synthetic results dict: the files written, the
Markdown and HTML content, the JSON round trip, the terminal summary and USDC formatting."""

import json

import pytest

from harness.lab.money import usdc_exact
from harness.lab.report import text, usdc, write
from harness.lab.targets import verdicts

POLICIES = ("pro-rata", "greedy <top>")  # "<" and ">" exercise the HTML escaping


def _round(r: int, scale: int) -> dict:
    return {
        "cascade": 0,
        "round": r,
        "price": 2_000_000_000 - r * 50_000_000,
        "deficit": 1_000_000 * r,
        "fund_draw": 200_000 * r,
        "residual": 0,
        "needed": 800_000 * r,
        "eligible_capacity": 2_000_000 * r,
        "taken_fill": 800_000 * r + scale,
        "taken_horizon": 800_000 * r,
        "overshoot": scale,
        "undershoot": 0,
        "tracking": scale,
        "concentration": 0.1 * r,
        "reference_concentration": 0.05 * r,
        "touched": 3 * r,
        "top1_share": None if r == 1 else 0.5,
        "largest_surviving_profit": 5_000_000,
        "inversions": r - 1,
        "ordered_pairs": 3 * r,
        "order_flips": 0,
        "call_order_effect": r - 1,
        "rank_correlation": None if r == 1 else 0.9,
        "principal_touched": 0,
        "objective": 10_000 * r,
    }


def _policy(scale: int, percent: float | None) -> dict:
    return {
        "totals": {
            "deficit": 6_000_000,
            "fund_draw": 1_200_000,
            "residual": 0,
            "needed": 4_800_000,
            "taken_fill": 4_800_000 + 3 * scale,
            "taken_horizon": 4_800_000,
            "overshoot": 3 * scale,
            "undershoot": 0,
            "tracking": 3 * scale,
            "concentration_max": 0.3,
            "touched": 18,
            "top1_share_max": 0.5,
            "largest_surviving_profit": 5_000_000,
            "inversions": 3,
            "ordered_pairs": 18,
            "order_flips": 0,
            "call_order_rounds": 2,
            "call_order_capped_rounds": 1,
            "call_order_effect_max": 2,
            "call_order_effect_max_uncapped": 1,
            "call_order_beyond_unit": 0,
            "call_order_effect_max_unrewarded": 1,
            "price_between_effect_max": 3,
            "price_between_bad_debt_max": 4,
            "price_between_bad_debt_rounds": 1,
            "rank_correlation_mean": None,
            "principal_touched": 0,
            "rounds": 4,
            "deficit_rounds": 3,
            "objective": 60_000,
            "envelope": 7_000_000,
            "objective_percent": percent,
            "objective_deficit": 60_000,
            "envelope_deficit": 6_000_000,
            "objective_deficit_percent": None if percent is None else percent + 1,
            "budget_rounds": 3,
            "objective_budget_percent": None if percent is None else percent + 1,
            "cascade_percent_median": percent,
            "cascade_percent_max": percent,
            "objective_horizon": 90_000,
            "objective_horizon_percent": None,
        },
        "cascades": [
            {
                "cascade": c,
                "deficit_rounds": 3 - 2 * c,
                "inversions": c,
                "objective": 1,
                "envelope": 2,
                "percent": None if c else percent,
            }
            for c in (0, 1)
        ],
        # A second cascade that the per-round table and plots leave out.
        "rounds": [_round(r, scale) for r in (1, 2, 3)] + [{**_round(1, scale), "cascade": 1}],
        "haircuts": [0.0, 0.25, 0.5, 1.0],
    }


@pytest.fixture
def results() -> dict:
    return {
        "lab": {
            "seed": 7,
            "rounds": 3,
            "cascades": 2,
            "traders": 20,
            "generator": "cascade",
            "policies": list(POLICIES),
            "reference": "continuous pro-rata",
            "lambda": 1,
            "scenario": "all",
            "elapsed_seconds": 1.25,
        },
        "policies": {POLICIES[0]: _policy(0, 0.86), POLICIES[1]: _policy(15_000, None)},
        "counterfactual": {
            "side_pro_rata": {
                "deleverages": 4,
                "losers_charged": 2,
                "principal_touched": 1_500_000,
                "note": "charges losers too",
            }
        },
        "adversarial": {
            "sybil": {
                "k": [1, 2, 4, 8],
                "split": {p: [1_000_000, 1_000_000, 1_000_000, 1_000_000] for p in POLICIES},
                "skewed": {p: [1_000_000, 900_000, 800_000, None] for p in POLICIES},
                "note": "splitting should not pay",
            },
            "alternating": {
                "T": [4, 8, 16, 32],
                "objective": {p: [1, 2, 3, 4] for p in POLICIES},
                "note": "capacities flip every round",
            },
            "deposit": {
                **{
                    p: {
                        "depositor_without": 2_000_000,
                        "depositor_before_gap": 1_000_000,
                        "depositor_after_gap": 2_000_000,
                        "others_without": 5_000_000,
                        "others_before_gap": 5_000_000,
                        "others_after_gap": 5_000_000,
                        "refused": ["adl: deficit pending"],
                    }
                    for p in POLICIES
                },
                "note": "a deposit should not shift the charge",
            },
            "close_and_reopen": {
                **{
                    p: {
                        "dodger_without": 3_000_000,
                        "dodger_with": 0,
                        "drop": 3_000_000,
                        "dodger_fees": 100_000,
                        "others_without": 1_000_000,
                        "others_with": 3_800_000,
                        "others_extra": 2_800_000,
                        "fund_extra": 200_000,
                        "bad_debt_with": 0,
                        "bad_debt_extra": 0,
                        "refused": [],
                    }
                    for p in POLICIES
                },
                "note": "closing and reopening should not pay",
            },
        },
        "replay": None,
    }


def test_write(tmp_path, results):
    out = tmp_path / "nested" / "lab"
    paths = write(results, out)
    names = ["haircuts.png", "concentration.png", "overshoot.png", "objective.png"]
    names += ["report.md", "report.html", "results.json"]
    assert sorted(p.name for p in paths) == sorted(names)
    assert all((out / n).is_file() and (out / n).stat().st_size > 0 for n in names)

    md = (out / "report.md").read_text()
    headers = ("# ADL stress lab", "## Executive summary", "## Scores per policy")
    headers += ("## Totals per policy", "## Per cascade", "## Per round (cascade 0)")
    assert all(h in md for h in headers)
    assert [md.index(h) for h in headers] == sorted(md.index(h) for h in headers)
    assert "| policy | deficit | fund draw | needed | taken (fill) |" in md
    assert "| policy | rounds with deficit | objective (fill) | % of envelope |" in md
    assert "| cascade | rounds with deficit | % pro-rata | % greedy <top> |" in md
    assert "| 1 | 1 | n/a | n/a | 1 | 1 |" in md  # cascade 1: no percent, 1 inversion each
    assert "Recommendation: pro-rata, " in md  # the one policy with a deficit-round score
    assert "### Close and reopen before the deleverage (USDC)" in md
    assert "| round | price | deficit |" in md
    assert all(p in md for p in POLICIES)
    assert "n/a" in md and "0.02" in md  # None, and the 15_000 overshoot rounded half to even
    assert "Envelope over every round: 7.00 USDC for every policy" in md
    assert "over the rounds with a deficit: 6.00 USDC for every policy" in md
    assert all(f"]({n})" in md for n in names[:4])
    assert "Differential replay: not run." in md
    assert md.index("haircuts.png") < md.index("concentration.png") < md.index("objective.png")

    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert 'src="http' not in page and "<link" not in page
    assert "greedy &lt;top&gt;" in page and "greedy <top>" not in page

    assert json.loads((out / "results.json").read_text()) == results


def test_write_is_deterministic(tmp_path, results):
    write(results, tmp_path / "a")
    write(results, tmp_path / "b")
    for name in ("report.md", "results.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_envelopes_that_differ_are_listed(tmp_path, results):
    results["policies"][POLICIES[1]]["totals"]["envelope"] = 8_000_000
    write(results, tmp_path)
    assert "pro-rata: 7.00; greedy <top>: 8.00 (USDC)" in (tmp_path / "report.md").read_text()


def test_text(results):
    results["replay"] = {
        "cascades": 2,
        "calls": 40,
        "chain": "embedded",
        "agreed": True,
        "seconds": 0.5,
    }
    summary = text(results)
    assert all(p in summary for p in POLICIES)
    assert "0.86" in summary and "n/a" in summary
    assert "split k=8" in summary and "T=32" in summary and "depositor after gap" in summary
    assert summary.startswith("Recommendation: pro-rata, ")
    assert "dodger fees" in summary and "drops the largest winner's charge by" in summary
    assert summary.rstrip().endswith("agreed with the spec (0.5 s).")


def test_an_adversarial_scenario_alone(tmp_path, results):
    """``--scenario deposit``: no cascade, no plot, no recommendation, the one table."""
    results["policies"] = {}
    results["counterfactual"] = {}
    results["adversarial"] = {"deposit": results["adversarial"]["deposit"]}
    paths = write(results, tmp_path)
    assert sorted(p.name for p in paths) == ["report.html", "report.md", "results.json"]
    md = (tmp_path / "report.md").read_text()
    assert "No recommendation: the cascades were not run" in md
    assert "### Deposit before the trades or after the gap (USDC)" in md
    assert "Sybil" not in md and "![" not in md and "Counterfactual" not in md
    assert text(results).startswith("No recommendation")


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (0, "0.00"),
        (1, "0.00"),
        (9_999, "0.01"),
        (5_000, "0.00"),  # half a cent: to the even 0
        (15_000, "0.02"),  # half a cent: to the even 2
        (25_000, "0.02"),
        (25_001, "0.03"),
        (1_234_567_891, "1,234.57"),
        (1_000_000_000_000, "1,000,000.00"),
        (-1_234_567_891, "-1,234.57"),
        (-15_000, "-0.02"),
        (-5_000, "0.00"),  # rounds to zero, which carries no sign
    ],
)
def test_usdc(units, expected):
    assert usdc(units) == expected


@pytest.mark.parametrize(
    ("units", "expected"),
    [(0, "0.000000"), (2, "0.000002"), (5_249_788_429, "5,249.788429"), (-1, "-0.000001")],
)
def test_usdc_exact(units, expected):
    assert usdc_exact(units) == expected


def test_targets_without_a_deficit_round_are_not_measured(results):
    """A run too short for a deficit (``--cascades 1 --rounds 2``) judges no objective."""
    totals = results["policies"][POLICIES[1]]["totals"]  # no percent at all
    cells = verdicts(totals)
    assert cells[:3] == ["n/a: not measured"] * 3
    assert cells[3] == "3 of 18: missed" and cells[5] == "0.00 USDC: met"
    assert cells[4].startswith("2 units; uncapped 0.00 USDC, 0 beyond") and "missed" in cells[4]
    assert "without keeper rewards 0.000001 USDC" in cells[4]
