"""The campaign's example database: hypothesis's failures shared, the targeted search's
front kept by the worker (``FailureDatabase``)."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis.database import ExampleDatabase

# the targeted search's front a worker keeps between its batches, most recent first
FRONT_KEPT = 256


class FailureDatabase(ExampleDatabase):
    """Hypothesis's failures (its primary and secondary corpora) in ``shared``; the Pareto
    front of ``target()`` (the ``.pareto`` key) in memory, its FRONT_KEPT latest entries.

    Why: each batch is a new hypothesis run, which reads the whole front saved under the
    key to replay two of its entries, and the front only grows (a run evicts only what it
    found itself). In a folder used for a few days it held 78,827 files (311 MB), reading
    them took about 30% of a campaign, and the two replays per batch were other runs'
    sequences, so a rerun of a seed was neither fresh nor the same run again."""

    def __init__(self, shared: ExampleDatabase) -> None:
        super().__init__()
        self.shared = shared
        self.fronts: dict[bytes, dict[bytes, None]] = {}

    def __repr__(self) -> str:
        return f"FailureDatabase({self.shared!r})"

    def save(self, key: bytes, value: bytes) -> None:
        if not key.endswith(b".pareto"):
            self.shared.save(key, value)
            return
        front = self.fronts.setdefault(key, {})
        front.pop(value, None)
        front[value] = None
        if len(front) > FRONT_KEPT:
            del front[next(iter(front))]

    def fetch(self, key: bytes) -> Iterable[bytes]:
        if key.endswith(b".pareto"):
            return list(reversed(self.fronts.get(key, {})))
        return self.shared.fetch(key)

    def delete(self, key: bytes, value: bytes) -> None:
        if key.endswith(b".pareto"):
            self.fronts.get(key, {}).pop(value, None)
        else:
            self.shared.delete(key, value)
