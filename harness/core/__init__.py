"""The differential core: the spec beside the chain.

``call`` (a call by actor names, its JSON form) → ``genesis`` (actors, configured
deployment, setup calls) → ``spec_step`` (the spec side of one call) → ``dump`` (the
full state as one list) → ``pair`` (deploy; apply one call on both sides and compare) →
``invariants`` and ``branches`` → ``sequence`` (every invariant after every call) →
``actions`` (the action policy over a source of choices) → ``machine`` (hypothesis).
"""
