"""The differential state machine: the action policy (``actions``) on a seeded random
source (``explore``, the campaign's default explorer) or on hypothesis draws
(``run_batch``, ``--explorer hypothesis``), each call applied to spec and chain by a
``CheckedSequence``.

One weighted rule chooses the action: hypothesis picks rules uniformly (and switches
some off per example), which starves the waterfall.
"""

import random

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.database import ExampleDatabase
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, rule

from harness.core import actions, branches
from harness.core.pair import Pair
from harness.core.sequence import CheckedSequence

MENU = actions.weighted(actions.ACTION_WEIGHTS)
# With every market pinned to one ADL policy, the policy is never switched.
PINNED_MENU = actions.weighted({k: w for k, w in actions.ACTION_WEIGHTS.items() if k != "govern"})


class ActionMachine(RuleBasedStateMachine):
    """The action policy on hypothesis draws, for a ``world`` and a ``sequence`` that a
    subclass sets up per example: fund the traders (after pinning an ADL policy, when one
    is bound), then one weighted action per step, then the liveness drain. The attacker
    contract's gain over its fair PnL (``attacker``) is measured on every sequence and the
    best one reported; there is no targeted search (``docs/bench.md``, "The default
    explorer": hypothesis's never ran at batches of 10, and where it ran it found less)."""

    adl_policy: int | None = None
    menu = MENU

    @staticmethod
    def bound_fields(stats, adl_policy: int | None) -> dict:
        fields = {"stats": stats or branches.Stats(), "adl_policy": adl_policy}
        if adl_policy is not None:
            fields["menu"] = PINNED_MENU
        return fields

    def run(self, calls) -> None:
        for call in calls:
            self.sequence.call(call)

    @initialize(data=st.data())
    def fund_traders(self, data):
        if self.adl_policy is not None:
            self.run(actions.pin_adl_policy(self.world, self.adl_policy))
        self.run(actions.opening_deposits(self.world, actions.HypothesisChoices(data)))

    @rule(data=st.data())
    def act(self, data):
        """One public call (or two: a withdrawal onto a margin boundary, then the call)."""
        self.run(actions.next_calls(self.world, actions.HypothesisChoices(data), self.menu))

    def end_sequence(self) -> None:
        """The liveness drain and the sequence's statistics; nothing after a failure, or
        when the run was stopped mid-sequence."""
        if self.sequence.failed or self.stats.stopped:
            return
        state = self.world.state
        self.stats.sequence_end(state.insurance_fund, state.insurance_floor)
        self.sequence.finish()

    def teardown(self):
        self.end_sequence()


def run_batch(
    machine_class, seed: int, examples: int, steps: int, database: ExampleDatabase | None
) -> None:
    """Run ``examples`` sequences of up to ``steps`` calls from hypothesis seed ``seed``,
    with ``database`` (the campaign's ``example_database``, which keeps failures only) or
    none."""
    test = get_state_machine_test(
        machine_class,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=database,
            phases=[Phase.reuse, Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,  # the failure note lists the calls; the draws add noise
        ),
    )
    test._hypothesis_internal_use_seed = seed
    test()


def explore(machine_class, seed: int, sequences: int, steps: int) -> None:
    """The same action policy and checks on a seeded ``random.Random`` instead of
    hypothesis's draws (``--explorer random``, the default): ``sequences`` sequences of
    ``steps`` actions. A failure raises with its calls (``failure.calls``) for the
    campaign's own minimizer; there is no targeted search."""
    choose = actions.RandomChoices(random.Random(seed))
    for _ in range(sequences):
        machine = machine_class()
        if machine.adl_policy is not None:
            machine.run(actions.pin_adl_policy(machine.world, machine.adl_policy))
        machine.run(actions.opening_deposits(machine.world, choose))
        for _ in range(steps):
            machine.run(actions.next_calls(machine.world, choose, machine.menu))
        machine.end_sequence()


def replay_calls(machine_class, calls) -> None:
    """One sequence of exactly ``calls`` on ``machine_class`` (a saved failure, replayed
    before any exploring), with every check a drawn sequence gets; a failure raises."""
    machine = machine_class()
    explored = set(machine.stats.fingerprints)
    machine.run(calls)
    machine.end_sequence()
    machine.stats.fingerprints &= explored  # sequences.txt lists explored sequences only


class DifferentialMachine(ActionMachine):
    """Bind ``pair`` and ``stats`` (and optionally an ADL policy every sequence starts by
    setting on every market) with ``bind`` before running."""

    pair: Pair
    stats: branches.Stats

    @classmethod
    def bind(cls, pair: Pair, stats: branches.Stats | None = None, adl_policy: int | None = None):
        return type(cls.__name__, (cls,), {"pair": pair, **cls.bound_fields(stats, adl_policy)})

    def __init__(self):
        super().__init__()
        self.stats.sequences += 1
        self.world = self.pair
        self.sequence = CheckedSequence(self.pair, self.stats)
