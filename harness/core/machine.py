"""The differential state machine: the action policy (``actions``) on hypothesis draws,
each call applied to spec and chain by a ``CheckedSequence``.

One weighted rule chooses the action: hypothesis picks rules uniformly (and switches
some off per example), which starves the waterfall.
"""

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from harness.core import actions, branches
from harness.core.pair import Pair
from harness.core.sequence import CheckedSequence

MENU = actions.weighted(actions.ACTION_WEIGHTS)


class DifferentialMachine(RuleBasedStateMachine):
    """Bind ``pair`` and ``stats`` with ``bind`` before running."""

    pair: Pair
    stats: branches.Stats

    @classmethod
    def bind(cls, pair: Pair, stats: branches.Stats | None = None):
        return type(cls.__name__, (cls,), {"pair": pair, "stats": stats or branches.Stats()})

    def __init__(self):
        super().__init__()
        self.stats.sequences += 1
        self.sequence = CheckedSequence(self.pair, self.stats)

    def run(self, calls) -> None:
        for call in calls:
            self.sequence.call(call)

    @initialize(data=st.data())
    def fund_traders(self, data):
        self.run(actions.opening_deposits(self.pair, actions.HypothesisChoices(data)))

    def teardown(self):
        """End of the sequence: the liveness drain (skipped after a failure)."""
        if not self.sequence.failed:
            self.sequence.finish()

    @rule(data=st.data())
    def act(self, data):
        """One public call (or two: a withdrawal onto a margin boundary, then the call)."""
        self.run(actions.next_calls(self.pair, actions.HypothesisChoices(data), MENU))
