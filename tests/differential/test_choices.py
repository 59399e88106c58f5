"""``HypothesisChoices`` draws each decision straight from hypothesis's ``ConjectureData``:
over the same choices it must make the decisions the strategies made, or a failure saved
by one campaign would replay as other calls in the next."""

import random

from hypothesis import strategies as st
from hypothesis.control import BuildContext
from hypothesis.internal.conjecture.data import ConjectureData
from hypothesis.strategies._internal.core import DataObject

from harness.core import actions
from harness.core.call import VIEWS
from harness.core.machine import MENU
from harness.core.orders import Match
from harness.core.spec_machine import SpecWorld
from harness.core.spec_step import spec_apply


class StrategyChoices:
    """The decisions through the strategy layer, as ``HypothesisChoices`` drew them before."""

    def __init__(self, data) -> None:
        self.data = data

    def pick(self, options):
        return self.data.draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def chance(self, k: int, n: int) -> bool:
        return self.data.draw(st.integers(0, n - 1)) < k


def run_policy(pair, data, choices_class, steps: int) -> list:
    """The action policy's calls for ``steps`` actions on the post-setup spec state (each
    call applied to the spec, so later actions see its effects)."""
    pair.reset()
    world = SpecWorld(pair.state.copy(), pair.actors, pair.traders, pair.accounts)
    choose = choices_class(DataObject(data))
    made = []
    context = BuildContext(data, wrapped_test=run_policy)  # the strategies' notes need one

    def apply(calls) -> None:
        for call in calls:
            if isinstance(call, Match):
                call = call.call(world.state, world.actors)
            made.append(call)
            if call.target != VIEWS:
                world.state = spec_apply(world.state.copy(), world.actors, call)[0]

    with context:
        apply(actions.opening_deposits(world, choose))
        for _ in range(steps):
            apply(actions.next_calls(world, choose, MENU))
    return made


def test_direct_draws_are_the_strategies_choices(embedded_pair):
    """Ten sequences of 60 actions drawn through the strategies, then replayed from their
    choices through ``HypothesisChoices``: the same calls, and the same choices consumed
    (with the strategies' own weights, a bounded integer's choice replayed into another
    weighting would still parse, so the calls are what tells)."""
    for seed in range(10):
        drawn = ConjectureData(random=random.Random(seed))
        expected = run_policy(embedded_pair, drawn, StrategyChoices, 60)
        replayed = ConjectureData.for_choices(drawn.choices)
        assert run_policy(embedded_pair, replayed, actions.HypothesisChoices, 60) == expected
        assert replayed.choices == drawn.choices


def test_fresh_draws_follow_the_strategies_distribution(embedded_pair):
    """From the same random source, fresh draws (not a replay) make the same calls: the
    weights on the bounds and the single-option shortcut are the strategies' own."""
    for seed in range(10):
        expected = run_policy(
            embedded_pair, ConjectureData(random=random.Random(seed)), StrategyChoices, 60
        )
        fresh = ConjectureData(random=random.Random(seed))
        assert run_policy(embedded_pair, fresh, actions.HypothesisChoices, 60) == expected


def test_each_option_list_labels_its_own_spans():
    """One label per option list, as hypothesis gives each ``st.sampled_from`` (its
    shrinker matches spans by label; a first version gave every pick one label)."""
    data = ConjectureData(random=random.Random(3))
    choose = actions.HypothesisChoices(DataObject(data))
    choose.pick(("a", "b"))
    choose.pick(("c", "d", "e"))
    choose.pick(("a", "b"))
    choose.integer(0, 1_000)
    data.freeze()
    labels = [span.label for span in data.spans if span.depth == 1]
    assert labels[0] == labels[2] != labels[1]
    assert labels[3] == st.integers(0, 1_000).wrapped_strategy.label != labels[0]
