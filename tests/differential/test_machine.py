"""The differential state machine with fixed seeds and example budgets (long runs: make fuzz)."""

import pytest

from harness.campaign import run_batch
from harness.coverage import Stats
from harness.machine import DifferentialMachine

SEED = 20261121


def run(protocol, examples: int, steps: int) -> Stats:
    stats = Stats()
    run_batch(DifferentialMachine.bind(protocol, stats), SEED, examples, steps, database=None)
    return stats


@pytest.fixture(scope="module")
def embedded_run(embedded_protocol):
    return run(embedded_protocol, examples=400, steps=60)


def test_spec_and_embedded_chain_agree(embedded_run):
    # Reaching here means every step agreed (a divergence raises inside the run).
    assert embedded_run.steps > 10_000
    assert embedded_run.successes["settle_trade"] > 1_000


def test_every_waterfall_branch_is_reached(embedded_run):
    assert embedded_run.missing_branches() == [], dict(embedded_run.branches)


def test_spec_and_anvil_agree(anvil_protocol):
    stats = run(anvil_protocol, examples=25, steps=50)
    assert stats.steps > 500
    assert stats.successes["settle_trade"] > 50
