"""Campaign workers on a Dask cluster and a failure database in Redis.

``--scheduler tcp://host:port`` submits one task per worker to that Dask scheduler
(``--scheduler local`` starts a local cluster of ``--workers`` processes first). A task
runs the campaign's worker (``fuzz.work``) exactly as a local worker process does; its
messages (progress, the failure, errors, done) come back pickled through a
``distributed.Queue`` (the scheduler's msgpack refuses integers beyond 64 bits, and the
statistics hold PnL-sized amounts), and the stop flag is a ``distributed.Event``, so a
failure one worker finds stops the others and the campaign reports it once.
``--workers N`` without a scheduler keeps forked local processes: no scheduler process
competing for the cores, no serialization, setup shared by fork.

``--database redis://host:port/db`` is hypothesis's ``RedisExampleDatabase``: every worker
on every machine saves failures there and replays them first. Only failures are kept
(``FailureDatabase``), not hypothesis's Pareto front.
"""

from __future__ import annotations

import os
import pickle
import queue
import time
import uuid
from functools import cache

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from harness.core.failure_database import FailureDatabase

# how long a client waits for the scheduler before the run gives up (exit 3)
CONNECT_SECONDS = 10
# how often a task asks the scheduler whether the run must stop (not every step)
STOP_POLL_SECONDS = 0.5


def example_database(spec: str | None) -> ExampleDatabase | None:
    """``redis://host:port/db``: a Redis database; a folder otherwise; none for ''. Either
    holds the failures only (``FailureDatabase``)."""
    if not spec:
        return None
    if spec.startswith(("redis://", "rediss://")):
        return FailureDatabase(_redis(spec))
    return FailureDatabase(DirectoryBasedExampleDatabase(spec))


@cache
def _redis(url: str) -> ExampleDatabase:
    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    return RedisExampleDatabase(redis.Redis.from_url(url))


class _PolledEvent:
    """A ``distributed.Event`` read at most every ``STOP_POLL_SECONDS``: the budget asks
    before every step."""

    def __init__(self, name: str) -> None:
        from distributed import Event

        self.event = Event(name)
        self.checked = 0.0
        self.value = False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self.value and now - self.checked >= STOP_POLL_SECONDS:
            self.checked = now
            self.value = self.event.is_set()
        return self.value

    def set(self) -> None:
        self.value = True
        self.event.set()


def task(work, index: int, args, run: str) -> int:
    """One worker as a Dask task (in a worker process, on any machine): ``work`` is the
    campaign's worker function (``fuzz.work``, pickled by name)."""
    from distributed import Queue

    messages = Queue(f"{run}-messages")
    work(index, args, lambda m: messages.put(pickle.dumps(m)), _PolledEvent(f"{run}-stop"))
    return index


class DaskStop:
    """The campaign's stop flag on the scheduler (set by a failure or a signal)."""

    def __init__(self, name: str) -> None:
        from distributed import Event

        self.event = Event(name)

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()


def connect(args):
    """(client, cluster or None) for ``args.scheduler``."""
    from distributed import Client, LocalCluster

    if args.scheduler == "local":
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster), cluster
    return Client(args.scheduler, timeout=CONNECT_SECONDS), None


def run(work, args, handle, ready, stop_holder: list) -> None:
    """Run ``args.workers`` tasks of ``work`` on the cluster; feed their messages to
    ``handle``."""
    from distributed import Queue

    try:
        client, cluster = connect(args)
    except (OSError, TimeoutError, ValueError) as error:  # no scheduler there: exit 3
        handle(("error", -1, f"no Dask scheduler at {args.scheduler}: {error}"))
        return
    try:
        run_id = f"campaign-{uuid.uuid4().hex}"
        messages = Queue(f"{run_id}-messages", client=client)
        stop = DaskStop(f"{run_id}-stop")
        stop_holder.append(stop)
        if args.database and not args.database.startswith(("redis://", "rediss://")):
            args.database = os.path.abspath(args.database)  # the workers' cwd may differ
        futures = [
            client.submit(task, work, i, args, run_id, pure=False, key=f"{run_id}-worker-{i}")
            for i in range(args.workers)
        ]
        ready()
        finished = 0
        while finished < len(futures):
            try:
                message = pickle.loads(messages.get(timeout=0.5))
            except (TimeoutError, queue.Empty):
                crashed = [f for f in futures if f.status == "error"]
                if crashed or (all(f.done() for f in futures) and not messages.qsize()):
                    for future in crashed:
                        handle(("error", -1, f"dask task {future.key}: {future.exception()!r}"))
                    if finished < len(futures) and not crashed:
                        handle(("error", -1, "every task ended without reporting"))
                    break
                handle(("tick", -1))
                continue
            handle(message)
            if message[0] == "failure":
                stop.set()
            finished += message[0] == "done"
        client.gather(futures, errors="skip")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
