"""Metrics from anyone's data: score auto-deleveraging (ADL) policies on per-round figures.

The metrics are those of Chitra, Thogiti, Trujillo Ramirez and Xu, "Autodeleveraging as
Online Learning" (arXiv:2602.15182, 2026). For each policy p, over rounds t = 1..T with
deficit D_t, budget needed B_t, profit taken H_t and concentration m_t (max haircut over
capacity, in [0, 1]), against a reference policy r:

    tracking   = sum_t |H_t - B_t|     (overshoot + undershoot, the positive parts)
    fairness   = sum_t B_t * |m_t - m_r,t|
    total      = tracking + lambda * fairness
    envelope   = sqrt((1 + 2P) * sum_t D_t^2),  P = sum_{t>=2} |theta_t - theta_(t-1)|,
                 theta_t = min(1, B_t / D_t), and theta_t = 0 when D_t = 0
    percent    = 100 * total / envelope        (None when the envelope is 0)

The envelope depends on the instance only, so it is the same for every policy.

Input: a CSV with columns ``round,D,B_needed`` and, per policy NAME, ``H_NAME`` and
``m_NAME``; other columns are ignored. ``--layout oss-adl`` reads instead, as published, the
per-wave table of the paper's open-source reproduction (``policy_per_wave_metrics.csv``;
the 2025-10-10 Hyperliquid episode's is in ``data/hyperliquid-2025-10-10/``): ``wave``,
``deficit_usd`` and ``budget_needed`` are the round, D and B_needed, and each NAME with a
``max_pct_NAME`` column is a policy, H from ``budget_NAME`` and m from ``max_pct_NAME``;
its other columns (``budget_target`` among them) are ignored, and errors name its columns.
Values are non-negative decimals in any notation a CSV writer produces (``1234.56``,
``.25``, ``5.``, ``+3``, ``4.7086750033364114e-05``, ``1E+3``), read exactly as written
(``Decimal`` text to ``Fraction``, never a float); NaN, infinity, negatives and empty
cells are refused with the file, row and column.
Arithmetic is exact (``Fraction``); results become ``Decimal`` at 60 significant digits
(exact for any figure that fits), where the square root and the percent are computed.
Output rounds amounts to cents and the percent to 2 decimals, half to even
(ROUND_HALF_EVEN).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

PRECISION = 60
CENTS = Decimal("0.01")
REQUIRED = ("round", "D", "B_needed")
METRICS = ("tracking", "overshoot", "undershoot", "fairness", "total", "envelope", "percent")
# An optional sign, digits with an optional point (either side may be empty, not both), an
# optional exponent: what Python, R, pandas and spreadsheets write. Decimal alone would also
# take "NaN", "Infinity" and "1_000".
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Exponents beyond any float's (1e-324 to 1e308) with room to spare; a larger one would make
# the exact value a huge integer for nothing.
MAX_EXPONENT = 400
# --layout: "rounds" is the format above; "oss-adl" renames the reproduction's columns to it,
# so that its file is scored exactly as published, never rewritten.
LAYOUTS = ("rounds", "oss-adl")
OSS_ADL = {"wave": "round", "deficit_usd": "D", "budget_needed": "B_needed"}


class RoundsError(ValueError):
    """The rounds file or the arguments cannot be scored."""


@dataclass(frozen=True)
class Round:
    """One CSV row: ``round``, ``D``, ``B_needed``, and ``H_NAME``/``m_NAME`` by policy NAME."""

    round: int
    deficit: Fraction
    needed: Fraction
    taken: dict[str, Fraction]
    concentration: dict[str, Fraction]


def _number(text: str, where: str) -> Fraction:
    """A non-negative decimal, exactly (see the module docstring)."""
    text = text.strip()
    if not text:
        raise RoundsError(f"{where}: the cell is empty (expected a non-negative decimal)")
    if text.lstrip("+-").lower() in ("nan", "snan", "inf", "infinity"):
        raise RoundsError(f"{where}: {text!r} is not a finite number")
    if not _DECIMAL.fullmatch(text):
        raise RoundsError(
            f"{where}: {text!r} is not a non-negative decimal (e.g. 1234.56, 4.7e-05)"
        )
    value = Decimal(text)
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise RoundsError(f"{where}: {text!r} is out of range (exponent beyond {MAX_EXPONENT})")
    if value < 0:
        raise RoundsError(f"{where}: {text!r} is negative")
    return Fraction(value)


def _oss_adl(header: list[str], where: str) -> list[str]:
    """The reproduction's header in this module's names (see the module docstring)."""
    for column in OSS_ADL:
        if column not in header:
            raise RoundsError(f"{where}: column {column!r} is missing (--layout oss-adl)")
    names = dict(OSS_ADL)
    for share in (c for c in header if c.startswith("max_pct_")):
        policy = share.removeprefix("max_pct_")
        if f"budget_{policy}" not in header:
            raise RoundsError(f"{where}: column 'budget_{policy}' is missing (for {share!r})")
        names |= {f"budget_{policy}": f"H_{policy}", share: f"m_{policy}"}
    # a column left unrenamed is ignored: it must not pass for one of ours
    return [names.get(c, f"({c})") for c in header]


def _policies(header: list[str], where: str) -> list[str]:
    for column in REQUIRED:
        if column not in header:
            hint = " (the OSS reproduction's table? --layout oss-adl)" if "wave" in header else ""
            raise RoundsError(f"{where}: column {column!r} is missing{hint}")
    taken = [c[2:] for c in header if c.startswith("H_")]
    shares = [c[2:] for c in header if c.startswith("m_")]
    for name in taken:
        if name not in shares:
            raise RoundsError(f"{where}: column 'm_{name}' is missing (for column 'H_{name}')")
    for name in shares:
        if name not in taken:
            raise RoundsError(f"{where}: column 'H_{name}' is missing (for column 'm_{name}')")
    if "" in taken:
        raise RoundsError(f"{where}: column 'H_' names no policy")
    if not taken:
        raise RoundsError(f"{where}: no policy columns (H_NAME and m_NAME)")
    return taken


def _round(cells: dict[str, str], policies: list[str], where: str, label: dict[str, str]) -> Round:
    """One row; ``label`` gives each column's name in the file, for the errors."""

    def value(column: str) -> Fraction:
        return _number(cells[column], f"{where}: column {label[column]!r}")

    index = value("round")
    if index.denominator != 1:
        raise RoundsError(
            f"{where}: column {label['round']!r}: {cells['round'].strip()!r} is not an integer"
        )
    concentration = {p: value(f"m_{p}") for p in policies}
    for p, m in concentration.items():
        if m > 1:
            raise RoundsError(
                f"{where}: column {label[f'm_{p}']!r}: {cells[f'm_{p}'].strip()!r} is above 1"
            )
    return Round(
        round=int(index),
        deficit=value("D"),
        needed=value("B_needed"),
        taken={p: value(f"H_{p}") for p in policies},
        concentration=concentration,
    )


def read_rounds(path: str | Path, layout: str = "rounds") -> list[Round]:
    """The rounds of a CSV file, checked: see the module docstring for the format."""
    if layout not in LAYOUTS:
        raise RoundsError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    with open(path, newline="") as file:
        reader = csv.reader(file)
        try:
            return _read(reader, path, layout)
        except UnicodeDecodeError as error:  # decoded by blocks: no line to name
            raise RoundsError(f"{path}: not UTF-8 text ({error})") from None
        except csv.Error as error:
            raise RoundsError(f"{path}:{reader.line_num}: not CSV ({error})") from None


def _read(reader, path: str | Path, layout: str) -> list[Round]:
    rounds: list[Round] = []
    header = next(reader, None)
    if header is None:
        raise RoundsError(f"{path}:1: empty file (expected a header {','.join(REQUIRED)},...)")
    named = [c.strip() for c in header]  # as in the file
    duplicated = sorted({c for c in named if named.count(c) > 1})
    if duplicated:
        raise RoundsError(f"{path}:1: column {duplicated[0]!r} appears more than once")
    header = _oss_adl(named, f"{path}:1") if layout == "oss-adl" else named
    label = dict(zip(header, named, strict=True))
    policies = _policies(header, f"{path}:1")
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise RoundsError(
                f"{where}: column {named[len(row)]!r} is missing"
                f" ({len(row)} values for {len(header)} columns)"
            )
        if len(row) > len(header):
            raise RoundsError(f"{where}: {len(row)} values for {len(header)} columns")
        current = _round(dict(zip(header, row, strict=True)), policies, where, label)
        if rounds and current.round <= rounds[-1].round:
            raise RoundsError(
                f"{where}: column {label['round']!r}: {current.round} does not follow"
                f" {rounds[-1].round} (rounds must be in increasing order)"
            )
        rounds.append(current)
    if not rounds:
        raise RoundsError(f"{path}:2: no rounds after the header")
    return rounds


def _decimal(q: Fraction) -> Decimal:
    with localcontext(prec=PRECISION):
        return Decimal(q.numerator) / Decimal(q.denominator)


def _theta(r: Round) -> Fraction:
    # No deficit, nothing to recover: the round asks for no share of it.
    return min(Fraction(1), r.needed / r.deficit) if r.deficit else Fraction(0)


def envelope(rounds: list[Round]) -> Decimal:
    """sqrt((1 + 2P) * sum D_t^2), P the path length of theta; at 60 significant digits."""
    thetas = [_theta(r) for r in rounds]
    path = sum((abs(b - a) for a, b in zip(thetas, thetas[1:], strict=False)), Fraction(0))
    square = (1 + 2 * path) * sum((r.deficit**2 for r in rounds), Fraction(0))
    with localcontext(prec=PRECISION):
        return _decimal(square).sqrt()


def score(
    rounds: list[Round], reference: str, lam: int | Decimal | Fraction = 1
) -> dict[str, dict[str, Decimal | None]]:
    """Per policy: the METRICS, unrounded (see the module docstring)."""
    policies = list(rounds[0].taken) if rounds else []
    if reference not in policies:
        raise RoundsError(f"reference {reference!r} is not a policy (policies: {policies})")
    bound = envelope(rounds)
    scores = {}
    for p in policies:
        over = sum((max(r.taken[p] - r.needed, 0) for r in rounds), Fraction(0))
        under = sum((max(r.needed - r.taken[p], 0) for r in rounds), Fraction(0))
        fairness = sum(
            (r.needed * abs(r.concentration[p] - r.concentration[reference]) for r in rounds),
            Fraction(0),
        )
        total = over + under + Fraction(lam) * fairness
        with localcontext(prec=PRECISION):
            percent = 100 * _decimal(total) / bound if bound else None
        values = (over + under, over, under, fairness, total)
        scores[p] = dict(zip(METRICS, [*map(_decimal, values), bound, percent], strict=True))
    return scores


def _rounded(value: Decimal | None) -> str | None:
    if value is None:
        return None
    with localcontext(prec=PRECISION):
        return f"{value.quantize(CENTS, rounding=ROUND_HALF_EVEN):f}"


def _table(scores: dict[str, dict[str, Decimal | None]]) -> str:
    heads = ["policy", *METRICS[:-1], "% of envelope"]
    rows = [[p, *(_rounded(v[m]) or "n/a" for m in METRICS)] for p, v in scores.items()]
    widths = [max(len(row[i]) for row in [heads, *rows]) for i in range(len(heads))]

    def line(cells: list[str]) -> str:
        # the policy name reads left to right, the figures line up on the decimal point
        padded = [c.rjust(w) for c, w in zip(cells, widths, strict=True)]
        return "  ".join([cells[0].ljust(widths[0]), *padded[1:]])

    return "\n".join(line(row) for row in [heads, *rows])


def main(argv: list[str] | None = None) -> int:
    """The table (or ``--json``) on stdout and 0; a bad file or argument: stderr and 2."""
    parser = argparse.ArgumentParser(
        description="Score ADL policies on a CSV of rounds (amounts to cents, half to even).",
    )
    parser.add_argument("--rounds", required=True, metavar="FILE", help="CSV of rounds")
    parser.add_argument("--reference", required=True, metavar="NAME", help="reference policy")
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="rounds",
        help="the file's columns: round,D,B_needed,H_NAME,m_NAME (rounds, the default) or"
        " the OSS reproduction's policy_per_wave_metrics.csv (oss-adl)",
    )
    parser.add_argument(
        "--lambda", dest="lam", default="1", metavar="LAMBDA", help="fairness weight (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        lam = _number(args.lam, "--lambda")
        rounds = read_rounds(args.rounds, args.layout)
        scores = score(rounds, args.reference, lam)
    except (RoundsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        report = {
            "reference": args.reference,
            "lambda": args.lam.strip(),
            "rounds": len(rounds),
            "envelope": _rounded(envelope(rounds)),
            "policies": {p: {m: _rounded(v[m]) for m in METRICS} for p, v in scores.items()},
        }
        print(json.dumps(report, indent=2))
    else:
        print(_table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
