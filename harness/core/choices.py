"""Where the action policy's decisions come from (``harness.core.actions``).

``HypothesisChoices`` draws from hypothesis (the state machine: failures shrink);
``RandomChoices`` from a seeded ``random.Random`` (the bench workload, the seeded random
vectors).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from hypothesis.internal.conjecture.utils import calc_label_from_name, combine_labels
from hypothesis.strategies._internal.numbers import IntegersStrategy
from hypothesis.strategies._internal.strategies import SampledFromStrategy

from pyspec.state import State

T = TypeVar("T")
INTEGERS = IntegersStrategy(0, 1).label  # a class label, as every st.integers span has
SAMPLED_FROM = SampledFromStrategy((0, 1)).class_label
_LABELS: dict[tuple, int] = {}
LABELS_KEPT = 4_096  # a spec campaign met 1,469 option lists in 69,476 steps


class Choices(Protocol):
    """Where every decision comes from."""

    def pick(self, options: Sequence[T]) -> T:
        """One of ``options``: an ordered sequence, not empty."""

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""

    def chance(self, k: int, n: int) -> bool:
        """True k times in n."""


class HypothesisChoices:
    """Decisions drawn from hypothesis ``data``: they shrink toward the first option, the
    lower integer bound and True.

    Each decision is one integer choice drawn straight from the test's ``ConjectureData``
    with the constraints ``st.sampled_from`` and ``st.integers`` give it (the bounds and
    near-bounds weighted as ``st.integers`` weights them, no choice for a single option),
    so the choice sequence is theirs: a saved failure replays the same calls. Each draw
    has its span, labelled as hypothesis labels those strategies' spans (one label per
    option list: here from its repr, there from its hash), which its shrinker reads.
    Skipping the strategy layer (its validation, notes and random-module guard per
    draw) made the hypothesis explorer about 40% faster (``docs/bench.md``, "The default
    explorer")."""

    def __init__(self, data) -> None:
        self.data = data.conjecture_data

    def pick(self, options):
        if not options:
            raise ValueError("pick: no options")
        self.data.start_span(_label(options))
        try:
            if len(options) == 1:  # st.sampled_from of one option is st.just: no choice
                return options[0]
            return options[self.data.draw_integer(0, len(options) - 1)]
        finally:
            self.data.stop_span()

    def integer(self, low: int, high: int) -> int:
        if low > high:
            raise ValueError(f"integer: {low} > {high}")
        weights = None
        if high - low > 127:  # as st.integers: the bounds and near-bounds likelier
            weights = {low: 2 / 128, low + 1: 1 / 128, high - 1: 1 / 128, high: 2 / 128}
        self.data.start_span(INTEGERS)
        try:
            return self.data.draw_integer(low, high, weights=weights)
        finally:
            self.data.stop_span()

    def chance(self, k: int, n: int) -> bool:
        return self.integer(0, n - 1) < k


def _label(options) -> int:
    """A span label for drawing from ``options``: one per option list, remembered."""
    key = tuple(options)
    label = _LABELS.get(key)
    if label is None:
        if len(_LABELS) >= LABELS_KEPT:  # lists built from the state (sizes, holders)
            _LABELS.clear()
        label = _LABELS[key] = combine_labels(SAMPLED_FROM, calc_label_from_name(repr(key)))
    return label


class RandomChoices:
    """Decisions from a seeded ``random.Random``: deterministic for a seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options):
        return self.rng.choice(options)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, k: int, n: int) -> bool:
        return self.rng.randrange(n) < k


class World(Protocol):
    """What an action reads: the current spec state and who is who."""

    state: State
    actors: dict[str, str]
    traders: list[str]
    # A deployed instance's own users (an audit's fork, impersonated): the harness holds
    # no key of theirs, so they never sign orders; they are liquidated and deleveraged,
    # and they withdraw, ask to exit and deleverage others (``actions.resident``).
    residents: list[str]


def mostly(choose: Choices, valid: Callable[[], T], invalid: Callable[[], T]) -> T:
    """``valid()`` nine times in ten, ``invalid()`` otherwise."""
    return valid() if choose.chance(9, 10) else invalid()
