"""Where the action policy's decisions come from (``harness.core.actions``).

``HypothesisChoices`` draws from hypothesis (the state machine: failures shrink);
``RandomChoices`` from a seeded ``random.Random`` (the bench workload, the seeded random
vectors).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from hypothesis import strategies as st

from pyspec.state import State

T = TypeVar("T")


class Choices(Protocol):
    """Where every decision comes from."""

    def pick(self, options: Sequence[T]) -> T:
        """One of ``options`` (not empty)."""

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""

    def chance(self, k: int, n: int) -> bool:
        """True k times in n."""


class HypothesisChoices:
    """Decisions drawn from hypothesis ``data``: they shrink toward the first option, the
    lower integer bound and True."""

    def __init__(self, data) -> None:
        self.data = data

    def pick(self, options):
        return self.data.draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def chance(self, k: int, n: int) -> bool:
        return self.data.draw(st.integers(0, n - 1)) < k


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
