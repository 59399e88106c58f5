"""The ADL stress lab: who pays for a bankruptcy under each policy.

    python -m harness.lab                          (make adl-lab) every policy, every scenario
    python -m harness.lab --cascades 20 --rounds 16 --seed 7 --policies queue,pnl_pro_rata
    python -m harness.lab --scenario sybil         one scenario only (cascade, sybil, alternating,
                                                   deposit, close-and-reopen, cross-market)
    python -m harness.lab --generator wide         cascades from the second generator
    python -m harness.lab --rounds FILE.csv --reference NAME [--json]   anyone's per-round data
    python -m harness.lab --rounds FILE.csv --layout oss-adl --reference NAME   the paper's
                                                   reproduction's per-wave table, as published

Seeded cascades run through the whole waterfall on the spec under every policy (the same
cascade for each), drawn by ``--generator``: ``cascade`` (``cascade.draw``) or ``wide``
(``wide.draw``: winners at many entry prices, bankrupt cohorts, cross-margin losers);
``all`` also scores the other generator and judges issue 19's targets on both. A sample
is replayed on the embedded chain against the contracts, with
every invariant and property checked after every call. Writes report.md, report.html,
results.json and the plots under ``reports/adl-lab/<run>/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from harness import REPO_ROOT
from harness.arguments import AT_LEAST_ZERO, POSITIVE
from harness.core.pair import Pair
from harness.core.sequence import CheckedSequence
from harness.evm.revm import RevmChain
from harness.lab import adversarial, cascade, metrics, report, rounds, wide
from pyspec.constants import ADL_POLICY_NAMES, LIQUIDATOR_RESERVE, MAX_POSITIONS_PER_MARKET

# the command-line names; results use the function's name (close_and_reopen)
ADVERSARIAL = ("sybil", "alternating", "deposit", "close-and-reopen", "cross-market")
SCENARIOS = ("all", "cascade", *ADVERSARIAL)
GENERATORS = {"cascade": cascade.draw, "wide": wide.draw}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="all")
    parser.add_argument("--generator", choices=list(GENERATORS), default="cascade")
    parser.add_argument("--seed", type=AT_LEAST_ZERO, default=1, help="seed of the first cascade")
    parser.add_argument("--cascades", type=POSITIVE, default=50, help="cascades per policy")
    parser.add_argument("--rounds", type=POSITIVE, default=12, help="crash rounds per cascade")
    parser.add_argument(
        "--traders",
        type=POSITIVE,
        default=cascade.MAX_TRADERS,
        help=f"traders per cascade, the liquidator included (2 to {cascade.MAX_TRADERS})",
    )
    parser.add_argument(
        "--policies", default=",".join(ADL_POLICY_NAMES), help="comma-separated policy names"
    )
    parser.add_argument(
        "--replay",
        type=AT_LEAST_ZERO,
        default=2,
        help="cascades replayed on the embedded chain (0: none)",
    )
    parser.add_argument("--out", type=Path, default=None, help="report folder")
    args = parser.parse_args(argv)
    names = args.policies.split(",")
    unknown = [n for n in names if n not in ADL_POLICY_NAMES]
    if unknown:
        parser.error(f"unknown policies {unknown} (known: {', '.join(ADL_POLICY_NAMES)})")
    if not 2 <= args.traders <= cascade.MAX_TRADERS:
        parser.error(
            f"--traders: 2 to {cascade.MAX_TRADERS} (the market's {MAX_POSITIONS_PER_MARKET}"
            f" holder slots less {LIQUIDATOR_RESERVE} kept for liquidators, plus the liquidator)"
        )
    if args.traders < wide.MIN_TRADERS and "wide" in (args.generator, _other(args)):
        parser.error(f"--traders: the wide generator needs at least {wide.MIN_TRADERS}")
    args.policies = [ADL_POLICY_NAMES.index(n) for n in names]
    return args


def _other(args: argparse.Namespace) -> str | None:
    """The generator ``all`` scores besides ``--generator``."""
    if args.scenario != "all":
        return None
    return next(g for g in GENERATORS if g != args.generator)


def measure(generator: str, args: argparse.Namespace) -> dict[int, list[cascade.Run]]:
    """Draw ``args.cascades`` cascades with ``generator`` and run each under every policy."""
    drawn = [
        GENERATORS[generator](cascade.Scenario(args.seed + i, args.traders, args.rounds))
        for i in range(args.cascades)
    ]
    return {p: [cascade.run(c, p) for c in drawn] for p in args.policies}


def replay(runs: dict[int, list[cascade.Run]], count: int, traders: int) -> dict:
    """Replay the first ``count`` cascades of every policy differentially."""
    started = time.monotonic()
    chain = RevmChain()
    chain.add_accounts(max(4 + traders - len(chain.accounts), 0))
    pair = Pair(chain, n_traders=traders)
    calls = 0
    try:
        for policy_runs in runs.values():
            for run in policy_runs[:count]:
                sequence = CheckedSequence(pair)
                for call in run.calls:
                    sequence.call(call)
                calls += len(run.calls)
    finally:
        chain.close()
    return {
        "cascades": min(count, min(len(r) for r in runs.values())),
        "calls": calls,
        "chain": "embedded",
        "agreed": True,  # a divergence or a broken property raises
        "seconds": round(time.monotonic() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--reference" in argv or any(a.endswith(".csv") for a in argv):
        return rounds.main(argv)
    args = parse_args(argv)
    started = time.monotonic()
    results = {
        "lab": {
            "scenario": args.scenario,
            "seed": args.seed,
            "rounds": args.rounds,
            "cascades": args.cascades,
            "traders": args.traders,
            "generator": args.generator,
            "policies": [ADL_POLICY_NAMES[p] for p in args.policies],
            "reference": "continuous pro-rata",
            "lambda": 1,
        },
        "policies": {},
        "counterfactual": {},
        "adversarial": {},
        "replay": None,
    }
    if args.scenario in ("all", "cascade"):
        runs = measure(args.generator, args)
        for policy, policy_runs in runs.items():
            results["policies"][ADL_POLICY_NAMES[policy]] = {
                **metrics.run_metrics(policy_runs),
                "haircuts": metrics.haircuts(policy_runs),
            }
        first = next(iter(runs.values()))
        results["counterfactual"]["side_pro_rata"] = adversarial.side_pro_rata(first)
        if args.replay:
            results["replay"] = replay(runs, args.replay, args.traders)
    other = _other(args)
    if other:
        results["other_generator"] = {
            "generator": other,
            "policies": {
                ADL_POLICY_NAMES[p]: {"totals": metrics.run_metrics(r)["totals"]}
                for p, r in measure(other, args).items()
            },
        }
    for name in ADVERSARIAL:
        if args.scenario in ("all", name):
            key = name.replace("-", "_")
            results["adversarial"][key] = getattr(adversarial, key)(args.policies)
    results["lab"]["elapsed_seconds"] = round(time.monotonic() - started, 2)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = args.out or REPO_ROOT / "reports" / "adl-lab" / f"{stamp}-seed{args.seed}"
    paths = report.write(results, out)
    print(report.text(results))
    print("report: " + "  ".join(str(p) for p in paths if p.suffix in (".md", ".html", ".json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
