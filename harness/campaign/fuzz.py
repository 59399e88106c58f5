"""Differential fuzz campaign (``make fuzz``).

    python -m harness.campaign --seconds 60 --seed 7 --chain anvil --workers 2

Runs the differential state machine in batches of hypothesis examples until the time or
step budget is spent, in one or more worker processes sharing one hypothesis example
database (a failure one worker found is replayed first by every later run). Shows live
progress, writes a report (Markdown, HTML, JSON and plots) and exits 1 on the first
divergence or violated invariant, after saving the shrunk call sequence as a JSON trace
(replay it with ``python -m harness.campaign.trace replay``).
"""

import argparse
import multiprocessing
import queue
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import get_state_machine_test

from harness.campaign import report, trace
from harness.campaign.progress import Progress
from harness.core.branches import TRADING_BRANCHES, WATERFALL_BRANCHES, Stats
from harness.core.machine import DifferentialMachine
from harness.core.pair import Pair
from harness.core.spec_machine import SpecMachine, spec_sequence
from harness.evm import make_chain
from pyspec.constants import ADL_POLICY_NAMES

DATABASE = ".hypothesis/campaign"
REPORTS = Path("reports")
# anvil slows down over long runs (memory, snapshot journal): restart it this often.
ANVIL_RESTART_SEQUENCES = 200


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget")
    parser.add_argument(
        "--max-steps", type=int, default=0, help="step budget over all workers (0: none)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the first batch")
    parser.add_argument(
        "--chain", default="embedded", help="embedded, anvil, or ape:<network> (e.g. a fork)"
    )
    parser.add_argument("--workers", type=int, default=1, help="parallel worker processes")
    parser.add_argument("--steps", type=int, default=60, help="calls per sequence (max)")
    parser.add_argument("--batch", type=int, default=10, help="sequences per hypothesis batch")
    parser.add_argument(
        "--machine",
        choices=("differential", "spec"),
        default="differential",
        help="differential: spec and chain after every call; spec: the spec alone against "
        "its properties, several times faster",
    )
    parser.add_argument(
        "--adl-policy",
        choices=ADL_POLICY_NAMES,
        default=None,
        help="pin every market to this ADL policy (default: the configuration's, switched "
        "at random through the Governor)",
    )
    parser.add_argument("--out", type=Path, default=None, help="report folder")
    parser.add_argument("--database", default=DATABASE, help="hypothesis example database")
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


def work(index: int, args, publish, stop) -> None:
    """One worker: run batches until the budget is spent, ``stop`` is set or a failure."""
    started = time.monotonic()
    stats = Stats(on_progress=lambda s: publish(("progress", index, progress_of(s))))
    chain = make_chain(args.chain)
    machine_class = SpecMachine if args.machine == "spec" else DifferentialMachine
    pair = Pair(chain)
    policy = None if args.adl_policy is None else ADL_POLICY_NAMES.index(args.adl_policy)
    machine = machine_class.bind(pair, stats, policy)
    restarted_at = 0
    batch = 0
    # the step budget is the campaign's: each worker runs its share
    share = args.max_steps // args.workers + (index < args.max_steps % args.workers)
    try:
        while not stop.is_set() and time.monotonic() - started < args.seconds:
            if args.max_steps and stats.steps >= share:
                break
            run_batch(
                machine, args.seed + 100_003 * index + batch, args.batch, args.steps, args.database
            )
            batch += 1
            if args.chain == "anvil" and stats.sequences - restarted_at >= ANVIL_RESTART_SEQUENCES:
                chain.restart()
                pair = Pair(chain)
                machine = machine_class.bind(pair, stats, policy)
                restarted_at = stats.sequences
    except AssertionError as failure:
        calls = getattr(failure, "calls", [])
        replay = trace.failure_of
        if args.machine == "spec":  # minimize on the spec alone, as the failure was found
            replay = partial(trace.failure_of, make_sequence=spec_sequence)
        shrunk = trace.minimize(calls, pair, trace.signature(failure), replay)
        failure = replay(shrunk, pair) or failure
        found = trace.to_json(
            shrunk,
            failure,
            seed=args.seed,
            worker=index,
            chain=args.chain,
            hypothesis_calls=len(calls),
        )
        notes = "\n".join(getattr(failure, "__notes__", []))
        publish(("failure", index, found, f"{type(failure).__name__}: {failure}\n{notes}"))
    finally:
        chain.close()
        publish(("done", index, progress_of(stats)))


def progress_of(stats: Stats) -> dict:
    """What a worker reports: its statistics and the latest insurance fund."""
    data = stats.to_dict()
    data["fund"] = stats.series[-1][1] if stats.series else None
    return data


class _Flag:
    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        self.value = True


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + f"-seed{args.seed}"
    out = args.out or REPORTS / run_id
    progress = Progress(args.workers, WATERFALL_BRANCHES + TRADING_BRANCHES)
    workers: dict[int, dict] = {}
    failures = []
    started = time.monotonic()

    def handle(message) -> None:
        kind, index = message[0], message[1]
        if kind in ("progress", "done"):
            workers[index] = message[2]
        else:
            failures.append(message)
        progress.update(workers, len(failures), time.monotonic() - started)

    if args.workers == 1:
        work(0, args, handle, _Flag())
    else:
        context = multiprocessing.get_context("fork")
        messages, stop = context.Queue(), context.Event()
        processes = [
            context.Process(target=work, args=(i, args, messages.put, stop), daemon=True)
            for i in range(args.workers)
        ]
        for process in processes:
            process.start()
        finished = 0
        while finished < len(processes):
            try:
                message = messages.get(timeout=0.5)
            except queue.Empty:
                progress.update(workers, len(failures), time.monotonic() - started)
                continue
            handle(message)
            if message[0] == "failure":
                stop.set()
            finished += message[0] == "done"
        for process in processes:
            process.join(timeout=10)
    elapsed = time.monotonic() - started
    progress.finish()

    trace_path = None
    if failures:
        _, index, found, text = failures[0]
        print(text, file=sys.stderr)
        trace_path = trace.save(out / "counterexample.json", found)
        print(f"\ncounterexample saved: {trace_path}", file=sys.stderr)
        print(f"replay it:  make replay TRACE={trace_path}", file=sys.stderr)
    summary = report.summarize(args, workers, elapsed, failures, trace_path)
    paths = report.write(out, summary, workers)
    print(report.text(summary))
    print(f"report: {paths['markdown']}  {paths['html']}  {paths['json']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
