"""The campaign's example database: hypothesis's failures only (``FailureDatabase``)."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis.database import ExampleDatabase

FRONT = b".pareto"  # the key suffix of the Pareto front that ``target()`` observations feed


class FailureDatabase(ExampleDatabase):
    """Hypothesis's failures (its primary and secondary corpora) in ``shared``; its Pareto
    front is not kept.

    Why: each batch is a new hypothesis run, whose reuse phase read the whole front saved
    under the key to replay two of its entries, and the front only grew (a run evicts only
    what it found itself). In a folder used for a few days it held 78,827 files (311 MB);
    reading them took about 30% of a campaign, and the two replays per batch were other
    runs' sequences, so a rerun of a seed was neither fresh nor the same run again. Kept in
    the worker's memory instead, the front made two of every ten or so sequences reruns of
    the worker's own sequences that had passed: the targeted search that would mutate them
    (hypothesis's ``Phase.target``) never runs at the campaign's batches of 10, since a run
    ends at its tenth example before the search's first pass is due (``docs/bench.md``)."""

    def __init__(self, shared: ExampleDatabase) -> None:
        super().__init__()
        self.shared = shared

    def __repr__(self) -> str:
        return f"FailureDatabase({self.shared!r})"

    def save(self, key: bytes, value: bytes) -> None:
        if not key.endswith(FRONT):
            self.shared.save(key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return () if key.endswith(FRONT) else self.shared.fetch(key)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        if src.endswith(FRONT) or dest.endswith(FRONT):
            super().move(src, dest, value)  # a delete and a save, each kept or dropped
        else:
            self.shared.move(src, dest, value)  # the folder's rename, Redis's one step

    def delete(self, key: bytes, value: bytes) -> None:
        if not key.endswith(FRONT):
            self.shared.delete(key, value)
