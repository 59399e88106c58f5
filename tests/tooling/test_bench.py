"""``make bench`` machinery: the workload, a tiny run on the embedded chain and the ape
baseline, and its JSON line. Speed is measured by ``make bench``, never asserted here."""

import json

import pytest

from harness import REPO_ROOT
from harness.core.call import Call
from harness.core.pair import Divergence, Pair
from harness.evm import make_chain
from harness.measure import bench


@pytest.fixture(scope="module")
def pair():
    chain = make_chain("embedded")
    yield Pair(chain)
    chain.close()


def test_default_workload_is_deterministic_and_reaches_the_waterfall(pair):
    args = bench.parse_args([])
    workload = bench.generate(pair, args.seed, args.sequences, args.steps)
    again = bench.generate(pair, args.seed, args.sequences, args.steps)
    assert workload.sequences == again.sequences
    summary = workload.summary()
    assert summary["sequences"] == args.sequences
    assert summary["liquidations"] > 0
    assert summary["deleverages"] > 0
    assert summary["bad_debt_write_offs"] > 0
    assert summary["invalid_calls"] > 0
    assert set(summary["calls"]) == {
        "settle",
        "cancel_order",
        "invalidate_nonces",
        "update_price",
        "liquidate",
        "deleverage",
        "deposit",
        "withdraw",
        "withdraw_insurance",  # refused at once: only the Governor withdraws
        "schedule",  # the Governor's withdrawal of the fund (N6)
        "execute",
        "top_up_insurance",
        "check_views",
        "set_funding_rate",
        "wait",  # before a price update in the second it was last published
    }
    # docs/bench.md states these counts
    stated = " ".join((REPO_ROOT / "docs" / "bench.md").read_text().split())
    counts = (
        f"The default seed {args.seed} gives {summary['steps']:,} steps, with "
        f"{summary['invalid_calls']:,} invalid calls (reverts), {summary['liquidations']:,} "
        f"successful liquidations, {summary['deleverages']:,} deleverages (ADL) and "
        f"{summary['bad_debt_write_offs']:,} bad-debt write-offs."
    )
    assert counts in stated, counts
    first = len(workload.sequences[0])
    assert first >= 8 + args.steps  # the opening deposits, then an action or two a step
    prefix = workload.prefix(first + 5)
    assert prefix == [workload.sequences[0], workload.sequences[1][:5]]


def test_tiny_bench_prints_a_json_last_line(capsys):
    argv = ["--sequences", "2", "--steps", "10", "--ape-steps", "15", "--no-bare"]
    assert bench.main([*argv, "--backends", "embedded,ape"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("ape_baseline") for line in lines)
    result = json.loads(lines[-1])
    assert {"embedded", "anvil", "ape_baseline", "ratio_embedded_to_ape"} <= set(result)
    assert result["embedded"] > 0 and result["embedded_prefix"] > 0
    assert result["campaign"] > 0 and result["campaign_hypothesis"] > 0
    assert result["ape_baseline"] > 0
    assert result["anvil"] is None
    assert result["ape_steps"] == 15
    assert result["workload"]["steps"] >= 2 * (8 + 10)


def test_ape_baseline_catches_a_divergence():
    import ape

    from harness.measure import ape_baseline

    previous = ape.config.test.number_of_accounts
    ape.config.test.number_of_accounts = 12
    try:
        with ape.networks.parse_network_choice(ape_baseline.NETWORK):
            with ape.chain.isolate():
                p = ape_baseline.ApePair()
                p.apply(Call("engine", "deposit", "trader0", (10**6,)))
                p.check_views(["trader0", "trader1"])
                p.state.oracle = p.actors["outsider"]  # spec accepts, chain reverts
                with pytest.raises(Divergence) as failure:
                    p.apply(Call("engine", "update_price", "outsider", (0, 2 * 10**6, 2)))
                assert failure.value.kind == "revert"
                p.state.insurance_fund += 1  # the spec's state now differs from the chain's
                with pytest.raises(Divergence) as failure:
                    p.apply(Call("engine", "deposit", "trader1", (10**6,)))
                assert failure.value.kind == "state"
    finally:
        ape.config.test.number_of_accounts = previous
