"""Campaign reports: Markdown and HTML for readers, JSON for machines, PNG plots."""

import base64
import html
import json
from collections import Counter
from pathlib import Path

from harness.core.branches import TRADING_BRANCHES, WATERFALL_BRANCHES
from harness.core.invariants import INVARIANTS


def _total(workers: dict, key: str) -> Counter:
    total = Counter()
    for data in workers.values():
        total.update(data[key])
    return total


def summarize(args, workers: dict, elapsed: float, failures: list, trace_path) -> dict:
    steps = sum(w["steps"] for w in workers.values())
    calls, successes = _total(workers, "calls"), _total(workers, "successes")
    branches = _total(workers, "branches")
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
        "sequences": sum(w["sequences"] for w in workers.values()),
        "steps_per_second": round(steps / max(elapsed, 1e-9), 1),
        "views_compared": sum(w["views"] for w in workers.values()),
        "calls": {fn: {"ok": successes[fn], "total": n} for fn, n in calls.most_common()},
        "reverts": dict(_total(workers, "reverts").most_common()),
        "events": dict(_total(workers, "events").most_common()),
        "branches": {b: branches[b] for b in WATERFALL_BRANCHES + TRADING_BRANCHES},
        "missing_branches": [b for b in reachable if not branches[b]],
        "invariants": list(INVARIANTS),
        # every named invariant but "views" runs after every step
        "invariant_checks": steps * (len(INVARIANTS) - 1),
        "counterexample": str(trace_path) if trace_path else None,
        "attacker": _best_gain(workers),
    }
    if failures:
        summary["failure"] = failures[0][3].splitlines()[:6]
    return summary


def _best_gain(workers: dict) -> dict:
    """The attacker contract's best gain over its fair PnL over all workers, with the
    sequence that reached it (the target of hypothesis's search)."""
    best = max(workers.values(), key=lambda w: w.get("best_gain", 0), default={})
    return {"best_gain": best.get("best_gain", 0), "sequence": best.get("best_gain_calls", [])}


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
    attacker = summary["attacker"]
    lines.append(
        f"attacker contract's best gain over its fair PnL: {attacker['best_gain']:,} units "
        f"({len(attacker['sequence'])} calls; the sequence is in summary.json)"
    )
    lines.append(
        "revert reasons seen: " + ", ".join(f"{r} ({n})" for r, n in summary["reverts"].items())
    )
    result = summary["result"]
    if "divergence" in result:
        verdict = "DIVERGENCE or VIOLATION" + (
            "" if summary["minimized"] else " (the trace is not fully minimized)"
        )
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


def _plots(out: Path, workers: dict) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for index, data in sorted(workers.items()):
        series = data["series"]
        if series:
            ax.plot(
                [s[0] for s in series],
                [s[1] / 1e6 for s in series],
                lw=0.8,
                label=f"worker {index}",
            )
    ax.set_xlabel("step (each worker)")
    ax.set_ylabel("insurance fund (USDC)")
    ax.set_title("Insurance fund balance, sampled across sequences")
    if len(workers) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths["fund"] = out / "fund.png"
    fig.savefig(paths["fund"], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 3.2))
    for column, label in ((2, "liquidations"), (3, "ADL fills"), (4, "bad debt write-offs")):
        xs, ys, offset = [], [], 0
        for _, data in sorted(workers.items()):
            for s in data["series"]:
                xs.append(offset + s[0])
                ys.append(s[column])
            if data["series"]:
                offset += data["series"][-1][0]
        ax.plot(xs, ys, label=label)
    ax.set_xlabel("step (workers one after another)")
    ax.set_ylabel("cumulative count")
    ax.set_title("Solvency waterfall over the campaign")
    ax.legend()
    fig.tight_layout()
    paths["waterfall"] = out / "waterfall.png"
    fig.savefig(paths["waterfall"], dpi=110)
    plt.close(fig)
    return paths


def title(summary: dict) -> str:
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
            "**The counterexample is not fully minimized**: the budget ran out while "
            "shrinking; it is the shortest failing run found by then.",
            "",
        ]
    lines += [
        f"**Result: {summary['result']}**"
        + (
            f" (counterexample: `{summary['counterexample']}`)" if summary["counterexample"] else ""
        ),
        "",
        "| budget | seed | chain | workers | elapsed | steps | sequences | steps/s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {summary['budget']['seconds']:.0f}s / {summary['budget']['max_steps'] or '-'} steps "
        f"| {summary['seed']} | {summary['chain']} | {summary['workers']} "
        f"| {summary['elapsed_seconds']}s | {summary['steps']:,} | {summary['sequences']:,} "
        f"| {summary['steps_per_second']:,.0f} |",
        "",
        f"Setup (compilation, deployment) took {summary.get('setup_seconds', 0)}s, outside "
        f"the budget; the run stopped on: {', '.join(summary['stopped_by']) or 'a failure'}; "
        f"at least {summary['budget']['min_steps']:,} steps were required; "
        f"{summary['shrink_steps']:,} calls were replayed while minimizing. "
        f"Exit status {summary.get('exit_code', '-')}.",
        "",
        "## Calls",
        "",
        "| call | succeeded | total |",
        "|---|---:|---:|",
    ]
    lines += [f"| {fn} | {c['ok']:,} | {c['total']:,} |" for fn, c in summary["calls"].items()]
    lines += ["", "## Branches reached", "", "| branch | times |", "|---|---:|"]
    lines += [f"| {b} | {n:,} |" for b, n in summary["branches"].items()]
    if summary["missing_branches"]:
        lines += ["", "Not reached: " + ", ".join(summary["missing_branches"])]
    lines += ["", "## Invariants checked", ""]
    lines += [f"- **{name}**: {text_}" for name, text_ in INVARIANTS.items()]
    lines += [
        "",
        f"{summary['steps']:,} steps, each checked against all state invariants on both "
        f"sides; {summary['views_compared']:,} checks of the trader views.",
        "",
        "## Plots",
        "",
    ]
    lines += [f"![{name}]({path.name})" for name, path in plots.items()]
    lines += ["", "## Revert reasons", "", "| reason | times |", "|---|---:|"]
    lines += [f"| {r} | {n:,} |" for r, n in summary["reverts"].items()]
    if "failure" in summary:
        lines += ["", "## Failure", "", "```", *summary["failure"], "```"]
    if summary.get("errors"):
        text_ = "\n".join(summary["errors"]).splitlines()
        lines += ["", "## Harness or environment errors", "", "```", *text_, "```"]
    return "\n".join(lines) + "\n"


def to_html(markdown_text: str, plots: dict) -> str:
    """A self-contained page: tables rendered, plots embedded."""
    body, in_table, in_code = [], False, False
    for line in markdown_text.splitlines():
        if line.startswith("```"):
            body.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            body.append(html.escape(line))
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
        "img{max-width:100%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Campaign report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write(out: Path, summary: dict, workers: dict) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(out, workers)
    text_ = markdown(summary, plots)
    paths = {
        "markdown": out / "report.md",
        "html": out / "report.html",
        "json": out / "summary.json",
    }
    paths["markdown"].write_text(text_)
    paths["html"].write_text(to_html(text_, plots))
    paths["json"].write_text(json.dumps(summary, indent=2) + "\n")
    return paths
