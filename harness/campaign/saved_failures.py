"""The random explorer's failures in the campaign's database (``--database``): a folder
or Redis, the one hypothesis keeps its failures in.

A failing campaign saves its minimized calls (the trace it writes as
``counterexample.json``) under its machine's key. Every later run, on any worker or
machine sharing the database, replays those calls before exploring anything new, as
hypothesis replays its saved failures first: a bug found once is reported again at once
until it is fixed. A saved failure that now passes, or that no longer loads or runs (an
older trace format, a call this code no longer has), is deleted, so the database keeps
only failures that still fail.

Keyed by machine: a divergence needs the chain, so a spec-only run would pass it and
must not delete it.
"""

from __future__ import annotations

import json

from hypothesis.database import ExampleDatabase

from harness.campaign import trace
from harness.core.call import Call

KEY = b"harness.campaign.failures."


def key(machine: str) -> bytes:
    return KEY + machine.encode()


def replay_first(database: ExampleDatabase | None, machine: str, replay) -> int:
    """Replay every failure saved for ``machine`` with ``replay(calls)`` (one checked
    sequence on the worker's machine and statistics, raising the failure), shortest
    first; return how many passed. Those that pass, or no longer load or run, are
    deleted; the first that fails raises, for the campaign to report."""
    if database is None:
        return 0
    passed = 0
    for value in sorted(database.fetch(key(machine)), key=lambda v: (len(v), v)):
        try:
            replay(trace.load_calls(json.loads(value)))
        except AssertionError as failure:
            failure.saved = True  # the report says where it came from
            raise  # it still fails: kept, and reported
        except Exception:  # saved by other code: not a failure of this one
            database.delete(key(machine), value)
            continue
        database.delete(key(machine), value)
        passed += 1
    return passed


def save(
    database: ExampleDatabase | None, machine: str, calls: list[Call], failure: BaseException
) -> None:
    """Keep ``calls``, which fail with ``failure``, for the next runs to replay first."""
    if database is not None:
        encoded = json.dumps(trace.to_json(calls, failure), sort_keys=True).encode()
        database.save(key(machine), encoded)
