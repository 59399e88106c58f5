"""Vyper source coverage of a campaign (``--coverage``): the pcs its transactions ran,
per contract, turned into lines of each source file through the compiler's source map.

A line is executable when some runtime instruction maps to it (constructors run only at
deployment, so ``__init__`` bodies are not counted), and hit when one of those ran. The
harness's own contracts (``testing/``, ``mocks/``) are left out: they are not the
protocol. Outputs: per-file figures for the reports, ``coverage.lcov`` and the annotated
sources for report.html.

Branches are the two ways out of each ``if`` and ``assert`` (its conditional jump: fall
through or jump; an ``assert`` jumps when it passes), read off the same pc counts: the
jump ran n times, the instruction after it f times, so it fell through f times and
jumped n - f.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from harness import REPO_ROOT
from harness.evm import artifacts
from harness.evm.source_lines import branch_points, pc_lines

NOT_PROTOCOL = ("contracts/testing/", "contracts/mocks/")


def contract_hits(chain) -> dict[str, dict[int, int]]:
    """``chain``'s pc counts keyed by contract name (the artifact its initcode starts
    with) instead of address; every deployed contract, run or not."""
    names = [p.stem for p in sorted((REPO_ROOT / "contracts").rglob("*.vy"))]
    deployed = {name: artifacts.load(name).bytecode for name in names if _deployable(name)}
    hits: dict[str, Counter] = {}
    for address, initcode in chain.initcode.items():
        name = next((n for n, code in deployed.items() if initcode.startswith(code)), None)
        if name is not None:
            hits.setdefault(name, Counter()).update(chain.hits.get(address, {}))
    return {name: dict(counter) for name, counter in hits.items()}


def _deployable(name: str) -> bool:
    """Modules (no external function) compile to no contract of their own."""
    text = artifacts.source_path(name).read_text()
    return "@external" in text or "@deploy" in text


def merge(runs: list[dict]) -> dict[str, dict[int, int]]:
    """Several workers' ``contract_hits`` summed."""
    total: dict[str, Counter] = {}
    for run in runs:
        for name, pcs in run.items():
            total.setdefault(name, Counter()).update({int(pc): n for pc, n in pcs.items()})
    return {name: dict(counter) for name, counter in total.items()}


def line_counts(hits: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
    """Every executable line of every protocol file reached through a deployed contract,
    with its execution count (0: never ran). A line's count is its most-run instruction's,
    so a line of several instructions counts as often as it ran, not once per
    instruction."""
    lines: dict[str, dict[int, int]] = {}
    for name, pcs in hits.items():
        for pc, (path, line) in pc_lines(name).items():
            if path.startswith(NOT_PROTOCOL):
                continue
            counts = lines.setdefault(path, {})
            counts[line] = max(counts.get(line, 0), pcs.get(pc, 0))
    return {path: dict(sorted(counts.items())) for path, counts in sorted(lines.items())}


def branch_counts(hits: dict[str, dict[int, int]]) -> dict[str, dict[tuple, list[int]]]:
    """Per protocol file: (line, pc of the jump) -> [times it fell through, times it
    jumped]."""
    branches: dict[str, dict[tuple, list[int]]] = {}
    for name, pcs in hits.items():
        lines = pc_lines(name)
        for pc in branch_points(name):
            path, line = lines[pc]
            if path.startswith(NOT_PROTOCOL):
                continue
            ran = pcs.get(pc, 0)
            fell = min(pcs.get(pc + 1, 0), ran)  # pc + 1 may also be a jump's target
            ways = branches.setdefault(path, {}).setdefault((line, pc), [0, 0])
            ways[0] += fell
            ways[1] += ran - fell
    return {path: dict(sorted(ways.items())) for path, ways in sorted(branches.items())}


def summary(lines: dict[str, dict[int, int]], branches: dict[str, dict]) -> dict:
    """Per file: lines hit, executable, percent, the unreached line numbers, and the
    branches (two per ``if`` and ``assert``) taken of all."""
    files = {}
    for path, counts in lines.items():
        hit = sum(1 for n in counts.values() if n)
        ways = [n for pair in branches.get(path, {}).values() for n in pair]
        files[path] = {
            "hit": hit,
            "lines": len(counts),
            "percent": round(100 * hit / len(counts), 1),
            "unreached": [line for line, n in counts.items() if not n],
            "branches_taken": sum(1 for n in ways if n),
            "branches": len(ways),
        }
    return files


def one_line(files: dict) -> str:
    """``summary``'s figures in one line: each file's name and percent, then the total."""
    hit, total = sum(f["hit"] for f in files.values()), sum(f["lines"] for f in files.values())
    parts = [f"{Path(path).name} {f['percent']}%" for path, f in files.items()]
    return ", ".join(parts) + f"; all {hit}/{total} lines"


def lcov(lines: dict[str, dict[int, int]], branches: dict[str, dict]) -> str:
    """The lcov tracefile (``genhtml``, editors' coverage gutters): one record per file;
    a branch never evaluated is ``-``."""
    out = []
    for path, counts in lines.items():
        out.append(f"SF:{path}")
        ways = branches.get(path, {})
        for (line, pc), pair in ways.items():
            ran = sum(pair)
            out += [f"BRDA:{line},{pc},{way},{n if ran else '-'}" for way, n in enumerate(pair)]
        if ways:
            taken = sum(1 for pair in ways.values() for n in pair if n)
            out += [f"BRF:{2 * len(ways)}", f"BRH:{taken}"]
        out += [f"DA:{line},{n}" for line, n in counts.items()]
        out += [f"LH:{sum(1 for n in counts.values() if n)}", f"LF:{len(counts)}", "end_of_record"]
    return "\n".join(out) + "\n"


def parse_lcov(text: str) -> tuple[dict[str, dict[int, int]], dict[str, dict]]:
    """``lcov``'s tracefile read back into (lines, branches), for ``merge_lcov``."""
    lines: dict[str, dict[int, int]] = {}
    branches: dict[str, dict] = {}
    path = ""
    for record in text.splitlines():
        kind, _, value = record.partition(":")
        if kind == "SF":
            path = value
            lines[path] = {}
        elif kind == "DA":
            line, count = value.split(",")
            lines[path][int(line)] = int(count)
        elif kind == "BRDA":
            line, pc, way, count = value.split(",")
            ways = branches.setdefault(path, {}).setdefault((int(line), int(pc)), [0, 0])
            ways[int(way)] = 0 if count == "-" else int(count)
    return lines, branches


def merge_lcov(texts: list[str]) -> tuple[dict[str, dict[int, int]], dict[str, dict]]:
    """Several runs' tracefiles summed line by line and branch by branch."""
    lines: dict[str, dict[int, int]] = {}
    branches: dict[str, dict] = {}
    for text in texts:
        run_lines, run_branches = parse_lcov(text)
        for path, counts in run_lines.items():
            total = lines.setdefault(path, {})
            for line, n in counts.items():
                total[line] = total.get(line, 0) + n
        for path, ways in run_branches.items():
            total = branches.setdefault(path, {})
            for key, pair in ways.items():
                summed = total.setdefault(key, [0, 0])
                summed[0] += pair[0]
                summed[1] += pair[1]
    return lines, branches


def ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def annotated_html(lines: dict[str, dict[int, int]], root: Path = REPO_ROOT) -> str:
    """Each file's source with its lines marked: run (with the count), never run, or not
    executable; one collapsible block per file."""
    blocks = []
    for path, counts in lines.items():
        rows = []
        for number, text in enumerate((root / path).read_text().splitlines(), 1):
            n = counts.get(number)
            kind, mark = ("", "") if n is None else ("hit", f"{n:,}") if n else ("miss", "0")
            rows.append(
                f"<tr class='{kind}'><td class='n'>{number}</td><td class='c'>{mark}</td>"
                f"<td><code>{html.escape(text)}</code></td></tr>"
            )
        hit = sum(1 for n in counts.values() if n)
        blocks.append(
            f"<details><summary>{html.escape(path)}: {hit}/{len(counts)} lines</summary>"
            f"<table class='src'>{''.join(rows)}</table></details>"
        )
    return "".join(blocks)


STYLE = (
    "table.src{border-collapse:collapse;font-size:12px}table.src td{border:0;padding:0 6px;"
    "white-space:pre}table.src tr.hit{background:#e6ffec}table.src tr.miss{background:#ffd7d5}"
    "table.src td.n,table.src td.c{color:#888;text-align:right}"
)
