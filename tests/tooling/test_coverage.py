"""Vyper source coverage (``--coverage``): pcs counted on anvil, mapped to the lines of
the files they come from, written as lcov and in the reports."""

import pytest

from harness import REPO_ROOT
from harness.campaign import coverage, fuzz
from harness.core.call import Call
from harness.evm.anvil_coverage import CoverageAnvilChain


def line_of(path: str, text: str) -> int:
    """The number of the one line of ``path`` that contains ``text``."""
    source = (REPO_ROOT / path).read_text().splitlines()
    (number,) = [i for i, line in enumerate(source, 1) if text in line]
    return number


def lcov_records(text: str) -> dict[str, dict[int, int]]:
    records, current = {}, None
    for line in text.splitlines():
        if line.startswith("SF:"):
            current = records[line[3:]] = {}
        elif line.startswith("DA:"):
            number, count = line[3:].split(",")
            current[int(number)] = int(count)
    return records


def test_a_deposit_runs_its_lines_and_no_liquidation_code():
    chain = CoverageAnvilChain()
    try:
        pair = fuzz.new_pair(chain)
        assert chain.hits == {}  # the setup's transactions are not the campaign's
        assert pair.apply(Call("engine", "deposit", "trader0", (10**9,))).success
        hits = coverage.contract_hits(chain)
    finally:
        chain.close()
    branches = coverage.branch_counts(hits)
    records = lcov_records(coverage.lcov(coverage.line_counts(hits), branches))
    engine, liquidation = "contracts/PerpEngine.vy", "contracts/engine/liquidation.vy"
    credit = line_of(engine, "storage.collateral[msg.sender] += convert(amount, int256)")
    assert records[engine][credit] == 1
    # inlined from its module, counted in its own file: runs only to liquidate part of a
    # position, and nothing was liquidated
    shortfall = line_of(liquidation, "shortfall: int256 = maintenance - equity")
    assert records[liquidation][shortfall] == 0
    # a deployed contract the deposit never reached still has its lines, none run
    assert not any(records["contracts/AdlAllocator.vy"].values())
    assert not any(path.startswith(coverage.NOT_PROTOCOL) for path in records)
    # deposit's amount checks passed once each and never reverted
    check = line_of(engine, 'assert amount > 0, "deposit: zero amount"')
    (ways,) = [pair for (line, _), pair in branches[engine].items() if line == check]
    assert ways == [0, 1]  # passed once (an assert jumps past its revert), never reverted


def test_a_tiny_campaign_writes_lcov_and_the_annotated_sources(tmp_path):
    out = tmp_path / "run"
    argv = ["--max-steps", "20", "--seconds", "60", "--seed", "1", "--chain", "anvil"]
    argv += ["--coverage", "--out", str(out), "--database", ""]
    assert fuzz.main(argv) == 0
    records = lcov_records((out / "coverage.lcov").read_text())
    for path in ("PerpEngine.vy", "engine/margin.vy", "engine/positions.vy", "lib/fixed_math.vy"):
        assert any(records[f"contracts/{path}"].values())
    assert "## Vyper source coverage" in (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert "<tr class='hit'>" in page and "<tr class='miss'>" in page


def test_coverage_needs_anvil(capsys):
    with pytest.raises(SystemExit) as exit_:
        fuzz.main(["--coverage", "--seconds", "1"])
    assert exit_.value.code == 2
    assert "--coverage needs --chain anvil" in capsys.readouterr().err
