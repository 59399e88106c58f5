"""``make report-merge``: one report from the summaries of several runs.

    python -m harness.campaign.merge reports/run1 reports/run2 --out reports/merged

Counts (steps, sequences, calls, branches, reverts, checks, waterfall amounts) are summed;
something is never reached only if no run reached it; the plots draw every run's data;
each run keeps its own row and provenance; the runs' ``coverage.lcov`` are summed line by
line. Exit 0 when every run agreed, 1 when one did not (the merged result names it), 2
when a folder holds no summary, is given twice, or the runs mix machines (differential and
spec-only).
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from harness.campaign import coverage, report

RUN_KEYS = (
    "result",
    "chain",
    "seed",
    "workers",
    "budget",
    "elapsed_seconds",
    "steps",
    "sequences",
    "steps_per_second",
    "provenance",
)


def _sum(summaries: list[dict], key: str) -> dict:
    total = Counter()
    for summary in summaries:
        total.update(summary.get(key, {}))  # older summaries lack the rare counts
    return dict(total)


def _never(summaries: list[dict], key: str) -> list[str]:
    """Never reached by any run, in the first run's order."""
    common = set.intersection(*(set(s["never_reached"][key]) for s in summaries))
    return [name for name in summaries[0]["never_reached"][key] if name in common]


def merge(summaries: list[dict], folders: list[Path]) -> dict:
    first = summaries[0]
    calls = {}
    for summary in summaries:
        for fn, c in summary["calls"].items():
            total = calls.setdefault(fn, {"ok": 0, "total": 0})
            total["ok"] += c["ok"]
            total["total"] += c["total"]
    failed = [
        f"{folder}: {s['result']}"
        for s, folder in zip(summaries, folders, strict=True)
        if not s["result"].startswith("agreed")
    ]
    steps = sum(s["steps"] for s in summaries)
    plot_data = {
        "sequence_funds": [f for s in summaries for f in s["plot_data"]["sequence_funds"]],
        "insurance_floor": first["plot_data"]["insurance_floor"],
        "amounts": _sum([s["plot_data"] for s in summaries], "amounts"),
        "throughput": [t for s in summaries for t in s["plot_data"]["throughput"]],
        "reached": [r for s in summaries for r in s["plot_data"].get("reached", [])],
    }
    return {
        "merged": len(summaries),
        "runs": [
            {"report": str(folder), **{k: s[k] for k in RUN_KEYS}}
            for s, folder in zip(summaries, folders, strict=True)
        ],
        "result": "; ".join(failed) if failed else f"agreed in all {len(summaries)} runs",
        "machine": first["machine"],
        "minimized": all(s["minimized"] for s in summaries),
        "counterexample": None,
        "steps": steps,
        "sequences": sum(s["sequences"] for s in summaries),
        "elapsed_seconds": round(sum(s["elapsed_seconds"] for s in summaries), 2),
        "views_compared": sum(s["views_compared"] for s in summaries),
        "calls": dict(sorted(calls.items(), key=lambda item: -item[1]["total"])),
        "reverts": dict(Counter(_sum(summaries, "reverts")).most_common()),
        "branches": _sum(summaries, "branches"),
        "rare_branches": _sum(summaries, "rare_branches"),
        "boundaries": _sum(summaries, "boundaries"),
        "checks": _sum(summaries, "checks"),
        "entry_points": _sum(summaries, "entry_points"),
        "never_reached": {key: _never(summaries, key) for key in first["never_reached"]},
        "revert_reasons_total": first["revert_reasons_total"],
        "attacker": max(
            (s["attacker"] for s in summaries if "attacker" in s),
            key=lambda a: a["best_gain"],
            default={"best_gain": 0, "sequence": []},
        ),
        "plot_data": plot_data,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.campaign.merge",
        description="combine the summaries (summary.json) of several campaign runs into one report",
    )
    parser.add_argument("reports", nargs="+", type=Path, help="report folders of the runs")
    parser.add_argument("--out", type=Path, required=True, help="folder of the merged report")
    args = parser.parse_args(argv)
    resolved = [folder.resolve() for folder in args.reports]
    if len(set(resolved)) != len(resolved):
        parser.error("a report folder is given twice: its counts would be added twice")
    summaries = []
    for folder in args.reports:
        try:
            summaries.append(json.loads((folder / "summary.json").read_text()))
        except (OSError, ValueError) as error:
            parser.error(f"{folder}: no readable summary.json ({error})")
    machines = sorted({s["machine"] for s in summaries})
    if len(machines) > 1:
        parser.error(f"the runs mix machines ({', '.join(machines)}): merge each kind apart")
    merged = merge(summaries, args.reports)
    traces = [f / "coverage.lcov" for f in args.reports if (f / "coverage.lcov").exists()]
    lines = branches = None
    if traces:
        lines, branches = coverage.merge_lcov([t.read_text() for t in traces])
        merged["coverage"] = coverage.summary(lines, branches)
        merged["coverage_runs"] = len(traces)
    paths = report.write(args.out, merged, lines, branches)
    print(f"merged {len(summaries)} runs, {merged['steps']:,} steps: {merged['result']}")
    print(f"report: {paths['markdown']}  {paths['html']}  {paths['json']}")
    return 0 if merged["result"].startswith("agreed") else 1


if __name__ == "__main__":
    sys.exit(main())
