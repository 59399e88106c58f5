"""Figures: ``bench`` (``make bench``: differential steps/s on each backend, with
``ape_baseline`` as the ape-idiom reference), ``bench_chains`` (raw backend speed) and
``gas`` (``make gas``: gas of every call on anvil)."""
