"""Campaigns on top of the core: ``fuzz`` (``make fuzz``: workers, progress, reports),
``trace`` (counterexamples saved, minimized, replayed and exported as regression tests)
and ``mutate`` (``make mutate``: short campaigns against one-token mutants)."""
