"""The stress lab end to end at its defaults: every scenario runs, every policy keeps
principal, the metrics show what SPEC.md and issue 19 claim for each policy, the sample
replays on the chain, and the committed report in docs/adl-lab is the one the defaults
write (timings aside).

Measured on 2 shared cores: the defaults (every scenario, 50 cascades of 12 rounds, 29
traders, 2 cascades replayed, and the second generator's 50 cascades) about 12 s;
``--scenario cascade`` about 7 s; the second generator at small size about 1 s; each
other scenario alone under 1 s. Every scenario runs with the defaults here."""

import json
import re

import pytest

from harness import REPO_ROOT
from harness.core.orders import Match
from harness.lab import cascade, targets, wide
from harness.lab.__main__ import SCENARIOS, main
from harness.lab.money import usdc, usdc_exact

DOCS = REPO_ROOT / "docs" / "adl-lab"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """``make adl-lab`` at its defaults, written into a temporary folder."""
    out = tmp_path_factory.mktemp("lab")
    assert main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def results(default_run):
    return json.loads((default_run / "results.json").read_text())


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "all"])
def test_every_scenario_runs_at_the_defaults(tmp_path, scenario):
    assert main(["--scenario", scenario, "--out", str(tmp_path)]) == 0
    run = json.loads((tmp_path / "results.json").read_text())
    assert run["lab"]["scenario"] == scenario
    assert bool(run["policies"]) == (scenario == "cascade")
    assert list(run["adversarial"]) == (
        [] if scenario == "cascade" else [scenario.replace("-", "_")]
    )
    report = (tmp_path / "report.md").read_text()
    assert report.index("## Executive summary") < report.index("## Differential replay")


@pytest.fixture(scope="module")
def wide_run(tmp_path_factory):
    """The second generator at small size: 4 cascades of 8 rounds, 14 traders."""
    out = tmp_path_factory.mktemp("wide")
    args = ["--generator", "wide", "--scenario", "cascade", "--cascades", "4", "--rounds", "8"]
    assert main([*args, "--traders", "14", "--replay", "1", "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text())


def test_the_wide_generator_draws_what_it_says():
    drawn = wide.draw(cascade.Scenario(3, 14))
    trades = [m for m in drawn.opening if isinstance(m, Match)]
    on_market = [m for m in trades if m.market == cascade.MARKET]
    assert len({m.price for m in on_market}) == len({m.seller for m in on_market}) > 3
    assert len({m.buyer for m in on_market}) + len({m.seller for m in on_market}) == 13
    cross = {m.buyer for m in trades if m.market == cascade.OTHER_MARKET}
    assert cross and cross <= {m.buyer for m in on_market}  # losers on both markets
    rises = zip(drawn.other_prices, drawn.other_prices[1:], strict=False)
    assert len(drawn.other_prices) == 12 and all(a <= b for a, b in rises)  # flat or winning
    with pytest.raises(ValueError, match="at least 5"):
        wide.draw(cascade.Scenario(traders=4))


def test_the_wide_generator_runs_and_replays(wide_run):
    assert wide_run["lab"]["generator"] == "wide" and wide_run["replay"]["agreed"]
    for name, policy in wide_run["policies"].items():
        assert policy["totals"]["principal_touched"] == 0, name
        # the lab's budget is the spec's: a cross-margin loser's winning leg takes no
        # share of its deficit (by maintenance weights the lab understated it)
        assert all(r["taken_fill"] <= r["needed"] for r in policy["rounds"]), name
    pnl = wide_run["policies"][targets.DEFAULT_POLICY]["totals"]
    assert pnl["inversions"] == 0 < pnl["ordered_pairs"]
    # bankrupt cohorts: the keeper's order is measured, and moves no more than the
    # rounding unit wherever no cap binds
    assert pnl["call_order_rounds"] > pnl["call_order_capped_rounds"]
    assert pnl["call_order_beyond_unit"] == 0
    # without keeper rewards, the order moves the two water-fills' remainders at most
    assert pnl["call_order_effect_max_unrewarded"] <= 2


def test_the_defaults_fill_the_market_to_its_capacity(results):
    assert results["lab"]["traders"] == cascade.MAX_TRADERS == 29  # 32 slots - 4 reserved + 1
    with pytest.raises(ValueError, match="traders: 2 to 29"):
        cascade.Scenario(traders=cascade.MAX_TRADERS + 1)
    with pytest.raises(SystemExit):
        main(["--traders", str(cascade.MAX_TRADERS + 1)])


def test_no_policy_touches_principal(results):
    for name, policy in results["policies"].items():
        assert policy["totals"]["principal_touched"] == 0, name
        assert all(0 <= h <= 1 for h in policy["haircuts"]), name


def test_every_policy_is_asked_the_same_first_and_takes_at_most_that(results):
    """The same cascade starts every policy: until its first deleverage the states are
    equal, so its first round with a deficit asks every policy the same; later rounds
    follow the positions each policy left."""
    policies = results["policies"].values()
    for c in range(results["lab"]["cascades"]):
        firsts = [
            next((r for r in p["rounds"] if r["cascade"] == c and r["deficit"]), None)
            for p in policies
        ]
        assert len({(r["round"], r["deficit"], r["needed"]) if r else None for r in firsts}) == 1
    assert all(0 < p["totals"]["taken_fill"] <= p["totals"]["needed"] for p in policies)


def test_scores_on_deficit_rounds_and_per_cascade(results):
    for name, policy in results["policies"].items():
        totals, cascades = policy["totals"], policy["cascades"]
        assert 0 < totals["deficit_rounds"] < totals["rounds"] == 50 * 12, name
        # the same objective over a shorter envelope: rounds without a deficit score 0
        assert totals["objective_deficit"] == totals["objective"], name
        assert totals["objective_deficit_percent"] > totals["objective_percent"], name
        assert len(cascades) == 50
        assert sum(c["deficit_rounds"] for c in cascades) == totals["deficit_rounds"]
        assert sum(c["inversions"] for c in cascades) == totals["inversions"]
        percents = [c["percent"] for c in cascades if c["percent"] is not None]
        assert min(percents) <= totals["cascade_percent_median"] <= max(percents)
        assert totals["cascade_percent_max"] == max(percents)


def test_pro_rata_on_profit_is_monotone_within_and_across_calls(results):
    """Issue 19: lots by size keep every round's shares in proportion across its calls
    (lots by profit gave 1,544 inversions of 4,087 pairs on these cascades)."""
    pnl = results["policies"]["pnl_pro_rata"]["totals"]
    assert pnl["order_flips"] == 0
    assert pnl["inversions"] == 0 < pnl["ordered_pairs"]
    assert results["policies"]["queue"]["totals"]["order_flips"] > 0
    assert results["policies"]["queue"]["totals"]["inversions"] > 0


def test_queue_regret_grows_linearly_pro_rata_on_profit_has_none(results):
    objective = results["adversarial"]["alternating"]["objective"]
    queue = objective["queue"]
    assert queue[1] == 2 * queue[0] and queue[3] == 8 * queue[0] > 0
    assert set(objective["pnl_pro_rata"]) == {0}


def test_only_leverage_weights_follow_a_deposit(results):
    """Before any deficit is public a deposit lowers a leverage weight, as the policy
    intends; after the gap the no-dodge gate refuses it there (issue 19), and under the
    others it is taken and moves nothing."""
    deposit = results["adversarial"]["deposit"]
    for name in ("queue", "pnl_pro_rata", "contract_pro_rata"):
        figures = deposit[name]
        assert figures["depositor_before_gap"] == figures["depositor_without"], name
        assert figures["depositor_after_gap"] == figures["depositor_without"], name
        assert figures["refused"] == [], name
    leverage = deposit["leverage_pro_rata"]
    assert leverage["depositor_before_gap"] < leverage["depositor_without"]
    assert leverage["depositor_after_gap"] == leverage["depositor_without"]
    assert leverage["refused"] == ["adl: deficit pending"]


def test_a_capped_shortfall_stays_where_it_arose_whatever_the_market_ids(results):
    """Issue 19, cross-market: under every policy, in both id orders, the winners of the
    market where the bankrupt account lost nothing pay nothing, and the loss rule takes
    the shortfall."""
    for name, figures in results["adversarial"]["cross_market"].items():
        if name == "note":
            continue
        assert figures["charged_elsewhere_0_1"] == figures["charged_elsewhere_1_0"] == 0, name
        assert figures["bad_debt_0_1"] > 0 and figures["bad_debt_1_0"] > 0, name


def test_close_and_reopen_is_refused_and_moves_nothing(results):
    """Issue 19, no dodge: both trades of the round trip are refused while the deficit is
    public, so the dodger pays what it would have paid and nobody pays for it."""
    reopen = results["adversarial"]["close_and_reopen"]
    for name in results["lab"]["policies"]:
        f = reopen[name]
        assert f["refused"] == ["adl: deficit pending"] * 2, name
        assert f["dodger_with"] == f["dodger_without"] > 0 == f["dodger_fees"], name
        assert f["drop"] == f["others_extra"] == f["fund_extra"] == f["bad_debt_extra"] == 0


def test_proportional_sybils_pay_the_same_to_k_units(results):
    sybil = results["adversarial"]["sybil"]
    for name, paid in sybil["split"].items():
        assert all(abs(p - paid[0]) < k for p, k in zip(paid, sybil["k"], strict=True)), name


def test_the_side_wide_counterfactual_touches_principal(results):
    counterfactual = results["counterfactual"]["side_pro_rata"]
    assert counterfactual["losers_charged"] > 0 and counterfactual["principal_touched"] > 0


def test_the_sample_replays_on_the_chain(results):
    replay = results["replay"]
    assert replay["agreed"] and replay["cascades"] == 2 and replay["calls"] > 4 * 2 * 50


def test_the_summary_recommends_from_the_figures(default_run, results):
    report = (default_run / "report.md").read_text()
    summary = report[report.index("## Executive summary") : report.index("## Scores per policy")]
    best = min(
        results["policies"],
        key=lambda n: results["policies"][n]["totals"]["objective_deficit_percent"],
    )
    assert f"Recommendation: {best}," in summary
    percent = results["policies"][best]["totals"]["objective_deficit_percent"]
    assert f"{percent:.2f}% of the envelope on those rounds" in summary


def _without_timings(text: str) -> str:
    """report.md with its wall-clock figures blanked: everything else is seeded."""
    text = re.sub(r"ran in [0-9.]+ s", "ran in _ s", text)
    return re.sub(r"\([0-9.]+ s\)", "(_ s)", text)


def _results_without_timings(text: str) -> dict:
    results = json.loads(text)
    del results["lab"]["elapsed_seconds"]
    if results["replay"]:
        del results["replay"]["seconds"]
    return results


def test_the_committed_report_is_current(default_run):
    """docs/adl-lab is what ``make adl-lab ARGS='--out docs/adl-lab'`` writes at the
    defaults. Compared: report.md and results.json, timings aside; the PNGs (and the HTML
    that embeds them) depend on the matplotlib build, so only their presence is."""
    stale = "docs/adl-lab/{} is stale: make adl-lab ARGS='--out docs/adl-lab'"
    fresh, committed = ((d / "report.md").read_text() for d in (default_run, DOCS))
    assert _without_timings(committed) == _without_timings(fresh), stale.format("report.md")
    fresh, committed = ((d / "results.json").read_text() for d in (default_run, DOCS))
    assert _results_without_timings(committed) == _results_without_timings(fresh), stale.format(
        "results.json"
    )
    written = sorted(p.name for p in default_run.iterdir())
    assert written == sorted(p.name for p in DOCS.iterdir())


def test_the_readme_quotes_the_committed_report():
    """README's figures for ``make adl-lab`` are docs/adl-lab's (checked current above)."""
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    results = json.loads((DOCS / "results.json").read_text())
    for name, policy in results["policies"].items():
        t = policy["totals"]
        scores = [t["objective_percent"], t["objective_deficit_percent"]]
        scores.append(t["cascade_percent_median"])
        assert " / ".join(f"{v:.2f}" for v in scores) in readme, name
        assert f"{t['inversions']:,} of {t['ordered_pairs']:,}" in readme, name
    rounds = next(iter(results["policies"].values()))["totals"]
    assert f"{rounds['deficit_rounds']} of {rounds['rounds']} rounds with a deficit" in readme
    assert f"{results['lab']['traders']} traders" in readme
    assert f"The replay of {results['replay']['calls']:,} calls agreed" in readme
    other = results["other_generator"]
    for name, policy in other["policies"].items():
        t = policy["totals"]
        scores = [t["objective_percent"], t["objective_deficit_percent"]]
        scores.append(t["cascade_percent_median"])
        assert " / ".join(f"{v:.2f}" for v in scores) in readme, name
        assert f"{t['inversions']:,} of {t['ordered_pairs']:,}" in readme, name


def test_the_readme_quotes_the_targets():
    """README's verdicts on issue 19's targets, first generator / second, are the
    committed report's."""
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    results = json.loads((DOCS / "results.json").read_text())
    other = results["other_generator"]
    first = results["policies"][targets.DEFAULT_POLICY]["totals"]
    second = other["policies"][targets.DEFAULT_POLICY]["totals"]
    assert other["generator"] == "wide"

    def both(key: str, form: str = "{:.2f}%") -> str:
        return f"{form.format(first[key])} / {form.format(second[key])}"

    assert f"{second['deficit_rounds']} of {second['rounds']} rounds with a deficit" in readme
    assert f"{second['budget_rounds']} with an ADL budget" in readme
    assert f"objective {both('objective_percent')} of the envelope, met" in readme
    assert max(first["objective_percent"], second["objective_percent"]) <= 3
    assert f"with a deficit {both('objective_deficit_percent')}" in readme
    assert f"with an ADL budget {both('objective_budget_percent')}, met on both" in readme
    assert max(first["objective_budget_percent"], second["objective_budget_percent"]) <= 3
    assert first["inversions"] == second["inversions"] == 0
    assert first["principal_touched"] == second["principal_touched"] == 0
    rounds = [
        f"{t['call_order_capped_rounds']} of {t['call_order_rounds']}" for t in (first, second)
    ]
    assert f"A cap binds in {' / '.join(rounds)} rounds with two or more bankrupt" in readme
    effect = " / ".join(usdc_exact(t["call_order_effect_max"]) for t in (first, second))
    assert f"keeper's order moves up to {effect} USDC of one account's charges" in readme
    # met: the round's charges are one apportionment (2 units, missed, until 2026-12-06)
    assert max(first["call_order_effect_max"], second["call_order_effect_max"]) <= (
        targets.CALL_ORDER_UNITS
    )
    unrewarded = [usdc_exact(t["call_order_effect_max_unrewarded"]) for t in (first, second)]
    assert f"(no keeper reward), it moves up to {' / '.join(unrewarded)} USDC" in readme
    between = (
        f"{usdc(first['price_between_effect_max'])} / {usdc(second['price_between_effect_max'])}"
    )
    assert f'"How long a round lasts") moves up to {between} USDC' in readme
    written_off = " / ".join(usdc(t["price_between_bad_debt_max"]) for t in (first, second))
    assert f"up to {written_off} USDC of the round's deficit becomes bad debt" in readme
    rounds = [
        f"{t['price_between_bad_debt_rounds']} of {t['call_order_rounds']}" for t in (first, second)
    ]
    assert f"(in {' / '.join(rounds)} rounds)" in readme
    spec = " ".join((REPO_ROOT / "SPEC.md").read_text().split())
    assert f"moves up to {usdc(first['price_between_effect_max'])} USDC of one account's" in spec
    assert f"and {usdc(second['price_between_effect_max'])} on the wide one" in spec
    assert first["call_order_beyond_unit"] == second["call_order_beyond_unit"] == 0
