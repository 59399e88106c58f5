"""The campaign's command line: options, their checks, and the seeds they derive.

``parse_args`` refuses every invalid option with a message (exit 2); ``reproduce_command``
and ``harness.core.batches.batch_seed`` make every run's sequences its own and repeatable.
"""

import argparse
import secrets
import shlex
from pathlib import Path

from harness.arguments import POSITIVE, number
from harness.core.batches import BATCH
from pyspec.constants import ADL_POLICY_NAMES

DATABASE = ".hypothesis/campaign"
# seconds from the first failing step to the saved counterexample, shrinking included
SHRINK_SECONDS = 10.0
REPORTS = Path("reports")
DESCRIPTION = """\
Differential fuzz campaign (``make fuzz``).

Runs the differential state machine in batches of seeded random sequences (or of
hypothesis examples, ``--explorer hypothesis``) until the time or step budget is spent,
in one or more worker processes sharing one failure database (a failure one worker found
is replayed first by every later run). Compiling and deploying come first, outside the
budget. Shows live progress, writes a report (Markdown,
HTML, JSON and plots) and stops at the first divergence or violated invariant, after
saving the shrunk call sequence as a JSON trace (replay it with ``python -m
harness.campaign.trace replay``).
"""


EPILOG = """\
budget:
  --seconds and --max-steps start once the contracts are compiled and deployed (setup is
  outside the budget). Both are hard limits, shrinking a failure included: at the limit
  the best trace found so far is saved, marked "not fully minimized". --shrink-seconds
  bounds shrinking on its own, from the first failing step: the campaign's minimizer
  drops calls, then simplifies the values drawn, and the shortest failing run found by
  then is saved (marked "not fully minimized" when the budget cut it short); with
  --explorer hypothesis, hypothesis shrinks first for up to half of it (a quarter
  without a shorter failing run ends its turn).

exit status:
  0    agreed: spec and chain agreed on every step (at least --min-steps of them) and
       kept every invariant and property
  1    a divergence or a violated invariant or property (counterexample.json saved)
  2    usage error: an invalid option, refused before anything runs
  3    harness or environment error: setup failed (compiler, anvil, the network), a
       worker crashed, or fewer than --min-steps steps ran
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM: a partial report is written

report (in --out, default reports/<UTC time>-seed<seed>/):
  report.md, report.html  result (partial or not); after a failure, the minimized calls
                          in full (named arguments and order fields), the failure and the
                          state diff where it first failed; budget, elapsed, steps,
                          sequences, steps/s; provenance (commit, dirty flag, hashes of
                          contract sources, runtime bytecode and spec, tool versions,
                          date, host, command, seeds); scope never reached (entry points,
                          branches, invariants and properties, the contracts' revert
                          reasons); calls; branches; checks counted per invariant and
                          property; revert reasons; plots
  summary.json            the same figures for machines (make report-merge combines runs)
  fund.png                the insurance fund at each sequence's end, with its floor
  waterfall.png           amounts the waterfall moved, by branch
  throughput.png          steps/s over time, per worker
  reached.png             branches, rare states, revert reasons and entry points
                          reached over time, per worker
  coverage.lcov           with --coverage: Vyper lines and branches run per source file
                          (lcov); the reports add coverage per file, the unreached lines
                          and (HTML) the annotated sources
  counterexample.json     after a failure: the minimized calls and the provenance
                          (make replay TRACE=... warns when the code differs)
  --junit FILE            JUnit XML: one testcase per invariant and property
  --sarif FILE            SARIF 2.1.0 (code scanning): a rule per invariant and property,
                          a result per failure at the contract and spec functions the
                          failing call ran, the counterexample attached; the provenance
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _chain(text: str) -> str:
    if text.startswith("ape:") and text.split(":")[-1] == "test":
        raise argparse.ArgumentTypeError(
            f"{text!r}: ape's in-process test provider (eth-tester) has no snapshots or "
            "time control the campaign can use; use ape:ethereum:local:foundry (anvil), or "
            "leave out --chain / --network for the embedded chain"
        )
    if text in ("embedded", "anvil") or (text.startswith("ape:") and len(text) > 4):
        return text
    raise argparse.ArgumentTypeError(
        f"unknown chain {text!r}: expected embedded, anvil or ape:<network> "
        "(e.g. ape:ethereum:local:foundry)"
    )


def _scheduler(text: str) -> str:
    """``local`` or ``tcp://host:port``."""
    host, _, port = text.removeprefix("tcp://").rpartition(":")
    if text == "local" or (text.startswith("tcp://") and host and port.isdigit()):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r}: expected local or tcp://host:port (a Dask scheduler's address)"
    )


def parse_args(argv=None) -> argparse.Namespace:
    """The campaign's options; an invalid one exits 2 with a message."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.campaign",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    positive = POSITIVE
    parser.add_argument(
        "--seconds",
        type=number(float, 0, True, "a positive number of seconds"),
        default=20.0,
        help="time budget, after setup",
    )
    parser.add_argument(
        "--max-steps",
        type=number(int, 0, False, "an integer >= 0"),
        default=0,
        help="step budget over all workers, shrinking included (0: none)",
    )
    parser.add_argument(
        "--shrink-seconds",
        type=number(float, 0, False, "a number of seconds >= 0"),
        default=SHRINK_SECONDS,
        help="shrink budget from the first failing step: the campaign's minimizer (after "
        "hypothesis's shrinking, up to half, with --explorer hypothesis), then the shortest "
        "failing run found is saved (0: no shrink budget, shrinking runs until --seconds or "
        "--max-steps)",
    )
    parser.add_argument(
        "--min-steps",
        type=number(int, 0, False, "an integer >= 0"),
        default=1,
        help="fewer steps than this fails the run (exit 3) instead of reporting agreement",
    )
    parser.add_argument(
        "--seed",
        type=number(int, 0, False, "an integer >= 0"),
        default=None,
        help="run seed: every worker's and batch's seed is derived from it "
        "(batch_seed); default: a fresh random one, printed",
    )
    parser.add_argument(
        "--chain",
        type=_chain,
        default="embedded",
        help="embedded, anvil, or ape:<network> (e.g. a fork)",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="parallel workers: local processes, or tasks on the --scheduler's cluster",
    )
    parser.add_argument(
        "--scheduler",
        type=_scheduler,
        default=None,
        help="run the workers as tasks on this Dask scheduler (tcp://host:port), or on a "
        "local Dask cluster started for the run (local)",
    )
    parser.add_argument("--steps", type=positive, default=60, help="calls per sequence (max)")
    parser.add_argument(
        "--batch", type=positive, default=BATCH, help="sequences per batch (one seed each)"
    )
    parser.add_argument(
        "--machine",
        choices=("differential", "spec"),
        default="differential",
        help="differential: spec and chain after every call; spec: the spec alone against "
        "its properties, several times faster",
    )
    parser.add_argument(
        "--explorer",
        choices=("random", "hypothesis"),
        default="random",
        help="random (default): the action policy on a seeded random source, a failure "
        "minimized by the campaign's own minimizer and saved for later runs to replay first; "
        "hypothesis: the same actions and checks on hypothesis's draws, shrunk by hypothesis "
        "first (slower per step, and slower to report: docs/bench.md)",
    )
    parser.add_argument(
        "--adl-policy",
        choices=ADL_POLICY_NAMES,
        default=None,
        help="pin every market to this ADL policy (default: the configuration's, switched "
        "at random through the Governor)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (default: reports/<time>-seed<seed>)"
    )
    parser.add_argument(
        "--database",
        default=DATABASE,
        help="failure database shared by the workers: a folder, or redis://host:port/db "
        "(a Redis every machine reaches); '' for none",
    )
    parser.add_argument(
        "--junit",
        type=Path,
        default=None,
        help="also write JUnit XML for CI: one testcase per invariant and property",
    )
    parser.add_argument(
        "--sarif",
        type=Path,
        default=None,
        help="also write a SARIF 2.1.0 log for CI code scanning: a result per failure, "
        "located at the contract and spec functions the failing call ran",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="Vyper source coverage of the transactions (lines and branches per file, lcov, "
        "annotated sources); needs --chain anvil, which records every step (the embedded chain's "
        "tracer is too slow), and runs several times slower",
    )
    args = parser.parse_args(argv)
    if args.coverage and (args.chain != "anvil" or args.machine != "differential"):
        parser.error("--coverage needs --chain anvil and the differential machine")
    if args.seed is None:
        args.seed = secrets.randbits(63)
    if args.max_steps and args.max_steps < args.min_steps:
        parser.error(f"--max-steps {args.max_steps} is below --min-steps {args.min_steps}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out}: exists and is not a folder")
    return args


def reproduce_command(args) -> str:
    """The command that reruns this campaign's sequences: the same seed, workers, batch
    shape, machine, chain and budget (a time budget ends at another batch on another
    machine; --max-steps is exact)."""
    argv = ["python", "-m", "harness.campaign", "--seed", str(args.seed)]
    argv += ["--workers", str(args.workers), "--steps", str(args.steps)]
    argv += ["--batch", str(args.batch), "--chain", args.chain, "--machine", args.machine]
    if args.explorer != "random":
        argv += ["--explorer", args.explorer]
    if args.max_steps:
        argv += ["--max-steps", str(args.max_steps)]
    argv += ["--seconds", f"{args.seconds:g}"]
    if args.shrink_seconds != SHRINK_SECONDS:
        argv += ["--shrink-seconds", f"{args.shrink_seconds:g}"]
    if args.adl_policy is not None:
        argv += ["--adl-policy", args.adl_policy]
    if args.database != DATABASE:
        argv += ["--database", args.database]
    if args.scheduler:
        argv += ["--scheduler", args.scheduler]
    return shlex.join(argv)
