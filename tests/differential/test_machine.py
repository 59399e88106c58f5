"""The differential state machine with fixed seeds and example budgets (long runs: make fuzz)."""

import pytest

from harness.campaign.fuzz import run_batch
from harness.core.branches import Stats
from harness.core.machine import DifferentialMachine
from pyspec.constants import ADL_POLICY_COUNT

SEED = 20261121


def run(pair, examples: int, steps: int) -> Stats:
    stats = Stats()
    run_batch(DifferentialMachine.bind(pair, stats), SEED, examples, steps, database=None)
    return stats


@pytest.fixture(scope="module")
def embedded_run(embedded_pair):
    """400 sequences switching ADL policies at random, then 25 pinned to each policy (so
    every policy's charge is reached whatever the draws)."""
    stats = run(embedded_pair, examples=400, steps=60)
    for policy in range(ADL_POLICY_COUNT):
        machine = DifferentialMachine.bind(embedded_pair, stats, adl_policy=policy)
        run_batch(machine, SEED + 1 + policy, 25, 60, database=None)
    return stats


def test_spec_and_embedded_chain_agree(embedded_run):
    # Reaching here means every step agreed (a divergence raises inside the run).
    assert embedded_run.steps > 10_000
    assert embedded_run.successes["settle"] > 1_000


def test_every_waterfall_branch_is_reached(embedded_run):
    assert embedded_run.missing_branches() == [], dict(embedded_run.branches)


def test_spec_and_anvil_agree(anvil_pair):
    stats = run(anvil_pair, examples=25, steps=50)
    assert stats.steps > 500
    assert stats.successes["settle"] > 50
