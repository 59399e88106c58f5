"""The garbage collector's settings for a long run of differential steps.

A step allocates thousands of short-lived objects (the spec state's copy, the dumps, the
parsed words, the events, a revert's exception) and few reference cycles. CPython's
default young-generation threshold (700 allocations) runs the collector several times a
step, and every older collection walks all the objects the deployment built (artifacts,
codecs, the base state). ``long_run`` puts what exists now out of the collector's sight
(``gc.freeze``: the deployment lives as long as the run) and collects the young
generation every ``YOUNG`` allocations instead: cycles are still collected, later.
"""

import gc

YOUNG = 50_000  # allocations between two young-generation collections (default 700)


def long_run() -> None:
    """Freeze what exists now and collect the young generation less often (the rest of
    the process: a campaign worker's or a benchmark's steps)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, 20, 100)
