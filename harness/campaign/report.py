"""Campaign reports: Markdown and HTML for readers, JSON for machines, PNG plots."""

import base64
import html
import json
from collections import Counter
from pathlib import Path

from harness.campaign import coverage, provenance, scope
from harness.campaign import plots as plots_module
from harness.core.branches import AMOUNT_BRANCHES, TRADING_BRANCHES, WATERFALL_BRANCHES
from harness.core.invariants import INVARIANTS
from harness.core.rare import BOUNDARIES, NEEDS_MORE_ACCOUNTS, rare_counts
from harness.core.readable import in_usdc


def _total(workers: dict, key: str) -> Counter:
    total = Counter()
    for data in workers.values():
        total.update(data[key])
    return total


def summarize(args, workers: dict, elapsed: float, failures: list, trace_path) -> dict:
    steps = sum(w["steps"] for w in workers.values())
    calls, successes = _total(workers, "calls"), _total(workers, "successes")
    branches = _total(workers, "branches")
    checks, reverts = _total(workers, "checks"), _total(workers, "reverts")
    views_refused = _total(workers, "view_reverts")  # a view's reason is seen there
    entry_points, amounts = _total(workers, "entry_points"), _total(workers, "amounts")
    policy = getattr(args, "adl_policy", None)
    # pinned to one ADL policy, the others' charge branches cannot be reached, nor can a
    # charge without lots under the queue (it charges only the lots it takes)
    reachable = [
        b
        for b in WATERFALL_BRANCHES + TRADING_BRANCHES
        if not (policy and b.startswith("adl.charged.") and b != f"adl.charged.{policy}")
        and not (policy == "queue" and b == "adl.charge_only")
    ]
    summary = {
        "result": "divergence" if failures else "agreed",
        # the spec-only machine deploys nothing it compares with: no chain
        "chain": "none (spec only)" if args.machine == "spec" else args.chain,
        "machine": args.machine,
        "adl_policy": policy or "configured, switched through the Governor (govern)",
        "seed": args.seed,
        "workers": args.workers,
        "budget": {
            "seconds": args.seconds,
            "max_steps": args.max_steps,
            "min_steps": getattr(args, "min_steps", 0),
        },
        "elapsed_seconds": round(elapsed, 2),
        "steps": steps,
        # calls replayed while minimizing a failure (inside the step budget too)
        "shrink_steps": sum(w.get("shrink_steps", 0) for w in workers.values()),
        "stopped_by": sorted({w["stopped"] for w in workers.values() if w.get("stopped")}),
        "minimized": all(w.get("minimized", True) for w in workers.values()),
        # the random explorer's failures kept in --database (``saved_failures``): replayed
        # first, deleted once they pass, the failure reported being one of them
        "saved_failures": {
            "passed_and_deleted": sum(w.get("saved_failures_passed", 0) for w in workers.values()),
            "reproduced": any(w.get("saved_failure_reproduced") for w in workers.values()),
        },
        "sequences": sum(w["sequences"] for w in workers.values()),
        "steps_per_second": round(steps / max(elapsed, 1e-9), 1),
        "views_compared": sum(w["views"] for w in workers.values()),
        "calls": {fn: {"ok": successes[fn], "total": n} for fn, n in calls.most_common()},
        "reverts": dict(reverts.most_common()),
        "view_reverts": dict(views_refused.most_common()),
        "events": dict(_total(workers, "events").most_common()),
        "branches": {b: branches[b] for b in WATERFALL_BRANCHES + TRADING_BRANCHES},
        # rare states on purpose, and each check's boundary met with equality (``rare``)
        "rare_branches": rare_counts(_total(workers, "rare"), _total(workers, "privileged")),
        "boundaries": _boundaries(_total(workers, "boundaries")),
        "invariants": list(INVARIANTS),
        # counted where each check runs (``invariants.CHECKS``), not estimated
        "checks": {name: checks[name] for name in INVARIANTS},
        "entry_points": {name: entry_points[name] for name in scope.entry_points()},
        "never_reached": {
            "entry_points": scope.never_reached(entry_points, scope.entry_points()),
            "branches": scope.never_reached(branches, reachable),
            "invariants_and_properties": scope.never_reached(checks, INVARIANTS),
            "revert_reasons": scope.never_reached(reverts + views_refused, scope.revert_reasons()),
        },
        "revert_reasons_total": len(scope.revert_reasons()),
        "plot_data": {
            "sequence_funds": [f for _, w in sorted(workers.items()) for f in w["sequence_funds"]],
            "insurance_floor": next(
                (f for w in workers.values() if (f := w["insurance_floor"]) is not None), None
            ),
            "amounts": {branch: amounts[branch] for branch in AMOUNT_BRANCHES},
            "throughput": [w["throughput"] for _, w in sorted(workers.items())],
            "reached": [w.get("reached", []) for _, w in sorted(workers.items())],
        },
        "counterexample": str(trace_path) if trace_path else None,
        "attacker": _best_gain(workers),
    }
    if failures:
        summary["failure"] = failures[0][3].splitlines()
    return summary


def _boundaries(hits: Counter) -> dict[str, int]:
    return {b: hits[b] for b in BOUNDARIES}


def rare_lines(summary: dict) -> list[str]:
    """The rare branches (a count, or "never") and the exact boundary hits, for the text
    report: the privileged functions on one line."""
    rare = summary.get("rare_branches", {})
    never = [b for b, n in rare.items() if not n]
    privileged = {b: n for b, n in rare.items() if b.startswith("rare.privileged.")}
    lines = [f"rare states reached ({len(rare) - len(never)}/{len(rare)}):"]
    lines += [f"  {b:<40} {n:,}" for b, n in rare.items() if b not in privileged]
    if privileged:
        lines.append(
            f"  rare.privileged (refused from every other role, every role changed hands): "
            f"{sum(1 for n in privileged.values() if n)}/{len(privileged)} functions, "
            f"fewest refusals {min(privileged.values()):,}"
        )
    unreachable = [b for b in never if b in NEEDS_MORE_ACCOUNTS]
    if unreachable:
        lines.append(f"  (needs more accounts than this deployment has: {', '.join(unreachable)})")
    boundaries = summary.get("boundaries", {})
    lines.append("boundary hits (the check's boundary met exactly):")
    lines += [f"  {b:<40} {n:,}" for b, n in boundaries.items()]
    return lines


def _best_gain(workers: dict) -> dict:
    """The attacker contract's best gain over its fair PnL over all workers, with the
    sequence that reached it (the target of hypothesis's search)."""
    best = max(workers.values(), key=lambda w: w.get("best_gain", 0), default={})
    return {
        "best_gain": best.get("best_gain", 0),
        "parts": best.get("best_gain_parts", {}),
        "sequence": best.get("best_gain_calls", []),
    }


def _usdc(units: int) -> str:
    return f"{in_usdc(units)} USDC"


def attacker_line(summary: dict) -> str:
    """The attacker contract's best gain and what it is made of."""
    attacker = summary.get("attacker")
    if attacker is None:
        return "attacker contract's best gain: not recorded"
    line = (
        f"attacker contract's best gain over its fair PnL: {_usdc(attacker['best_gain'])} "
        f"({len(attacker['sequence'])} calls)"
    )
    parts = attacker.get("parts")
    if not parts:  # a summary written before the parts were kept
        return line + ": its parts were not recorded"
    return (
        f"{line}: liquidation and keeper rewards {_usdc(parts['rewards'])}, its own "
        f"deficits written off {_usdc(parts['written_off'])}, the rest "
        f"{_usdc(parts['rest'])} (`attacker_gain_bounded` holds the rest of each call at or "
        "below zero)"
    )


def text(summary: dict) -> str:
    lines = [
        f"{title(summary)}\n"
        f"chain {summary['chain']}  seed {summary['seed']}  workers {summary['workers']}  "
        f"budget {summary['budget']['seconds']:.0f}s  elapsed {summary['elapsed_seconds']}s",
        f"steps {summary['steps']:,}  sequences {summary['sequences']:,}  "
        f"steps/s {summary['steps_per_second']:,.0f}  view checks {summary['views_compared']:,}",
        "calls (ok / total):",
    ]
    lines += [f"  {fn:<20} {c['ok']:>8,} / {c['total']:,}" for fn, c in summary["calls"].items()]
    lines.append("branches reached (waterfall, then funding and fees):")
    lines += [f"  {b:<28} {n:,}" for b, n in summary["branches"].items()]
    lines += rare_lines(summary)
    lines.append(attacker_line(summary) + "; the sequence is in summary.json")
    lines.append(
        "revert reasons seen: " + ", ".join(f"{r} ({n})" for r, n in summary["reverts"].items())
    )
    result = summary["result"]
    if "divergence" in result:
        verdict = "DIVERGENCE or VIOLATION" + (
            "" if summary["minimized"] else " (the trace is not fully minimized)"
        )
        if summary.get("saved_failures", {}).get("reproduced"):
            verdict += " (a failure saved in --database by an earlier run, replayed first)"
    elif result.startswith("agreed") and summary["machine"] == "spec":
        verdict = "the spec kept every invariant and property (no chain: --machine spec)"
    elif result.startswith("agreed"):
        verdict = "spec and chain agreed on every step and kept every invariant and property"
    else:
        verdict = result
    if summary.get("partial") and not verdict.startswith("partial"):
        verdict = f"PARTIAL (interrupted by {summary['interrupted']}): {verdict}"
    lines.append("RESULT: " + verdict)
    return "\n".join(lines)


def title(summary: dict) -> str:
    if "merged" in summary:
        return f"Merged campaign report ({summary['merged']} runs)"
    if summary["machine"] == "spec":
        return "Spec-only fuzz campaign (the spec against its invariants and properties, no chain)"
    return "Differential fuzz campaign (spec against chain)"


def markdown(summary: dict, plots: dict) -> str:
    lines = [f"# {title(summary)}", ""]
    if summary.get("partial"):
        lines += [
            f"**PARTIAL REPORT: the run was interrupted by {summary['interrupted']}**; "
            "the figures below cover what ran before it.",
            "",
        ]
    if not summary["minimized"]:
        lines += [
            "**The counterexample is not fully minimized**: a budget (--shrink-seconds, "
            "--seconds or --max-steps) ran out while shrinking; it is the shortest failing "
            "run found by then.",
            "",
        ]
    lines += [
        f"**Result: {summary['result']}**"
        + (
            f" (counterexample: `{summary['counterexample']}`)" if summary["counterexample"] else ""
        ),
        "",
    ]
    if "failure" in summary:
        lines += [
            "## Failure",
            "",
            "The minimized call sequence after the standard deployment, replayed call by "
            "call (arguments and order fields named after the contracts' ABI), with the "
            "state diff (spec | chain) where it first failed:",
            "",
            "```",
            *summary["failure"],
            "```",
            "",
        ]
    lines += [*run_table(summary), "", "## Provenance", ""]
    lines += provenance_lines(summary)
    lines += [
        "",
        *scope_lines(summary),
        *coverage_lines(summary),
        "",
        "## Calls",
        "",
        "| call | succeeded | total |",
    ]
    lines += ["|---|---:|---:|"]
    lines += [f"| {fn} | {c['ok']:,} | {c['total']:,} |" for fn, c in summary["calls"].items()]
    lines += ["", "## Branches reached", "", "| branch | times |", "|---|---:|"]
    lines += [f"| {b} | {n:,} |" for b, n in summary["branches"].items()]
    lines += ["", "## Rare states reached", "", "| rare state | times |", "|---|---:|"]
    lines += [f"| {b} | {n:,} |" for b, n in summary.get("rare_branches", {}).items()]
    lines += [
        "",
        "## Boundaries hit exactly",
        "",
        "| check at its boundary | times |",
        "|---|---:|",
    ]
    lines += [f"| {b} | {n:,} |" for b, n in summary.get("boundaries", {}).items()]
    lines += [
        "",
        "## Invariants and properties checked",
        "",
        "Counted where each check runs; the trader views were compared "
        f"{summary['views_compared']:,} times in all.",
        "",
        "| invariant or property | checks | statement |",
        "|---|---:|---|",
    ]
    lines += [
        f"| {name} | {summary['checks'].get(name, 0):,} | {statement} |"
        for name, statement in INVARIANTS.items()
    ]
    lines += ["", "## The attacker contract's best gain", "", attacker_line(summary) + "."]
    sequence = summary.get("attacker", {}).get("sequence", [])
    if sequence:
        lines += ["", "The sequence that reached it:", "", "```", *sequence, "```"]
    lines += ["", "## Plots", ""]
    lines += [f"![{name}]({path.name})" for name, path in plots.items()]
    lines += ["", "## Revert reasons", "", "| reason | times |", "|---|---:|"]
    lines += [f"| {r} | {n:,} |" for r, n in summary["reverts"].items()]
    if summary.get("errors"):
        text_ = "\n".join(summary["errors"]).splitlines()
        lines += ["", "## Harness or environment errors", "", "```", *text_, "```"]
    return "\n".join(lines) + "\n"


def run_table(summary: dict) -> list[str]:
    """The budget and the figures of the run (a merged report's: one row per run)."""
    lines = [
        "| budget | seed | chain | workers | elapsed | steps | sequences | steps/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in summary.get("runs", [summary]):
        lines.append(
            f"| {run['budget']['seconds']:.0f}s / {run['budget']['max_steps'] or '-'} steps "
            f"| {run['seed']} | {run['chain']} | {run['workers']} "
            f"| {run['elapsed_seconds']}s | {run['steps']:,} | {run['sequences']:,} "
            f"| {run['steps_per_second']:,.0f} |"
        )
    if "runs" in summary:
        return lines
    return lines + [
        "",
        f"Setup (compilation, deployment) took {summary.get('setup_seconds', 0)}s, outside "
        f"the budget; the run stopped on: {', '.join(summary['stopped_by']) or 'a failure'}; "
        f"at least {summary['budget']['min_steps']:,} steps were required; "
        f"{summary['shrink_steps']:,} calls were replayed while minimizing. "
        f"Exit status {summary.get('exit_code', '-')}." + _time_to_report(summary),
    ]


def _time_to_report(summary: dict) -> str:
    reported = summary.get("time_to_report")
    if not reported:
        return ""
    return (
        f" The first failing step came {reported['first_failure_seconds']}s into the "
        f"budget; the counterexample ({reported['calls']} calls) was saved "
        f"{reported['seconds']}s later (hypothesis shrank for "
        f"{reported['hypothesis_shrink_seconds']}s, the minimizer the rest)."
    )


def provenance_lines(summary: dict) -> list[str]:
    if "runs" not in summary:
        return provenance.lines(summary["provenance"])
    lines = []
    for run in summary["runs"]:
        lines += [f"### {run['report']}", "", *provenance.lines(run["provenance"]), ""]
    return lines[:-1]


SCOPE = {
    "entry_points": ("entry points never called", "entry_points"),
    "branches": ("branches never reached", "branches"),
    "invariants_and_properties": ("invariants and properties never checked", "checks"),
    "revert_reasons": ("revert reasons never seen (of the contracts' sources)", None),
}


def scope_lines(summary: dict) -> list[str]:
    """What the campaign never reached, out of what the contracts and catalogues hold."""
    lines = ["## Scope: never reached", ""]
    for key, (label, total_key) in SCOPE.items():
        missing = summary["never_reached"][key]
        total = len(summary[total_key]) if total_key else summary["revert_reasons_total"]
        shown = ", ".join(f"`{m}`" for m in missing) if missing else "none"
        lines.append(f"- {label}: {len(missing)} of {total}: {shown}")
    return lines


def coverage_lines(summary: dict) -> list[str]:
    """Per-file Vyper line coverage (``--coverage``) with the lines never run."""
    if "coverage" not in summary:
        return []
    lines = [
        "",
        "## Vyper source coverage",
        "",
        "Lines of each source file the campaign's transactions ran (an internal function "
        "counts in its own module's file), of the lines the compiler gave code; "
        "`coverage.lcov` has the counts; report.html shows the annotated sources.",
        "",
        "Branches: the two ways out of each `if` (body or not) and `assert` (passes or reverts).",
        "",
        "| file | lines run | executable | % | branches taken | never run |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for path, f in summary["coverage"].items():
        unreached = coverage.ranges(f["unreached"]) or "-"
        lines.append(
            f"| {path} | {f['hit']} | {f['lines']} | {f['percent']} "
            f"| {f['branches_taken']}/{f['branches']} | {unreached} |"
        )
    return lines


def to_html(markdown_text: str, plots: dict, appendix: str = "") -> str:
    """A self-contained page: tables rendered, plots embedded, then ``appendix`` (HTML)."""
    body, in_table, in_code = [], False, False
    for line in markdown_text.splitlines():
        if line.startswith("```"):
            body.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:  # the page joins its parts without breaks: a code line keeps its own
            body.append(html.escape(line) + "\n")
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-:"):
                continue
            tag = "td" if in_table else "th"
            if not in_table:
                body.append("<table>")
                in_table = True
            body.append(
                "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"
            )
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("!["):
            name = line[2 : line.index("]")]
            data = base64.b64encode(plots[name].read_bytes()).decode()
            body.append(f'<img alt="{name}" src="data:image/png;base64,{data}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:]).replace('**', '')}</li>")
        elif line:
            body.append(f"<p>{html.escape(line).replace('**', '')}</p>")
    if in_table:
        body.append("</table>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
        "img{max-width:100%}pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}"
        + coverage.STYLE
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Campaign report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}{appendix}</body></html>\n"
    )


def write(
    out: Path, summary: dict, lines: dict | None = None, branches: dict | None = None
) -> dict[str, Path]:
    """The reports; with ``lines`` and ``branches`` (``coverage.line_counts``,
    ``branch_counts``), coverage.lcov and the annotated sources too."""
    out.mkdir(parents=True, exist_ok=True)
    plots = plots_module.draw(out, summary["plot_data"])
    text_ = markdown(summary, plots)
    paths = {
        "markdown": out / "report.md",
        "html": out / "report.html",
        "json": out / "summary.json",
    }
    paths["markdown"].write_text(text_)
    appendix = ""
    if lines is not None:
        paths["lcov"] = out / "coverage.lcov"
        paths["lcov"].write_text(coverage.lcov(lines, branches))
        appendix = "<h2>Annotated sources</h2>" + coverage.annotated_html(lines)
    paths["html"].write_text(to_html(text_, plots, appendix))
    paths["json"].write_text(json.dumps(summary, indent=2) + "\n")
    return paths
