"""The random explorer's failures in the campaign's database (``--database``): a folder
or Redis, the one hypothesis keeps its failures in.

A failing campaign saves its minimized calls (the trace it writes as
``counterexample.json``) under its machine's and chain's key. The first worker of every
later run, on any machine sharing the database, replays those calls before exploring
anything new, as hypothesis replays its saved failures first: a bug found once is
reported again at once until it is fixed. A saved failure that now passes, or that this
code cannot load or encode (an older trace format, a call this code no longer has), is
deleted, so the database keeps only failures that still fail; one whose replay errs
otherwise (a node that drops the connection) is kept, and the error stops the run.

Keyed by machine and chain: a divergence needs the chain (a spec-only run would pass it),
and one a fork or anvil shows may pass on the embedded chain; neither may delete it.
Hypothesis's own failures (``--explorer hypothesis``) sit under its keys, and each
explorer replays only its own.
"""

from __future__ import annotations

import json

from hypothesis.database import ExampleDatabase

from harness.campaign import trace
from harness.core.call import CLOCK, VIEWS, Call

KEY = b"harness.campaign.failures."


def key(machine: str, chain: str) -> bytes:
    return KEY + f"{machine}.{chain}".encode()


def replay_first(database: ExampleDatabase | None, key: bytes, replay, runs, on_passed) -> None:
    """Replay every failure saved under ``key`` with ``replay(calls)`` (one checked
    sequence on the worker's machine and statistics, raising the failure), shortest
    first. One that passes, or that ``runs(calls)`` says this code cannot run, is
    deleted (``on_passed()`` counts the first kind); the first that fails raises, for the
    campaign to report."""
    if database is None:
        return
    for value in sorted(database.fetch(key), key=lambda v: (len(v), v)):
        try:
            calls = trace.load_calls(json.loads(value))
        except (ValueError, KeyError, TypeError):
            calls = None
        if calls is None or not runs(calls):  # saved by other code: not this one's failure
            database.delete(key, value)
            continue
        try:
            replay(calls)
        except AssertionError as failure:
            failure.saved = True  # the report says where it came from
            raise  # it still fails: kept, and reported
        database.delete(key, value)
        on_passed()


def save(
    database: ExampleDatabase | None, key: bytes, calls: list[Call], failure: BaseException
) -> None:
    """Keep ``calls``, which fail with ``failure``, for the next runs to replay first."""
    if database is not None:
        encoded = json.dumps(trace.to_json(calls, failure), sort_keys=True).encode()
        database.save(key, encoded)


def runnable(pair, calls: list[Call]) -> bool:
    """Whether this code can encode every call of ``calls`` for ``pair``'s contracts."""
    try:
        for call in calls:
            if call.target not in (CLOCK, VIEWS):
                pair.calldata(call)
    except Exception:
        return False
    return True
