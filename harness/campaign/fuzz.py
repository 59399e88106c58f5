"""Differential fuzz campaign (``make fuzz``): the workers, their budgets, the signals
and the report. What it does, and its options, are in ``options`` (``--help``).
"""

import io
import multiprocessing
import queue
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from functools import partial

from harness.campaign import (
    coverage,
    distributed,
    junit,
    provenance,
    report,
    sarif,
    saved_failures,
    simplify,
    trace,
)
from harness.campaign.options import REPORTS, parse_args, reproduce_command
from harness.campaign.progress import Progress
from harness.core import gc_policy, invariants
from harness.core.batches import batch_seed
from harness.core.branches import TRADING_BRANCHES, WATERFALL_BRANCHES, Stats, Stopped
from harness.core.machine import DifferentialMachine, explore, replay_calls, run_batch
from harness.core.pair import Pair
from harness.core.readable import describe
from harness.core.sequence import CheckedSequence
from harness.core.spec_machine import SpecMachine, spec_sequence
from harness.evm import make_chain
from harness.evm.anvil_coverage import CoverageAnvilChain
from pyspec.constants import ADL_POLICY_NAMES

# of the shrink budget (--shrink-seconds), the part hypothesis's shrinking may take; the
# campaign's minimizer has the rest (and whatever hypothesis left unused)
HYPOTHESIS_SHARE = 0.5
# ... and it stops sooner, when this part of the budget went by without a shorter failing
# run (it often finds none for seconds on a long run; the minimizer's chunks cut it fast)
HYPOTHESIS_STALL = 0.25
# anvil slows down over long runs (memory, snapshot journal): restart it this often.
ANVIL_RESTART_SEQUENCES = 200

AGREED, FAILED, USAGE, ERROR = 0, 1, 2, 3
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def work(index: int, args, publish, stop, on_ready=None) -> None:
    """One worker: set up (compile, deploy), then run batches until the budget is spent,
    ``stop`` is set or a failure; publish progress, then the failure or the error, then
    "done"."""
    stats = Stats(on_progress=lambda s: publish(("progress", index, progress_of(s))))
    extra = {"stopped": None, "shrink_steps": 0, "minimized": True, "batches": 0}
    try:
        chain = CoverageAnvilChain() if args.coverage else make_chain(args.chain)
    except Exception as error:
        publish(("error", index, setup_error(args, error)))
        publish(("done", index, progress_of(stats, extra)))
        return
    try:
        found = run(index, args, chain, stats, stop, extra, on_ready)
        if found is not None:
            publish(("failure", index, *found))
    except Exception as error:
        publish(("error", index, f"worker {index}: {traceback.format_exc()}"))
        del error
    finally:
        chain.close()
        extra["fingerprints"] = sorted(stats.fingerprints)
        if args.coverage:
            extra["coverage"] = coverage.contract_hits(chain)
        publish(("done", index, progress_of(stats, extra)))


def setup_error(args, error: Exception) -> str:
    text = f"setup failed on chain {args.chain}: {type(error).__name__}: {error}"
    if args.chain.startswith("ape:"):
        text += "\n(is the network reachable, and its provider plugin installed?)"
    return text


def new_pair(chain) -> Pair:
    """Deploy and set up; with coverage, the setup's transactions are left uncounted:
    they run at every start, whatever the campaign then reaches."""
    if not isinstance(chain, CoverageAnvilChain):
        return Pair(chain)
    chain.counting = False
    try:
        return Pair(chain)
    finally:
        chain.counting = True


def run(index: int, args, chain, stats: Stats, stop, extra: dict, on_ready):
    """Deploy on ``chain``, then the batches; return (trace, text, minimized) of a
    failure, or None."""
    machine_class = SpecMachine if args.machine == "spec" else DifferentialMachine
    pair = new_pair(chain)
    policy = None if args.adl_policy is None else ADL_POLICY_NAMES.index(args.adl_policy)
    machine = machine_class.bind(pair, stats, policy)
    gc_policy.long_run()
    if on_ready is not None:
        on_ready()
    # the campaign's checks only: not setup's, nor an earlier run's in this process
    invariants.CHECKS.clear()
    # the budget starts now: setup is done
    deadline = time.monotonic() + args.seconds
    # the step budget is the campaign's: each worker runs its share
    share = args.max_steps // args.workers + (index < args.max_steps % args.workers)

    # the shrink budget, from the first failing step: hypothesis's shrinking until
    # ``hypothesis_until`` (or a stall: no shorter failing run since ``improved``), then
    # the campaign's minimizer until ``until``
    shrink = {"hypothesis_until": None, "until": None, "improved": None}

    def hypothesis_until() -> float | None:
        if shrink["until"] is None:
            return None
        stalled = shrink["improved"] + args.shrink_seconds * HYPOTHESIS_STALL
        return min(shrink["hypothesis_until"], stalled)

    def spent(more: int = 0, until: float | None = None) -> str | None:
        if stop.is_set():
            return "stopped"
        if args.max_steps and stats.steps + extra["shrink_steps"] + more > share:
            return "step budget"
        now = time.monotonic()
        if now >= deadline:
            return "time budget"
        if until is not None and now >= until:
            return "shrink budget"
        return None

    stats.should_stop = lambda: spent(1, hypothesis_until())
    best: dict = {}

    def on_failure(failure) -> None:
        """Keep the shortest failing run of the first failure's kind (for a deadline
        that falls while hypothesis shrinks)."""
        if "first_failure_at" not in extra:  # the time-to-report starts here
            extra["first_failure_at"] = time.time()
            extra["first_failure_step"] = stats.steps
            if args.shrink_seconds:
                now = time.monotonic()
                shrink["until"] = now + args.shrink_seconds
                shrink["hypothesis_until"] = now + args.shrink_seconds * HYPOTHESIS_SHARE
        kind = trace.signature(failure)
        if not best or (kind == best["kind"] and len(failure.calls) < len(best["calls"])):
            best.update(kind=kind, calls=failure.calls, failure=failure)
            shrink["improved"] = time.monotonic()

    stats.on_failure = on_failure
    restarted_at = 0
    batch = 0
    database = distributed.example_database(args.database)
    saved_key = saved_failures.key(args.machine, args.chain)
    try:
        if args.explorer == "random" and index == 0:  # hypothesis replays its own first
            extra["saved_failures_passed"] = 0

            def passed() -> None:
                extra["saved_failures_passed"] += 1

            saved_failures.replay_first(
                database,
                saved_key,
                partial(replay_calls, machine),
                partial(saved_failures.runnable, pair),
                passed,
            )
        while not (reason := spent(1)):
            extra["batches"] = batch + 1  # started (the seeds used), finished or not
            try:
                seed = batch_seed(args.seed, index, batch)
                if args.explorer == "random":
                    explore(machine, seed, args.batch, args.steps)
                else:
                    run_batch(machine, seed, args.batch, args.steps, database)
            except AssertionError:
                raise
            except Exception:
                # cut short while it replayed or shrank, hypothesis may see a draw
                # inconsistency (FlakyStrategyDefinition): the stop explains it
                if stats.stopped:
                    raise Stopped(stats.stopped) from None
                raise
            batch += 1
            if args.chain == "anvil" and stats.sequences - restarted_at >= ANVIL_RESTART_SEQUENCES:
                chain.restart()
                pair = new_pair(chain)
                machine = machine_class.bind(pair, stats, policy)
                restarted_at = stats.sequences
        extra["stopped"] = reason
        return None
    except Stopped:
        extra["stopped"] = stats.stopped
        if not best:
            return None
        # a budget ran out while hypothesis was shrinking: the shortest run so far
        failure, calls, complete = best["failure"], best["calls"], False
    except AssertionError as found:
        failure, calls, complete = found, getattr(found, "calls", []), True
        extra["saved_failure_reproduced"] = getattr(found, "saved", False)
    stats.should_stop = None
    extra["search_done_at"] = time.time()  # hypothesis's shrinking (or the explorer) ended
    # a candidate stops at the budget's end between two calls, as a drawn sequence does
    timed = Stats()
    timed.should_stop = lambda: spent(0, shrink["until"])
    sequence = partial(spec_sequence if args.machine == "spec" else CheckedSequence, stats=timed)
    prefixed = trace.PrefixReplay(pair, sequence)  # each candidate from its shared prefix

    def replay(candidate, pair) -> BaseException | None:
        """The failure ``candidate`` leads to (on the spec alone with ``--machine spec``, as
        it was found), or None, also when the budget ran out during it: the minimizer's
        next ``stop`` ends the search, and a search whose last candidate was cut is not
        complete."""
        try:
            return prefixed(candidate)
        except Stopped as stopped:
            extra["candidate_cut"] = True
            if extra["stopped"] is None:
                extra["stopped"] = f"{stopped} (while minimizing)"
            return None

    def stop_minimizing(candidate) -> bool:
        if reason := spent(len(candidate), shrink["until"]):
            if extra["stopped"] is None:  # else the budget that cut hypothesis short
                extra["stopped"] = f"{reason} (while minimizing)"
            return True
        extra["shrink_steps"] += len(candidate)
        return False

    # what hypothesis left (all of it, or the shortest run when a budget cut it short),
    # cut down by the campaign's minimizer in what remains of the budgets
    try:
        shrunk, last, finished = trace.minimize(
            calls, pair, trace.signature(failure), replay, stop_minimizing
        )
        finished = finished and not extra.get("candidate_cut")
        failure = last or failure
        simplified = []
        if finished and args.explorer == "random":  # drawn values: no hypothesis shrank them
            shrunk, last, simplified, finished = simplify.simplify(
                shrunk, pair, trace.identity(failure), replay, stop_minimizing
            )
            finished = finished and not extra.get("candidate_cut")
            failure = last or failure
    finally:
        prefixed.close()
    if args.explorer == "random":
        saved_failures.save(database, saved_key, shrunk, failure)
    # minimized: no single call can be dropped (hypothesis may have been cut short by its
    # share of the shrink budget; the calls' values are then as it left them)
    extra["hypothesis_shrunk"] = complete
    complete = finished
    extra["minimized"] = complete
    found = trace.to_json(
        shrunk,
        failure,
        seed=args.seed,
        worker=index,
        chain=args.chain,
        machine=args.machine,
        hypothesis_calls=len(calls),
        minimized=complete,
        simplified=simplified,
    )
    # replaying for the state diff is one more run of the calls: only inside the budget
    text = transcript(shrunk, failure, pair if not spent(len(shrunk)) else None)
    if not complete:
        text += "\n(not fully minimized: a budget ran out while shrinking)"
    return found, text, complete


def transcript(calls: list, failure: BaseException, pair: Pair | None) -> str:
    """The minimized calls replayed one by one on ``pair`` (what ``make replay`` prints):
    named fields, each outcome, the failure and the state diff where it first failed.
    Without a pair (the budget is spent), the calls as found and the failure."""
    if pair is None:
        listed = "\n".join(f"step {i}: {describe(c)}" for i, c in enumerate(calls, 1))
        return (
            f"{type(failure).__name__}: {failure}\n\n{listed}\n"
            "(no state diff: the budget ran out; make replay TRACE=... prints it)\n"
        )
    out = io.StringIO()
    reproduced = trace.replay(calls, pair, out=out)
    name = trace.invariant_of(failure) or "an unnamed check"
    head = f"{type(failure).__name__}: {name} failed, at the step shown below"
    if not reproduced:  # the replay passed: keep the failure as the campaign saw it
        head = f"{type(failure).__name__}: {failure}\n(the replay below did not reproduce it)"
    return f"{head}\n\n{out.getvalue()}"


def time_to_report(started: float | None, worker: dict, found: dict) -> dict:
    """When the first failing run failed (seconds into the budget, and steps), and the
    seconds from it to the saved counterexample (now): the time-to-report, shrinking
    included; with the saved trace's length and whether it is fully minimized."""
    now = time.time()
    first = worker.get("first_failure_at", now)
    searched = worker.get("search_done_at", first)
    return {
        "first_failure_seconds": round(first - (started or first), 2),
        "first_failure_step": worker.get("first_failure_step"),
        "seconds": round(now - first, 2),
        # of which hypothesis's shrinking, then the campaign's minimizer and the transcript
        "hypothesis_shrink_seconds": round(searched - first, 2),
        "minimizer_seconds": round(now - searched, 2),
        "calls": len(found["calls"]),
        "hypothesis_calls": found.get("hypothesis_calls"),
        "minimized": found.get("minimized"),
        # whether hypothesis finished shrinking (False: its share of the budget ended it)
        "hypothesis_shrunk": worker.get("hypothesis_shrunk"),
    }


def progress_of(stats: Stats, extra: dict | None = None) -> dict:
    """What a worker reports: its statistics and the latest insurance fund."""
    data = stats.to_dict()
    data["fund"] = stats.series[-1][1] if stats.series else None
    data["checks"] = dict(invariants.CHECKS)
    data.update(extra or {})
    return data


class _Flag:
    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        self.value = True


class Interrupted(BaseException):
    """A signal during setup, before any step could stop cleanly."""


class Signals:
    """SIGINT and SIGTERM: during setup they interrupt at once; once the workers step,
    they set the stop flags and the run ends after the current step, with a report."""

    def __init__(self, flags) -> None:
        self.received: int | None = None
        self.flags = flags
        self.stepping = False
        self.previous = {s: signal.signal(s, self.handle) for s in SIGNAL_EXIT}

    def handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum
        for flag in self.flags:
            flag.set()
        if not self.stepping:
            self.stepping = True  # once: the report is written after
            raise Interrupted(signum)

    def restore(self) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def _child_signals(stop) -> None:
    """In a worker: a signal stops it after its step (the parent writes the report)."""
    for s in SIGNAL_EXIT:
        signal.signal(s, lambda *_: stop.set())


def _worker(index, args, put, stop) -> None:
    _child_signals(stop)
    work(index, args, put, stop)


class Campaign:
    """One run: what the workers report, the signals, then the report and exit status."""

    def __init__(self, args, command: str) -> None:
        self.args = args
        self.command = command
        run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + f"-seed{args.seed}"
        self.out = args.out or REPORTS / run_id
        self.progress = Progress(args.workers, WATERFALL_BRANCHES + TRADING_BRANCHES)
        self.workers: dict[int, dict] = {}
        self.failures: list = []
        self.errors: list[str] = []
        self.setup_started = time.monotonic()
        self.started: float | None = None  # when the budget started: setup done
        self.started_wall: float | None = None  # the same, wall clock (workers share it)
        self.signals: Signals | None = None

    def handle(self, message) -> None:
        kind, index = message[0], message[1]
        if kind in ("progress", "done"):
            self.workers[index] = message[2]
        elif kind == "error":
            self.errors.append(message[2])
        elif kind == "failure":
            self.failures.append(message)
        self.progress.update(self.workers, len(self.failures), self.elapsed())

    def ready(self) -> None:
        self.signals.stepping = True
        self.started = time.monotonic()
        self.started_wall = time.time()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def run(self, stop, messages, context) -> None:
        """Set up and run the workers (in this process when there is one and no
        scheduler)."""
        if self.args.scheduler:
            try:
                prepare(self.args)
            except Exception as error:
                self.handle(("error", -1, setup_error(self.args, error)))
                return
            distributed.run(work, self.args, self.handle, self.ready, self.signals.flags)
            return
        if self.args.workers == 1:
            work(0, self.args, self.handle, stop, on_ready=self.ready)
            return
        try:
            prepare(self.args)
        except Exception as error:
            self.handle(("error", -1, setup_error(self.args, error)))
            return
        run_workers(context, messages, stop, self.args, self.handle, self.ready)

    def finish(self) -> int:
        """Write the report; return the exit status."""
        args, failures, errors, workers = self.args, self.failures, self.errors, self.workers
        received = self.signals.received
        self.signals.stepping = True  # a second signal while reporting only sets the flags
        elapsed = self.elapsed()
        self.progress.finish()
        code = outcome(args, received, failures, errors, workers)
        trace_path = failed = None
        seeds = {
            "rule": f"worker i, batch b: seed batch_seed({args.seed}, i, b), the "
            "first 8 bytes of sha256('perp-spec campaign <seed> <i> <b>')",
            "batches": {i: w.get("batches", 0) for i, w in sorted(workers.items())},
        }
        origin = provenance.collect(self.command, seeds)
        # a reused --out: an earlier run's counterexample must not sit beside this report
        (self.out / "counterexample.json").unlink(missing_ok=True)
        if failures:
            _, index, found, text, _ = failures[0]
            found["provenance"] = origin
            failed = found.get("failure", {}).get("invariant")
            print(text, file=sys.stderr)
            trace_path = trace.save(self.out / "counterexample.json", found)
            reported = time_to_report(self.started_wall, workers.get(index, {}), found)
            print(f"\ncounterexample saved: {trace_path}", file=sys.stderr)
            print(f"replay it:  make replay TRACE={trace_path}", file=sys.stderr)
        for error in errors:
            print(error, file=sys.stderr)
        fingerprints = sorted({f for w in workers.values() for f in w.pop("fingerprints", ())})
        hits = coverage.merge([w.pop("coverage", {}) for w in workers.values()])
        summary = report.summarize(args, workers, elapsed, failures, trace_path)
        summary.update(
            setup_seconds=round((self.started or time.monotonic()) - self.setup_started, 2),
            exit_code=code,
            errors=errors,
            interrupted=signal.Signals(received).name if received else None,
            partial=received is not None,
            reproduce=reproduce_command(args),
            distinct_sequences=len(fingerprints),
        )
        summary["result"] = result_of(summary, args, failures, errors)
        if failures:
            summary["time_to_report"] = reported
            summary["minimized"] = failures[0][4]  # the reported failure's, not another's
        summary["provenance"] = origin
        lines = branches = None
        if args.coverage:
            lines, branches = coverage.line_counts(hits), coverage.branch_counts(hits)
            summary["coverage"] = coverage.summary(lines, branches)
        paths = report.write(self.out, summary, lines, branches)
        # one hash per finished sequence: compare two runs with `comm -12`
        (self.out / "sequences.txt").write_text("".join(f + "\n" for f in fingerprints))
        if args.junit is not None:
            junit.write(args.junit, summary, failed)
        if args.sarif is not None:
            sarif.write(args.sarif, summary, failures[0][2] if failures else None, code)
        print(report.text(summary))
        print(f"reproduce: {summary['reproduce']}")
        if code == ERROR and not errors:
            print(summary["result"], file=sys.stderr)
        print(f"report: {paths['markdown']}  {paths['html']}  {paths['json']}")
        if "lcov" in paths:
            print(f"Vyper line coverage: {coverage.one_line(summary['coverage'])}  {paths['lcov']}")
        return code


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"seed {args.seed} (reproduce: {reproduce_command(args)})", flush=True)
    campaign = Campaign(args, provenance.command("harness.campaign", argv))
    context = multiprocessing.get_context("fork")
    local = args.workers == 1 or args.scheduler
    messages, stop = (None, _Flag()) if local else (context.Queue(), context.Event())
    campaign.signals = Signals([stop])
    try:
        try:
            campaign.run(stop, messages, context)
        except Interrupted:
            pass
        return campaign.finish()
    finally:
        campaign.signals.restore()


def prepare(args) -> None:
    """Compile every contract once, before the workers fork (they share the artifacts)."""
    chain = make_chain("embedded")
    try:
        Pair(chain)
    finally:
        chain.close()


def run_workers(context, messages, stop, args, handle, ready) -> None:
    processes = [
        context.Process(target=_worker, args=(i, args, messages.put, stop), daemon=True)
        for i in range(args.workers)
    ]
    for process in processes:
        process.start()
    ready()
    finished = 0
    while finished < len(processes):
        try:
            message = messages.get(timeout=0.5)
        except queue.Empty:
            if not any(p.is_alive() for p in processes) and messages.empty():
                handle(("error", -1, "every worker exited without reporting"))
                break
            handle(("tick", -1))
            continue
        handle(message)
        if message[0] == "failure":
            stop.set()
        finished += message[0] == "done"
    for process in processes:
        process.join(timeout=10)


def outcome(args, received, failures, errors, workers) -> int:
    """The exit status: a signal's, then 1 for a failure, 3 for an error or too few steps."""
    if received is not None:
        return SIGNAL_EXIT[received]
    if failures:
        return FAILED
    if errors:
        return ERROR
    if sum(w["steps"] for w in workers.values()) < args.min_steps:
        return ERROR
    return AGREED


def result_of(summary: dict, args, failures, errors) -> str:
    if failures:
        result = "divergence"
        if not all(f[4] for f in failures[:1]):
            result += " (not fully minimized)"
    elif errors:
        result = "harness or environment error"
    elif summary["steps"] < args.min_steps:
        result = f"FAILED: too few steps ({summary['steps']:,} ran, --min-steps {args.min_steps})"
    elif args.machine == "spec":
        result = "agreed (the spec kept every invariant and property)"
    else:
        result = "agreed"
    if summary["partial"]:
        result = result.replace("agreed", "agreed so far", 1)
        result = f"partial (interrupted by {summary['interrupted']}): {result}"
    return result


if __name__ == "__main__":
    sys.exit(main())
