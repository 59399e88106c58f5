"""Render the ADL stress lab's results dict into a report a protocol designer reads.

``write(results, out)`` writes into ``out``: ``report.md`` (Markdown, plots by relative
path), ``report.html`` (self-contained: inline CSS, plots embedded as base64 PNG),
``results.json`` (the dict itself) and the plots ``haircuts.png``, ``concentration.png``,
``overshoot.png`` and ``objective.png``. ``text(results)`` is a compact terminal summary.

Amounts are integers in token base units (6 decimals) and print as USDC rounded half to
even at the cent; ratios print with 3 decimals, percents with 2, None as "n/a". The same
dict gives byte-identical Markdown and JSON; the PNGs (hence the HTML) have a fixed size and
dpi and no software stamp, so they vary only with the matplotlib version.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from harness.lab import targets
from harness.lab.money import usdc, usdc_exact
from harness.lab.summary import summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["text", "usdc", "write"]

NA = "n/a"
FIGSIZE = (8.0, 4.5)
DPI = 100
CSS = (
    "body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:90%;display:block;overflow-x:auto}"
    "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f2f2f2}"
    "th:first-child,td:first-child{text-align:left}img{max-width:100%}"
)


# Columns are result keys; a key's kind picks its format, and every other key is an amount.
SCORES = (
    "deficit_rounds objective objective_percent objective_deficit objective_deficit_percent "
    "budget_rounds objective_budget_percent "
    "cascade_percent_median cascade_percent_max objective_horizon_percent inversions "
    "ordered_pairs order_flips call_order_rounds call_order_capped_rounds call_order_effect_max "
    "call_order_effect_max_uncapped call_order_effect_max_unrewarded price_between_effect_max "
    "price_between_bad_debt_rounds price_between_bad_debt_max principal_touched"
).split()
TOTALS = (
    "deficit fund_draw needed taken_fill taken_horizon overshoot undershoot tracking "
    "concentration_max top1_share_max touched rank_correlation_mean"
).split()
TEXT_SCORES = (
    "deficit_rounds objective_percent objective_deficit_percent cascade_percent_median "
    "inversions ordered_pairs call_order_effect_max principal_touched"
).split()
ROUNDS = (
    "round price deficit fund_draw residual needed eligible_capacity taken_fill taken_horizon "
    "overshoot undershoot concentration touched top1_share largest_surviving_profit "
    "inversions order_flips call_order_effect rank_correlation principal_touched"
).split()
DEPOSIT = (
    "depositor_without depositor_before_gap depositor_after_gap others_without "
    "others_before_gap others_after_gap"
).split()
REOPEN = (
    "dodger_without dodger_with drop dodger_fees others_without others_with others_extra "
    "fund_extra bad_debt_with bad_debt_extra"
).split()
CROSS = (
    "charged_elsewhere_0_1 charged_elsewhere_1_0 keeper_reward_elsewhere_0_1 "
    "keeper_reward_elsewhere_1_0 bad_debt_0_1 bad_debt_1_0"
).split()
RATIOS = {"concentration", "concentration_max", "top1_share", "top1_share_max"}
RATIOS |= {"rank_correlation_mean", "rank_correlation"}
PERCENTS = {"cascade_percent_median", "cascade_percent_max"}
COUNTS = {"round", "cascade", "touched", "inversions", "order_flips", "ordered_pairs"}
COUNTS |= {"deficit_rounds", "budget_rounds", "call_order_rounds", "call_order_capped_rounds"}
COUNTS |= {"price_between_bad_debt_rounds"}
EXACT = {"call_order_effect_max_unrewarded", "price_between_effect_max"}  # all six decimals
HEADERS = {
    "taken_fill": "taken (fill)",
    "taken_horizon": "taken (horizon)",
    "concentration_max": "max concentration",
    "top1_share_max": "max top-1 share",
    "top1_share": "top-1 share",
    "rank_correlation_mean": "mean rank corr.",
    "rank_correlation": "rank corr.",
    "largest_surviving_profit": "largest profit left",
    "eligible_capacity": "U (eligible profit)",
    "deficit_rounds": "rounds with deficit",
    "objective": "objective (fill)",
    "objective_percent": "% of envelope",
    "objective_deficit": "objective, deficit rounds",
    "objective_deficit_percent": "%, deficit rounds",
    "budget_rounds": "rounds with an ADL budget",
    "objective_budget_percent": "%, budget rounds",
    "cascade_percent_median": "% per cascade, median",
    "cascade_percent_max": "% per cascade, max",
    "objective_horizon": "objective (horizon)",
    "objective_horizon_percent": "% of envelope (horizon)",
    "inversions": "cross-call inversions",
    "ordered_pairs": "same-round pairs",
    "order_flips": "order flips",
    "call_order_rounds": "rounds with 2+ bankrupt",
    "call_order_capped_rounds": "of them capped",
    "call_order_effect": "call-order effect",
    "call_order_effect_max": "call-order effect, max",
    "call_order_effect_max_uncapped": "call-order effect, max uncapped",
    "call_order_effect_max_unrewarded": "call-order effect without keeper rewards, max",
    "price_between_effect_max": "effect of a price between two calls, max",
    "price_between_bad_debt_rounds": "rounds with bad debt, price between",
    "price_between_bad_debt_max": "bad debt with a price between two calls, max",
}


def _cell(key: str, v: Any) -> str:
    """One figure formatted by its key: a ratio, the percent, a count or an amount."""
    if v is None:
        return NA
    if key in RATIOS:
        return f"{v:.3f}"
    if key.endswith("_percent") or key in PERCENTS:
        return f"{v:.2f}"
    if key in EXACT:
        return usdc_exact(v)
    return str(v) if key in COUNTS else usdc(v)


class Heading(NamedTuple):
    level: int
    text: str


class Para(NamedTuple):
    text: str


class Table(NamedTuple):
    headers: list[str]
    rows: list[list[str]]


class Image(NamedTuple):
    file: str
    alt: str


Block = Heading | Para | Table | Image
GENERATORS = {
    "cascade": "heavy-tailed sizes, longs at 2x to 9.5x against shorts who opened along a "
    "rise from 1.00 to 1.30, one market",
    "wide": "Pareto-sized shorts, each opened at its own price along a rise from 1.00 to "
    "1.40; longs in cohorts of 2 to 5 at one leverage, so a gap bankrupts a cohort "
    "together; half the longs cross-margined with a flat-or-winning long on market 1",
}
PLOTS = (
    ("haircuts.png", "Haircut over capacity per charged account, per policy"),
    ("concentration.png", "Concentration per round of cascade 0 (reference dashed)"),
    ("overshoot.png", "Overshoot per round of cascade 0"),
    ("objective.png", "Objective as % of the envelope per policy"),
)


def _cascade0(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in policy["rounds"] if r["cascade"] == 0]


def _table(records: list[dict[str, Any]], keys: list[str], names: list[str]) -> Table:
    """One row per record; ``names`` (policies) lead the rows when given."""
    headers = [HEADERS.get(k, k.replace("_", " ")) for k in keys]
    rows = [[_cell(k, r[k]) for k in keys] for r in records]
    if names:
        return Table(["policy", *headers], [[n, *row] for n, row in zip(names, rows, strict=True)])
    return Table(headers, rows)


def _series(by_policy: dict[str, list[int | None]], columns: list[str]) -> Table:
    """Amounts per policy, one column per scenario parameter (k, T)."""
    records = [dict(zip(columns, vs, strict=True)) for vs in by_policy.values()]
    return _table(records, columns, list(by_policy))


def _replay(replay: dict[str, Any] | None) -> str:
    if replay is None:
        return "Differential replay: not run."
    verdict = "agreed" if replay["agreed"] else "DISAGREED"
    return (
        f"Differential replay: {replay['cascades']} cascades, {replay['calls']} calls on the "
        f"{replay['chain']} chain, {verdict} with the spec ({replay['seconds']:.1f} s)."
    )


def _envelope(policies: dict[str, Any]) -> str:
    def listed(key: str) -> str:
        envelopes = {n: p["totals"][key] for n, p in policies.items()}
        if len(set(envelopes.values())) == 1:
            return f"{usdc(next(iter(envelopes.values())))} USDC for every policy"
        return "; ".join(f"{n}: {usdc(e)}" for n, e in envelopes.items()) + " (USDC)"

    return (
        f"Envelope over every round: {listed('envelope')}; over the rounds with a deficit: "
        f"{listed('envelope_deficit')}. A round without a deficit scores 0 but its theta (0) "
        "lengthens the envelope's path, which deflates the overall percent; each cascade is "
        "also scored as its own instance (no path term between cascades)."
    )


def _per_cascade(policies: dict[str, Any]) -> Table:
    """The objective as % of its own envelope, one row per cascade, one column per policy."""
    first = next(iter(policies.values()))["cascades"]
    rows = [
        [
            str(c["cascade"]),
            str(c["deficit_rounds"]),
            *(_cell("objective_percent", p["cascades"][i]["percent"]) for p in policies.values()),
            *(str(p["cascades"][i]["inversions"]) for p in policies.values()),
        ]
        for i, c in enumerate(first)
    ]
    heads = ["cascade", "rounds with deficit"]
    heads += [f"% {n}" for n in policies] + [f"inversions {n}" for n in policies]
    return Table(heads, rows)


def _targets(results: dict[str, Any]) -> list[Block]:
    """The second generator's scores, then issue 19's targets judged on each generator."""
    policies, other = results["policies"], results.get("other_generator")
    name = results["lab"]["generator"]
    by_generator = {name: policies}
    blocks: list[Block] = []
    if other:
        by_generator[other["generator"]] = other["policies"]
        blocks += [
            Heading(2, f"Scores per policy, second generator: {other['generator']}"),
            Para(GENERATORS[other["generator"]]),
            _table(
                [p["totals"] for p in other["policies"].values()], SCORES, list(other["policies"])
            ),
        ]
    judged = {
        g: p[targets.DEFAULT_POLICY]["totals"]
        for g, p in by_generator.items()
        if targets.DEFAULT_POLICY in p
    }
    if not judged:
        return blocks
    cells = {g: targets.verdicts(t) for g, t in judged.items()}
    rows = [[target, *(c[i] for c in cells.values())] for i, target in enumerate(targets.TARGETS)]
    return blocks + [
        Heading(2, f"Targets for the default policy ({targets.DEFAULT_POLICY}, issue 19)"),
        Table(["target", *(f"generator {g}" for g in cells)], rows),
    ]


def _adversarial(adv: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Adversarial scenarios")] if adv else []
    if "sybil" in adv:
        sybil = adv["sybil"]
        both = {p: sybil["split"][p] + sybil["skewed"][p] for p in sybil["split"]}
        ks = [f"split k={k}" for k in sybil["k"]] + [f"skewed k={k}" for k in sybil["k"]]
        blocks += [
            Heading(3, "Sybil splitting: what the owner pays in total (USDC)"),
            _series(both, ks),
            Para(sybil["note"]),
        ]
    if "alternating" in adv:
        alt = adv["alternating"]
        blocks += [
            Heading(3, "Alternating capacities: objective (USDC)"),
            _series(alt["objective"], [f"T={t}" for t in alt["T"]]),
            Para(alt["note"]),
        ]
    for key, title, columns in (
        ("deposit", "Deposit before the trades or after the gap (USDC)", DEPOSIT),
        ("close_and_reopen", "Close and reopen before the deleverage (USDC)", REOPEN),
        ("cross_market", "A capped market's shortfall, by market ids (USDC)", CROSS),
    ):
        if key in adv:
            figures = adv[key]
            names = [k for k, v in figures.items() if isinstance(v, dict)]  # "note" beside
            blocks += [
                Heading(3, title),
                _table([figures[p] for p in names], columns, names),
                Para(figures["note"]),
            ]
            refused = [
                f"{p}: {', '.join(figures[p]['refused'])}"
                for p in names
                if figures[p].get("refused")
            ]
            if refused:
                blocks.append(Para("Refused calls: " + "; ".join(refused) + "."))
    return blocks


def _cascades(results: dict[str, Any]) -> list[Block]:
    policies = results["policies"]
    if not policies:
        return []
    blocks: list[Block] = [
        Heading(2, "Scores per policy"),
        _table([p["totals"] for p in policies.values()], SCORES, list(policies)),
        Para(_envelope(policies)),
        Para(
            "Cross-call inversions: within one round, pairs of eligible positions where the "
            "one with more profit by PnL% paid a smaller share of its profit, over all the "
            "round's deleverage calls (of the same-round pairs whose PnL% differ). Order "
            "flips: pairs whose order of profit flips after one call's charges. Call-order "
            "effect: in a round with two or more bankrupt accounts, the largest difference "
            "in what one account paid between deleveraging them lowest address first and "
            "highest first; capped: a round whose charges fell short of its budget in one "
            "order or both (SPEC.md, One round over several calls: where it stops)."
        ),
        *_targets(results),
        Heading(2, "Totals per policy"),
        _table([p["totals"] for p in policies.values()], TOTALS, list(policies)),
        Heading(2, "Plots"),
        *(Image(file, alt) for file, alt in PLOTS),
        Heading(2, "Per cascade: objective as % of its envelope, cross-call inversions"),
        _per_cascade(policies),
        Heading(2, "Per round (cascade 0)"),
    ]
    for name, policy in policies.items():
        blocks += [Heading(3, name), _table(_cascade0(policy), ROUNDS, [])]
    return blocks


def _document(results: dict[str, Any]) -> list[Block]:
    lab = results["lab"]
    cf = results["counterfactual"].get("side_pro_rata")
    blocks: list[Block] = [
        Heading(1, "ADL stress lab"),
        Para(
            f"Scenario {lab.get('scenario', 'all')}; generator {lab['generator']} "
            f"({GENERATORS[lab['generator']]}); seed {lab['seed']}, {lab['cascades']} "
            f"cascades of {lab['rounds']} rounds, {lab['traders']} traders; policies "
            f"{', '.join(lab['policies'])}; reference {lab['reference']}, lambda "
            f"{lab['lambda']}; ran in {lab['elapsed_seconds']:.1f} s. Amounts in USDC, "
            "rounded half to even at the cent."
        ),
        Heading(2, "Executive summary"),
        *map(Para, summary(results)),
        *_cascades(results),
        *_adversarial(results["adversarial"]),
    ]
    if cf:
        blocks += [
            Heading(2, "Counterfactual: an O(1) side-wide pro-rata"),
            Para(
                f"Deleverages: {cf['deleverages']}; losers charged: {cf['losers_charged']}; "
                f"principal touched: {usdc(cf['principal_touched'])} USDC."
            ),
            Para(cf["note"]),
        ]
    return blocks + [Heading(2, "Differential replay"), Para(_replay(results["replay"]))]


def _markdown(blocks: list[Block]) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    parts = []
    for b in blocks:
        match b:
            case Heading(level, title):
                parts.append("#" * level + " " + title)
            case Para(para):
                parts.append(para)
            case Table(headers, rows):
                rule = "|" + "|".join(["---", *["---:"] * (len(headers) - 1)]) + "|"
                parts.append("\n".join([row(headers), rule, *map(row, rows)]))
            case Image(file, alt):
                parts.append(f"![{alt}]({file})")
    return "\n\n".join(parts) + "\n"


def _html(blocks: list[Block], out: Path) -> str:
    e = html.escape
    parts = []
    for b in blocks:
        match b:
            case Heading(level, title):
                parts.append(f"<h{level}>{e(title)}</h{level}>")
            case Para(para):
                parts.append(f"<p>{e(para)}</p>")
            case Table(headers, rows):
                head = "".join(f"<th>{e(h)}</th>" for h in headers)
                body = "".join(
                    "<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows
                )
                parts.append(f"<table><tr>{head}</tr>{body}</table>")
            case Image(file, alt):
                data = base64.b64encode((out / file).read_bytes()).decode("ascii")
                parts.append(f'<p><img src="data:image/png;base64,{data}" alt="{e(alt)}"></p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>ADL stress lab</title><style>{CSS}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def _haircuts(ax: Axes, policies: dict[str, Any]) -> None:
    ax.boxplot([p["haircuts"] for p in policies.values()], tick_labels=list(policies))
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("haircut / capacity (fraction, 0 to 1)")


def _round_axis(ax: Axes, policies: dict[str, Any]) -> None:
    # Rounds are whole numbers: tick each one rather than matplotlib's fractional steps.
    ax.set_xticks(sorted({r["round"] for p in policies.values() for r in _cascade0(p)}))
    ax.set_xlabel("round (cascade 0)")
    ax.legend()


def _concentration(ax: Axes, policies: dict[str, Any]) -> None:
    for name, policy in policies.items():
        rounds = _cascade0(policy)
        xs = [r["round"] for r in rounds]
        (line,) = ax.plot(xs, [r["concentration"] for r in rounds], marker="o", label=name)
        # Each policy's cascade takes its own path, so each has its own reference curve;
        # one legend entry stands for them all.
        refs = [r["reference_concentration"] for r in rounds]
        ax.plot(xs, refs, "--", color=line.get_color())
    ax.plot([], [], "k--", label="reference (policy's colour)")
    ax.set_ylim(-0.02, 1.02)  # a fraction in [0, 1]: one scale for every run
    _round_axis(ax, policies)
    ax.set_ylabel("max haircut / capacity (fraction)")


def _overshoot(ax: Axes, policies: dict[str, Any]) -> None:
    width = 0.8 / max(len(policies), 1)
    for i, (name, policy) in enumerate(policies.items()):
        rounds = _cascade0(policy)
        xs = [r["round"] + (i - (len(policies) - 1) / 2) * width for r in rounds]
        ax.bar(xs, [r["overshoot"] / 1e6 for r in rounds], width, label=name)
    _round_axis(ax, policies)
    ax.set_ylabel("overshoot (USDC)")


def _objective(ax: Axes, policies: dict[str, Any]) -> None:
    width = 0.4
    for i, (key, label) in enumerate(
        (("objective_percent", "every round"), ("objective_deficit_percent", "deficit rounds"))
    ):
        values = [p["totals"][key] for p in policies.values()]
        xs = [x + (i - 0.5) * width for x in range(len(policies))]
        bars = ax.bar(xs, [0.0 if v is None else v for v in values], width, label=label)
        ax.bar_label(bars, [_cell(key, v) for v in values])
    ax.set_xticks(range(len(policies)), list(policies))
    ax.set_ylabel("objective (% of envelope)")
    ax.legend()


def _plot(policies: dict[str, Any], out: Path) -> list[Path]:
    if not policies:  # an adversarial scenario alone: no cascade to plot
        return []
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    paths = []
    draws = (_haircuts, _concentration, _overshoot, _objective)
    for (file, title), draw in zip(PLOTS, draws, strict=True):
        fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
        draw(ax, policies)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / file, dpi=DPI, metadata={"Software": None})
        plt.close(fig)
        paths.append(out / file)
    return paths


def write(results: dict[str, Any], out: Path) -> list[Path]:
    """Write the report, the plots and the results into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = _plot(results["policies"], out)
    blocks = _document(results)
    for file, content in (
        ("report.md", _markdown(blocks)),
        ("report.html", _html(blocks, out)),
        ("results.json", json.dumps(results, indent=1, sort_keys=False) + "\n"),
    ):
        (out / file).write_text(content, encoding="utf-8")
        paths.append(out / file)
    return paths


def _aligned(table: Table) -> list[str]:
    """Plain-text table: the name column to the left, figures to the right."""
    widths = [max(map(len, col)) for col in zip(table.headers, *table.rows, strict=True)]
    lines = []
    for row in [table.headers, *table.rows]:
        cells = [c.rjust(w) for c, w in zip(row, widths, strict=True)]
        cells[0] = row[0].ljust(widths[0])
        lines.append("  ".join(cells))
    return lines


def text(results: dict[str, Any]) -> str:
    """A compact terminal summary: the executive summary, the scores per policy, the
    adversarial figures, the replay."""
    policies = results["policies"]
    lines = [*summary(results), ""]
    if policies:
        totals = [p["totals"] for p in policies.values()]
        lines += _aligned(_table(totals, TEXT_SCORES, list(policies)))
    for block in _targets(results) + _adversarial(results["adversarial"]):
        match block:
            case Heading(_, title):
                lines += ["", title]
            case Table():
                lines += _aligned(block)
    return "\n".join([*lines, "", _replay(results["replay"])]) + "\n"
