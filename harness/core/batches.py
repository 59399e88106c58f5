"""How a campaign splits its sequences into batches: the batch size and each batch's
seed (``explore`` and ``run_batch`` in ``harness.core.machine``)."""

import hashlib

BATCH = 10  # sequences per batch, one seed each (the campaign's --batch)


def batch_seed(seed: int, worker: int, batch: int) -> int:
    """The seed of ``worker``'s batch ``batch`` in the run seeded ``seed``: a
    hash, so no two (run, worker, batch) share a seed or a shifted one (seed s+1's first
    batch is not seed s's second)."""
    digest = hashlib.sha256(f"perp-spec campaign {seed} {worker} {batch}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
