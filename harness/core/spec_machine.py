"""The spec-only machine: the same action policy and the same properties, no chain.

It checks the spec against its own oracle (``properties``, the state invariants on the
spec's dump, conservation, zero-sum funding, the liveness drain) many times faster than
the differential machine, so campaigns can hunt for economic flaws that spec and
contracts would share.
"""

from __future__ import annotations

import copy

from harness.core import branches, dump, invariants, liveness, rare, readable
from harness.core.attacker import GainMeter
from harness.core.call import VIEWS, Call
from harness.core.genesis import ATTACKER
from harness.core.machine import ActionMachine
from harness.core.orders import Match
from harness.core.readable import describe
from harness.core.sequence import branches_taken, check_properties, drain_step, liquidate_step
from harness.core.spec_step import spec_apply, steps_of
from pyspec.state import State


class SpecWorld:
    """A spec state with the pair's actors (an ``actions.World``), starting post-setup."""

    def __init__(self, state: State, actors: dict[str, str], traders: list[str], accounts):
        self.state, self.actors, self.traders, self.accounts = state, actors, traders, accounts
        self.residents: list[str] = []


class SpecSequence:
    """``CheckedSequence`` without a chain: the spec's state invariants and properties."""

    def __init__(self, world: SpecWorld, stats: branches.Stats):
        self.world, self.stats = world, stats
        self.names = {address: name for name, address in world.actors.items()}
        self.history: list[Call] = []
        self.funding_settled: dict[int, int] = {}
        self.failed = False
        self.conserved = self._total()
        self.gain = GainMeter(world.actors[ATTACKER])

    def _total(self) -> int:
        parsed = dump.parse(
            dump.spec_dump(self.world.state, self.world.accounts), len(self.world.accounts)
        )
        total = invariants.check_state(parsed, "spec")
        invariants.check_funding_zero_sum(parsed, self.funding_settled, "spec")
        return total

    def call(self, call: Call | Match) -> None:
        self.stats.before_step()
        if isinstance(call, Match):  # signed now, in the state it runs in
            call = call.call(self.world.state, self.world.actors)
        self.history.append(call)
        if call.target == VIEWS:
            return
        try:
            before = self.world.state.copy()
            self.world.state, reason, events = spec_apply(
                self.world.state, self.world.actors, call, before
            )
            steps = []
            if reason is None:
                self.conserved += invariants.external_flow(events)
                invariants.settled_funding(events, self.funding_settled)
                steps = steps_of(self.world.actors, call, before, self.world.state, events)
                check_properties(self.world.actors, steps)
                self.gain.step(before, self.world.state, events, len(self.history))
            invariants.check(
                "conservation", self._total() == self.conserved, "equity + fund - bad debt moved"
            )
        except AssertionError as failure:
            self._failed(failure, len(self.history))  # the failing call (``trace.identity``)
            raise
        self.stats.record(
            call,
            reason is None,
            reason,
            branches_taken(steps),
            events,
            self.world.state.insurance_fund,
        )
        self.stats.record_rare(
            rare.observe(self.world.actors, call, before, self.world.state, reason, events)
        )

    def _failed(self, failure: AssertionError, step: int) -> None:
        """Report ``failure`` at ``step`` as ``CheckedSequence`` does: with its calls,
        actors by name."""
        self.failed = True
        readable.name_actors(failure, self.names)
        failure.calls = list(self.history)
        failure.step = step
        failure.add_note(
            "call sequence (after setup):\n"
            + "\n".join(f"  {i:3d}. {describe(c)}" for i, c in enumerate(self.history, 1))
        )
        self.stats.failed(failure)

    def mark(self) -> tuple:
        """A point after the calls so far to replay other calls from (``restore``)."""
        books = (self.conserved, dict(self.funding_settled), copy.copy(self.gain))
        return self.world.state.copy(), len(self.history), books

    def release(self, mark: tuple) -> None:
        """Nothing to spend: the spec's marks are copies."""

    def restore(self, mark: tuple) -> None:
        state, calls, (self.conserved, funding, gain) = mark
        self.world.state = state.copy()
        del self.history[calls:]
        self.funding_settled, self.gain, self.failed = dict(funding), copy.copy(gain), False

    def finish(self) -> None:
        try:
            liveness.check_liveness(self.world.state, drain_step, liquidate_step)
        except AssertionError as failure:
            # with its calls (without them, an empty counterexample), at the sequence's end
            self._failed(failure, len(self.history) + 1)
            raise
        gain = self.gain
        self.stats.record_gain(gain.best, self.history[: gain.best_at], gain.best_parts)
        self.stats.record_sequence(self.history)


class SpecMachine(ActionMachine):
    """Bind a deployed pair (for its post-setup spec state and actors) with ``bind``."""

    base: SpecWorld
    stats: branches.Stats

    @classmethod
    def bind(cls, pair, stats: branches.Stats | None = None, adl_policy: int | None = None):
        pair.reset()
        base = SpecWorld(pair.state.copy(), pair.actors, pair.traders, pair.accounts)
        return type(cls.__name__, (cls,), {"base": base, **cls.bound_fields(stats, adl_policy)})

    def __init__(self):
        super().__init__()
        self.stats.sequences += 1
        b = self.base
        self.world = SpecWorld(b.state.copy(), b.actors, b.traders, b.accounts)
        self.sequence = SpecSequence(self.world, self.stats)


def spec_sequence(pair, stats: branches.Stats | None = None) -> SpecSequence:
    """A spec-only sequence from ``pair``'s post-setup state (for replaying a spec-only
    failure: ``trace.failure_of(calls, pair, spec_sequence)``), counting into ``stats``."""
    pair.reset()
    world = SpecWorld(pair.state.copy(), pair.actors, pair.traders, pair.accounts)
    return SpecSequence(world, stats or branches.Stats())
