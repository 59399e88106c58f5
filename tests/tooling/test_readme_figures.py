"""Figures in the README that count things are checked against the things they count."""

import re
from pathlib import Path

from harness import REPO_ROOT
from harness.vectors.catalogue import ENTRIES

README = (REPO_ROOT / "README.md").read_text()


def figures(pattern: str) -> list[int]:
    found = [int(n.replace(",", "")) for n in re.findall(pattern, README)]
    assert found, f"README no longer says {pattern!r}"
    return found


def test_catalogue_size():
    functions = {(entry.contract, entry.fn) for entry in ENTRIES}
    assert figures(r"all ([\d,]+) entries on the spec") == [len(ENTRIES)]
    assert figures(r"catalogue: ([\d,]+) entries over the") == [len(ENTRIES)]
    assert figures(r"entries over the ([\d,]+) state-changing functions") == [len(functions)]


def test_vector_count():
    count = len(list((REPO_ROOT / "tests" / "vectors").glob("*/*.json")))
    assert figures(r"`tests/vectors/<category>/<name>\.json` \(([\d,]+) files\)") == [count]


def test_every_invariant_and_property_is_stated_in_spec():
    from harness.core import liveness, properties  # noqa: F401 (they register the names)
    from harness.core.invariants import INVARIANTS

    spec = (REPO_ROOT / "SPEC.md").read_text()
    compared = ("state", "reverts", "events", "views")  # the differential checks (README)
    missing = [n for n in INVARIANTS if n not in compared and f"`{n}`" not in spec]
    assert not missing, f"SPEC.md states no {missing}"


def test_unauthorized_entries():
    count = sum(1 for entry in ENTRIES if entry.kind == "unauthorized")
    assert figures(r"state-changing functions of the\s+engine, the Settlement and the "
                   r"Governor, ([\d,]+) of them unauthorized") == [count]  # fmt: skip


def test_deliberate_bugs():
    from harness.campaign.time_to_report import BUGS

    assert figures(r"# ([\d,]+) deliberate bugs") == [len(BUGS)]
    assert figures(r"([\d,]+) deliberate bugs \(`--list`\)") == [len(BUGS)]


def test_coverage_table_counts_todays_executable_lines_and_branches():
    """The 60 s coverage table's executable lines and branches are today's contracts'
    (a run reaches some of them; the code decides how many there are)."""
    from harness.campaign import coverage

    deployed = ["AdlAllocator", "EngineGovernance", "Governor", "PerpEngine", "PerpViews"]
    hits = {name: {} for name in [*deployed, "Settlement"]}
    lines, branches = coverage.line_counts(hits), coverage.branch_counts(hits)
    rows = re.findall(r"^\| (contracts/\S+\.vy) \| [\d,]+ \| ([\d,]+) \| [\d.]+ \| \d+/(\d+) \|$",
                      README, re.M)  # fmt: skip
    assert {path for path, _, _ in rows} == set(lines)
    for path, executable, ways in rows:
        assert int(executable.replace(",", "")) == len(lines[path]), path
        assert int(ways) == 2 * len(branches.get(path, {})), path


def test_test_count(request):
    """The suite's size as the README gives it, checked when the whole suite runs (as
    ``make test`` and ``ape test tests`` run it); a run of part of it cannot tell."""
    import pytest

    config = request.config
    whole = [str((REPO_ROOT / "tests").resolve())]
    if [str(Path(a).resolve()) for a in config.args] != whole or (
        config.option.keyword or config.option.markexpr or config.option.deselect
    ):
        pytest.skip("only the whole suite counts itself")
    assert figures(r"`make test`: ([\d,]+) tests") == [len(request.session.items)]


def test_contract_sizes_are_todays():
    """The sizes quoted are the deployed code: the runtime and 32 bytes per immutable."""
    from harness.evm import artifacts

    sentence = re.search(
        r"Contract size \(deployed runtime, EIP-170 limit 24,576 bytes\): (.*?\.)\n", README, re.S
    )
    assert sentence, "README no longer quotes the contract sizes"
    quoted = re.findall(r"(\w+) ([\d,]+)(?: \([\d,]+ to spare\))?[,.]", sentence.group(1))
    assert len(quoted) == 6, quoted
    for name, size in quoted:
        immutables = artifacts.source_path(name).read_text().count("immutable(")
        assert int(size.replace(",", "")) == len(artifacts.load(name).runtime) + 32 * immutables, (
            name
        )
    engine = int(dict(quoted)["PerpEngine"].replace(",", ""))
    assert figures(r"PerpEngine [\d,]+ \(([\d,]+) to spare\)") == [24_576 - engine]
    spec = (REPO_ROOT / "SPEC.md").read_text()
    left = re.findall(r"PerpEngine has ([\d,]+) bytes left|bytes left then \(([\d,]+) now", spec)
    assert len(left) == 2 and {int((a or b).replace(",", "")) for a, b in left} == {24_576 - engine}


def test_complete_deleverage_gas_is_docs_gas():
    """The deleverage figures in README and SPEC are `docs/gas.md`'s (`make gas`)."""
    import json

    gas = json.loads((REPO_ROOT / "docs" / "gas.json").read_text())

    def worst(policy: str, markets: int) -> int:
        return max(row[policy] for row in gas["policies"] if row["markets"] == markets)

    policies = ("queue", "pnl_pro_rata", "leverage_pro_rata", "contract_pro_rata")
    quoted = re.findall(
        r"queue ([\d,]+) and ([\d,]+), pro-rata on\s+profit\s+([\d,]+) and ([\d,]+),"
        r"\s+leverage-weighted\s+([\d,]+) and ([\d,]+),\s+contract\s+pro-rata\s+([\d,]+) "
        r"and ([\d,]+)\. Each",
        README,
    )
    assert len(quoted) == 1, "README no longer quotes the deleverage per policy"
    quoted = [int(x.replace(",", "")) for x in quoted[0]]

    def cell(policy: str, staggered: bool) -> int:
        return next(
            row[policy]
            for row in gas["policies"]
            if row["markets"] == 1 and row["staggered"] == staggered
        )

    assert quoted == [cell(p, s) for p in policies for s in (False, True)]
    assert figures(r"markets, at most\s+([\d,]+) \(the queue") == [
        max(worst(p, 8) for p in policies)
    ]
    bound = next(r for r in gas["waterfall"] if r["markets"] == 1 and r["positions"] == 32)
    assert figures(r"pnl_pro_rata\) is ([\d,]+),\s+against") == [bound["deleverage"]]
    spec = (REPO_ROOT / "SPEC.md").read_text()
    for policy in policies:
        row = re.search(rf"^\| {policy} \|.*\| ([\d,]+) \(([\d,]+)\) \|$", spec, re.M)
        assert row, f"SPEC.md's policy table has no gas for {policy}"
        assert [int(x.replace(",", "")) for x in row.groups()] == [
            worst(policy, 1),
            worst(policy, 8),
        ]
    worst_fill = re.search(r"costs ([\d,]+) as a call to the allocator alone", spec)
    assert (
        worst_fill
        and int(worst_fill.group(1).replace(",", ""))
        == (gas["allocate_worst"]["contract_pro_rata"])
    )
