"""Counterexamples as JSON traces: save, shrink (calls dropped; values: ``simplify``),
replay step by step against the failure they record, export as a regression test.

    python -m harness.campaign.trace replay reports/traces/x.json [--chain anvil]
    python -m harness.campaign.trace export reports/traces/x.json --name margin_boundary

A trace holds the calls after the standard deployment (``harness.core.genesis``), with
accounts named by actor ("trader3"), never by address, so it replays on any fresh
deployment. Calls use the one JSON form of ``harness.core.call``.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from harness import REPO_ROOT
from harness.campaign import provenance
from harness.core import genesis, orders, readable
from harness.core.call import Call, Signed, call_from_json, call_to_json, reached
from harness.core.dump import labelled, spec_dump
from harness.core.invariants import InvariantViolation
from harness.core.pair import Divergence, Pair
from harness.core.properties import PROPERTIES
from harness.core.readable import describe
from harness.core.sequence import CheckedSequence
from harness.core.spec_step import resolve
from harness.evm import make_chain
from pyspec.settlement import Order

FORMAT = 1
REGRESSIONS = REPO_ROOT / "tests" / "regressions"
# a divergence's kind -> the comparison it failed (``invariants.INVARIANTS``)
DIVERGENCE_INVARIANT = {"revert": "reverts", "events": "events", "state": "state", "view": "views"}


def invariant_of(failure: BaseException) -> str | None:
    """The name of the invariant or property ``failure`` violated, when it says."""
    if isinstance(failure, Divergence):
        return DIVERGENCE_INVARIANT[failure.kind]
    if isinstance(failure, InvariantViolation):
        return failure.name
    return None


def to_json(calls: list[Call], failure: BaseException | None = None, **meta) -> dict:
    """Return the trace of ``calls`` (and of the failure they led to) as a JSON object."""
    trace = {
        "format": FORMAT,
        **meta,
        "calls": [call_to_json(call) for call in calls],
    }
    if failure is not None:
        trace["failure"] = failure_record(failure)
    return trace


def failure_record(failure: BaseException) -> dict:
    """``failure`` as a trace records it: its ``identity`` (the step and function only
    when known) and what it says (a divergence's call, field and both values, else its
    message), and what the failing call ran."""
    where = identity(failure)
    record = {"invariant": where["invariant"], "kind": where["kind"]}
    if where["step"] is not None:
        record.update(step=where["step"], fn=where["fn"])
    if isinstance(failure, Divergence):
        record.update(
            call=describe(failure.call, failure.names),
            field=failure.field,
            spec=readable.shown(failure.spec, failure.names),
            chain=readable.shown(failure.chain, failure.names),
            differences=failure.differences(),
        )
    else:
        record["message"] = str(failure)
    entry = entry_point(failure)
    if entry is not None:  # what the failing call ran: "settlement.settle", ...
        record["entry_points"] = [f"{c.target}.{c.fn}" for c in reached(entry)]
    return record


# What names a failure for a replay to find again (``same_failure``): the check that
# failed (an invariant or property by name, a divergence by the comparison it failed),
# its kind (a divergence's: revert, events, state, view; else the exception's type) and
# the failing call: its 1-based step (one past the last call for the checks at the end
# of the sequence: the full comparison, liveness) and its function ("target.fn").
IDENTITY = ("invariant", "kind", "step", "fn")
END = "the end of the sequence"


def identity(failure: BaseException) -> dict:
    """``failure``'s ``IDENTITY`` (step and function None when the failure does not say:
    it did not come from a ``CheckedSequence``)."""
    step = getattr(failure, "step", None)
    calls = getattr(failure, "calls", None) or []
    fn = None
    if step is not None:
        fn = f"{calls[step - 1].target}.{calls[step - 1].fn}" if step <= len(calls) else END
    kind = failure.kind if isinstance(failure, Divergence) else type(failure).__name__
    return {"invariant": invariant_of(failure), "kind": kind, "step": step, "fn": fn}


def same_failure(recorded: dict, failure: BaseException) -> bool:
    """Whether ``failure`` is the one a trace records (its "failure"): the same check,
    kind, failing step and function. A trace written before the step was recorded is
    compared by check, kind and (a divergence's) failing call as described."""
    again = failure_record(failure)
    if "step" in recorded:
        return all(again.get(field) == recorded.get(field) for field in IDENTITY)
    call = [readable.without_usdc(r.get("call") or "") for r in (again, recorded)]
    same = all(again.get(f) == recorded.get(f) for f in ("invariant", "kind"))
    return same and call[0] == call[1]


def shown_failure(record: dict) -> str:
    """A recorded failure as a reader names it: ``events divergence in settlement.settle
    at step 3``, ``invariant custody in engine.withdraw at step 2``, ``property
    liveness at the end of the sequence (step 5)``."""
    invariant, kind = record.get("invariant"), record.get("kind")
    if kind in DIVERGENCE_INVARIANT:
        what = f"{kind} divergence"
    elif invariant is not None:
        what = f"{'property' if invariant in PROPERTIES else 'invariant'} {invariant}"
    else:
        what = str(kind)
    step, fn = record.get("step"), record.get("fn")
    if step is None:
        return what
    if fn == END:
        return f"{what} at {END} (step {step})"
    return f"{what} in {fn} at step {step}"


# what a replay found, against the failure its trace records (``verdict``)
SAME, OTHER, AGREED = "the recorded failure", "a different failure", "agreed"


def verdict(recorded: dict | None, failure: BaseException | None) -> tuple[str, str]:
    """How a replay that ended in ``failure`` (None: every step agreed) compares with the
    failure its trace records (None when it records none): (``SAME``, ``OTHER`` or
    ``AGREED``, the sentence that says so)."""
    if failure is None:
        if recorded is None:
            return AGREED, "agreed: every step and the end of the sequence agreed"
        return AGREED, "agreed: the recorded failure no longer reproduces"
    now = shown_failure(failure_record(failure))
    if recorded is None:
        return OTHER, f"a failure the trace does not record: {now}"
    if same_failure(recorded, failure):
        return SAME, f"the recorded failure again: {now}"
    return OTHER, f"a different failure: recorded {shown_failure(recorded)}, now {now}"


def entry_point(failure: BaseException | None) -> Call | None:
    """The call ``failure`` happened in: a divergence's, else the last call the sequence
    ran (None for liveness, checked after the last call, and when unknown)."""
    if isinstance(failure, Divergence):
        return failure.call
    calls = getattr(failure, "calls", None)
    if not calls or invariant_of(failure) == "liveness":
        return None
    return calls[-1]


def save(path: Path, trace: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(trace, indent=1) + "\n")
    return path


def load_calls(trace: dict) -> list[Call]:
    return [call_from_json(item) for item in trace["calls"]]


def state_diff(pair: Pair) -> list[tuple[str, object, object]]:
    """Return every (field, spec, chain) that differs between the two states now."""
    spec = labelled(spec_dump(pair.state, pair.accounts), pair.accounts, pair.names)
    chain = labelled(pair.chain_dump(), pair.accounts, pair.names)
    chain_values = dict(chain)
    differing = [(f, v, chain_values.get(f)) for f, v in spec if chain_values.get(f) != v]
    missing = [(f, None, v) for f, v in chain if f not in dict(spec)]
    return differing + missing


def replay(calls: list[Call], pair: Pair, out=sys.stdout) -> int:
    """Apply ``calls`` to spec and chain one by one, checking every invariant as the
    campaign does; at the first failure print it with the full state diff and return its
    1-based index (0 when every step agreed)."""
    return replay_failure(calls, pair, out)[0]


def replay_failure(
    calls: list[Call], pair: Pair, out=sys.stdout
) -> tuple[int, AssertionError | None]:
    """``replay``, returning the failure too: (its 1-based index, the failure), or (0,
    None) when every step agreed."""
    sequence = CheckedSequence(pair)
    for index, call in enumerate(calls, 1):
        try:
            outcome = sequence.call(call)
        except AssertionError as failure:
            print(f"step {index}: {describe(call)}\n{type(failure).__name__}: {failure}", file=out)
            print("state diff (field: spec | chain):", file=out)
            for field, spec, chain in state_diff(pair) or [("(none)", "", "")]:
                print(f"  {field}: {spec} | {chain}", file=out)
            return index, failure
        status = (
            "checked"
            if outcome is None
            else ("ok" if outcome.success else f"revert {outcome.reason!r}")
        )
        print(f"step {index}: {describe(call)} -> {status}", file=out)
    try:
        sequence.finish()
    except AssertionError as failure:
        print(f"end of sequence\n{type(failure).__name__}: {failure}", file=out)
        return len(calls) + 1, failure
    print(f"all {len(calls)} steps agreed; the liveness drain passed", file=out)
    return 0, None


def signature(failure: BaseException) -> tuple:
    """What identifies a failure across shrinking: its type, kind and failing call."""
    if isinstance(failure, Divergence):
        return (type(failure).__name__, failure.kind, failure.call.fn)
    return (type(failure).__name__, str(failure).split(":")[0])


def failure_of(calls: list[Call], pair: Pair, make_sequence=CheckedSequence):
    """Replay ``calls`` (spec and chain, or what ``make_sequence`` checks), then the
    liveness drain; return the failure or None."""
    sequence = make_sequence(pair)
    try:
        for call in calls:
            sequence.call(call)
        sequence.finish()
    except AssertionError as failure:
        return failure
    return None


# Marks standing at once: each is a checkpoint of the embedded chain's journal, whose
# depth is the EVM's call depth too (past 1,024 every call fails); later calls replay.
MAX_MARKS = 512


class PrefixReplay:
    """``failure_of`` for candidates that share a prefix with the calls replayed before
    them, as the minimizer's do: each candidate restarts from the mark after its longest
    prefix in common with the last one (the same call objects) instead of from the
    deployed state. A mark is taken after every call; a restore drops the later ones."""

    def __init__(self, pair: Pair, make_sequence=CheckedSequence):
        self.pair, self.make_sequence = pair, make_sequence
        self.sequence = None
        self.calls: list = []  # the calls the last candidate ran without failing
        self.marks: list = []  # marks[k]: after the first k of them

    def __call__(self, candidate: list, pair: Pair | None = None) -> BaseException | None:
        shared = 0
        limit = min(len(candidate), len(self.calls))
        while shared < limit and candidate[shared] is self.calls[shared]:
            shared += 1
        if self.sequence is None:
            self.sequence = self.make_sequence(self.pair)
            self.marks = [self.sequence.mark()]
        else:
            self._release(shared + 1)
            self.sequence.restore(self.marks[shared])
            del self.calls[shared:]
        try:
            for call in candidate[shared:]:
                self.sequence.call(call)
                if len(self.marks) < MAX_MARKS:  # marks[k] stays after calls[:k]
                    self.calls.append(call)
                    self.marks.append(self.sequence.mark())
            self.sequence.finish()
        except AssertionError as failure:
            return failure
        return None

    def _release(self, keep: int) -> None:
        """Spend the marks after the first ``keep``, the latest first."""
        while len(self.marks) > keep:
            self.sequence.release(self.marks.pop())

    def close(self) -> None:
        """Spend every mark: the chain's journal is as deep as before the first replay."""
        if self.sequence is not None:
            self._release(0)
            self.sequence = None
            self.calls = []


def minimize(
    calls: list[Call], pair: Pair, target: tuple, replay=None, stop=None
) -> tuple[list[Call], BaseException | None, bool]:
    """Drop the calls whose removal keeps a failure with signature ``target``, replaying
    with ``replay`` (default ``PrefixReplay``: spec and chain, each candidate from the
    longest prefix replayed before). Hypothesis shrinks the draws; this removes what it
    left that the failure does not need.

    Chunks first, then single calls (delta debugging's complement steps): passes from the
    last call backward remove runs of half the calls, then a quarter, ... then one call,
    repeated until a one-call pass removes nothing. A candidate that fails earlier, the
    same way, is cut after the failing call at once.

    ``stop(candidate)``, asked before each replay, ends the search early when it returns
    true (a spent budget). Return the calls kept, the failure of the last successful
    candidate (None when none was) and whether the search completed."""
    own = replay is None
    replay = replay or PrefixReplay(pair)
    try:
        return _minimize(calls, pair, target, replay, stop)
    finally:
        if own:
            replay.close()


def _minimize(calls, pair, target, replay, stop):
    found = None
    size = max(1, len(calls) // 2)
    while True:
        changed = False
        end = len(calls)
        while end > 0:
            start = max(0, end - size)
            candidate = calls[:start] + calls[end:]
            if stop is not None and stop(candidate):
                return calls, found, False
            failure = replay(candidate, pair)
            if failure is not None and signature(failure) == target:
                kept = getattr(failure, "calls", None)
                if kept is not None and len(kept) < len(candidate):
                    candidate = candidate[: len(kept)]  # it failed before the end
                calls, changed, found = candidate, True, failure
                end = min(start, len(calls))
            else:
                end = start
        if size == 1 and not changed:
            return calls, found, True
        size = max(1, min(size // 2, len(calls) // 2))


REGRESSION_TEMPLATE = '''"""Regression: {title}.

Exported by ``make export`` from {source}.
{failure}"""

from harness.core.call import {imports}
from harness.core.sequence import CheckedSequence

CALLS = [
{calls}
]


def test_{name}(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
'''


def export(
    trace: dict, name: str, source: str, force: bool = False, directory: Path | None = None
) -> Path:
    """Write tests/regressions/test_<name>.py replaying the trace on each chain, its
    orders signed when the test runs (``signed_at_run_time``); refuse
    (``FileExistsError``) to overwrite an existing test unless ``force``."""
    name = re.sub(r"\W+", "_", name).strip("_").lower()
    if not name:
        raise ValueError("--name: needs at least one letter or digit")
    calls = "\n".join(f"    {signed_at_run_time(call)!r}," for call in load_calls(trace))
    failure = trace.get("failure")
    failure_text = (
        "When found, it failed with: " + json.dumps(failure, indent=1) + "\n" if failure else ""
    )
    directory = directory or REGRESSIONS
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"test_{name}.py"
    if path.exists() and not force:
        raise FileExistsError(
            f"{path} exists: choose another NAME, or pass --force to overwrite it"
        )
    path.write_text(
        REGRESSION_TEMPLATE.format(
            title=name.replace("_", " "),
            source=source,
            failure=failure_text,
            calls=calls,
            name=name,
            # a Governor call's arguments name their calldata
            imports=", ".join(
                n for n in ("Call", "Calldata", "Signed") if n == "Call" or f"{n}(" in calls
            ),
        )
    )
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(path)], check=False)
    return path


# The standard deployment's actors (``Pair`` on a fresh chain), whose domain every
# campaign's orders are signed for.
STANDARD_ACTORS = {**genesis.ACTORS, "settlement": genesis.SETTLEMENT_ADDRESS}


def signed_at_run_time(call: Call) -> Call:
    """``call`` with each order signature its trader made for the standard deployment
    replaced by ``Signed`` (signed again, for the deployment at hand, when the exported
    test runs); a defective signature (another signer, domain or form) stays as found."""
    if call.target != "settlement" or call.fn != "settle":
        return call
    args = list(call.args)
    for order_at, signature_at in ((0, 1), (2, 3)):
        order = args[order_at]
        made = orders.sign_for(STANDARD_ACTORS, Order(*resolve(STANDARD_ACTORS, order)))
        if args[signature_at] == made:
            args[signature_at] = Signed(order)
    return Call(call.target, call.fn, call.sender, tuple(args))


def warn_if_code_changed(trace: dict) -> bool:
    """Say, loudly, when the contracts or the spec differ from those the trace was found
    on (its provenance): the replay then tests other code. Return whether they differ."""
    recorded = trace.get("provenance")
    if recorded is None:
        print("WARNING: the trace has no provenance: it may come from other code", file=sys.stderr)
        return True
    changed = provenance.differences(recorded, provenance.code())
    if changed:
        print(
            "WARNING: the code differs from the trace's (found at commit "
            f"{recorded['code']['commit']}):\n  "
            + "\n  ".join(changed)
            + "\n  the replay below runs today's code, not the code that failed",
            file=sys.stderr,
        )
    return bool(changed)


def main(argv=None) -> int:
    """Exit 0 when the replay agreed (or the export was written), 1 on a divergence (the
    recorded failure or another: ``result:`` says which, ``verdict``), 2 on a usage error
    (no such trace, an existing test without --force), 3 when the chain could not be set
    up."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.campaign.trace",
        description="replay or export a counterexample trace",
        epilog="exit status: 0 agreed / exported, 1 divergence, 2 usage error, "
        "3 harness or environment error",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay_parser = commands.add_parser("replay", help="rerun a trace on spec and chain")
    replay_parser.add_argument("trace", type=Path)
    replay_parser.add_argument("--chain", default="embedded")
    export_parser = commands.add_parser("export", help="write it as a pytest regression test")
    export_parser.add_argument("trace", type=Path)
    export_parser.add_argument("--name", required=True)
    export_parser.add_argument(
        "--force", action="store_true", help="overwrite an existing test_<name>.py"
    )
    export_parser.add_argument(
        "--dir", type=Path, default=None, help="where to write it (default: tests/regressions)"
    )
    args = parser.parse_args(argv)
    try:
        trace = json.loads(args.trace.read_text())
    except (OSError, ValueError) as error:
        parser.error(f"{args.trace}: {error}")
    if not isinstance(trace, dict) or not trace.get("calls"):
        # a replay of nothing would agree, an export of nothing would never fail
        parser.error(f"{args.trace}: holds no call, nothing to {args.command}")
    if args.command == "export":
        try:
            print(export(trace, args.name, str(args.trace), args.force, args.dir))
        except (FileExistsError, ValueError) as error:
            parser.error(str(error))
        return 0
    try:
        chain = make_chain(args.chain)
    except ValueError as error:
        parser.error(str(error))
    except Exception as error:
        print(f"setup failed on chain {args.chain}: {error}", file=sys.stderr)
        return 3
    try:
        pair = Pair(chain)
        warn_if_code_changed(trace)
        started = time.monotonic()
        diverged_at, failure = replay_failure(load_calls(trace), pair)
        print(f"replayed in {time.monotonic() - started:.2f}s on {args.chain}")
    finally:
        chain.close()
    if "failure" in trace or failure is not None:
        print(f"result: {verdict(trace.get('failure'), failure)[1]}")
    return 1 if diverged_at else 0


if __name__ == "__main__":
    sys.exit(main())
