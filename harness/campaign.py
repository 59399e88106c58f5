"""Differential fuzz campaign: ``python -m harness.campaign --seconds 30 --seed 7 --chain anvil``.

Runs the differential state machine in batches of hypothesis examples until the time
budget is spent, prints what it exercised, and exits 1 on the first divergence or
violated invariant (after hypothesis has shrunk it to a minimal call sequence).
"""

import argparse
import sys
import time

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import get_state_machine_test

from harness.chains import make_chain
from harness.coverage import FUNDING_BRANCHES, WATERFALL_BRANCHES, Stats
from harness.machine import DifferentialMachine
from harness.protocol import Protocol

DATABASE = ".hypothesis/campaign"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first batch")
    parser.add_argument("--chain", default="embedded", choices=["embedded", "anvil"])
    parser.add_argument("--steps", type=int, default=60, help="calls per sequence (max)")
    parser.add_argument("--batch", type=int, default=25, help="sequences per batch")
    return parser.parse_args(argv)


def run_batch(machine, seed: int, examples: int, steps: int, database=DATABASE) -> None:
    """Run ``examples`` sequences of up to ``steps`` calls from hypothesis seed ``seed``."""
    test = get_state_machine_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=DirectoryBasedExampleDatabase(database) if database else None,
            phases=[Phase.reuse, Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,  # the failure note lists the calls; the draws add noise
        ),
    )
    test._hypothesis_internal_use_seed = seed
    test()


def report(stats: Stats, elapsed: float, args, failure: BaseException | None) -> str:
    lines = [
        f"chain {args.chain}  seed {args.seed}  budget {args.seconds:.0f}s  elapsed {elapsed:.1f}s",
        f"steps {stats.steps}  sequences {stats.sequences}  "
        f"steps/s {stats.steps / max(elapsed, 1e-9):.0f}",
        f"trader views compared: {stats.views}",
        "calls (ok / total):",
    ]
    for fn, total in stats.calls.most_common():
        lines.append(f"  {fn:<20} {stats.successes[fn]:>7} / {total}")
    lines.append("branches reached (waterfall, then funding and fees):")
    for branch in WATERFALL_BRANCHES + FUNDING_BRANCHES:
        lines.append(f"  {branch:<28} {stats.branches[branch]}")
    lines.append(
        "revert reasons seen: " + ", ".join(f"{r} ({n})" for r, n in stats.reverts.most_common())
    )
    lines.append("RESULT: " + ("DIVERGENCE" if failure else "spec and chain agreed on every step"))
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    chain = make_chain(args.chain)
    stats = Stats()
    machine = DifferentialMachine.bind(Protocol(chain), stats)
    start = time.monotonic()
    failure = None
    batch = 0
    try:
        while time.monotonic() - start < args.seconds:
            run_batch(machine, args.seed + batch, args.batch, args.steps)
            batch += 1
    except AssertionError as error:
        failure = error
        print(f"\n{type(error).__name__}: {error}", file=sys.stderr)
        for note in getattr(error, "__notes__", []):
            print(note, file=sys.stderr)
    finally:
        chain.close()
    print(report(stats, time.monotonic() - start, args, failure))
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
