"""The stress lab end to end on a small run: every policy keeps principal, the metrics
show the properties SPEC.md claims for each policy, and the sample replays on the chain."""

import json

import pytest

from harness.lab.__main__ import main


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    assert main(["--cascades", "3", "--rounds", "8", "--replay", "1", "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text())


def test_no_policy_touches_principal(results):
    for name, policy in results["policies"].items():
        assert policy["totals"]["principal_touched"] == 0, name
        assert all(0 <= h <= 1 for h in policy["haircuts"]), name


def test_every_policy_is_asked_the_same_and_takes_at_most_that(results):
    totals = [p["totals"] for p in results["policies"].values()]
    assert len({t["needed"] for t in totals}) == 1
    assert all(0 < t["taken_fill"] <= t["needed"] for t in totals)


def test_pro_rata_on_profit_is_monotone_the_queue_is_not(results):
    policies = results["policies"]
    assert policies["pnl_pro_rata"]["totals"]["inversions"] == 0
    assert policies["queue"]["totals"]["inversions"] > 0


def test_queue_regret_grows_linearly_pro_rata_on_profit_has_none(results):
    objective = results["adversarial"]["alternating"]["objective"]
    queue = objective["queue"]
    assert queue[1] == 2 * queue[0] and queue[3] == 8 * queue[0] > 0
    assert set(objective["pnl_pro_rata"]) == {0}


def test_only_leverage_weights_follow_a_deposit(results):
    deposit = results["adversarial"]["deposit"]
    for name in ("queue", "pnl_pro_rata", "contract_pro_rata"):
        assert deposit[name]["depositor_with"] == deposit[name]["depositor_without"], name
    assert (
        deposit["leverage_pro_rata"]["depositor_with"]
        < (deposit["leverage_pro_rata"]["depositor_without"])
    )


def test_proportional_sybils_pay_the_same_to_k_units(results):
    sybil = results["adversarial"]["sybil"]
    for name, paid in sybil["split"].items():
        assert all(abs(p - paid[0]) < k for p, k in zip(paid, sybil["k"], strict=True)), name


def test_the_side_wide_counterfactual_touches_principal(results):
    counterfactual = results["counterfactual"]["side_pro_rata"]
    assert counterfactual["losers_charged"] > 0 and counterfactual["principal_touched"] > 0


def test_the_sample_replays_on_the_chain(results):
    replay = results["replay"]
    assert replay["agreed"] and replay["calls"] > 4 * 50
