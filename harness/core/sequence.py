"""One call sequence on a deployed pair, every invariant checked after every call.

The state machine, trace replay and counterexample minimization all step through a
``CheckedSequence``, so a saved trace is checked exactly as the campaign checked it.
"""

import copy

from harness.core import branches, dump, invariants, liveness, properties, rare, readable
from harness.core.attacker import GainMeter
from harness.core.call import CLOCK, VIEWS, Call
from harness.core.genesis import ATTACKER
from harness.core.orders import Match
from harness.core.pair import Outcome, Pair
from harness.core.readable import describe
from harness.core.spec_step import resolve, spec_apply, steps_of


class CheckedSequence:
    """Starts from the deployed state (``pair.reset()``); ``call`` runs one call."""

    def __init__(self, pair: Pair, stats: branches.Stats | None = None):
        pair.reset()
        self.p = pair
        self.stats = stats or branches.Stats()
        self.history: list[Call] = []
        self.conserved = self._totals()[0]
        self.funding_settled: dict[int, int] = {}  # market id -> funding settled so far
        self.failed = False
        self.gain = GainMeter(pair.actors[ATTACKER])

    @property
    def state(self):
        return self.p.state

    def call(self, call: Call | Match) -> Outcome | None:
        """Apply ``call`` to both sides and check every invariant; count what it did. A
        ``Match`` is signed first, in the current state."""
        self.stats.before_step()
        if isinstance(call, Match):
            call = call.call(self.state, self.p.actors)
        self.history.append(call)
        if call.target == VIEWS:
            self._guard(lambda: self.p.check_views(list(call.args), self.stats.view_reverts))
            self.stats.views += 1
            return None
        # a wait moves only the clock (``spec_apply``): the state before shares the rest
        before = copy.copy(self.state) if call.target == CLOCK else self.state.copy()
        outcome, steps = self._guard(lambda: self._apply(call, before))
        self.stats.record(
            call, outcome.success, outcome.reason, branches_taken(steps), outcome.events,
            self.state.insurance_fund,
        )  # fmt: skip
        self.stats.record_rare(
            rare.observe(self.p.actors, call, before, self.state, outcome.reason, outcome.events)
        )
        return outcome

    def _guard(self, step, at_end: bool = False):
        try:
            return step()
        except AssertionError as failure:
            self.failed = True
            readable.name_actors(failure, self.p.names)
            failure.calls = list(self.history)
            # the failing call's 1-based index; one past the last call at the end of the
            # sequence (``trace.identity``)
            failure.step = len(self.history) + at_end
            failure.add_note(self.describe_history())
            self.stats.failed(failure)
            raise

    def _apply(self, call: Call, before) -> tuple[Outcome, list]:
        outcome = self.p.apply(call, before)
        if not outcome.success and not self.p.dump_full:
            # a rejected call changes nothing (the spec keeps its copy of the state before,
            # which these invariants held, and the chain's equals it): nothing to check again
            return outcome, []
        steps = []
        if outcome.success:
            self.conserved += invariants.external_flow(outcome.events)
            invariants.settled_funding(outcome.events, self.funding_settled)
            steps = steps_of(self.p.actors, call, before, self.state, outcome.events)
            check_properties(self.p.actors, steps)
            self.gain.step(before, self.state, outcome.events, len(self.history))
        spec_total, chain_total = self._totals()
        invariants.check(
            "conservation",
            spec_total == chain_total == self.conserved,
            lambda: (
                f"conservation: spec {spec_total}, chain {chain_total}, expected {self.conserved}"
            ),
        )
        return outcome, steps

    def mark(self) -> tuple:
        """A point after the calls so far to replay other calls from (``restore``)."""
        books = (self.conserved, dict(self.funding_settled), copy.copy(self.gain))
        return self.p.mark(), len(self.history), books

    def release(self, mark: tuple) -> None:
        self.p.release(mark[0])

    def restore(self, mark: tuple) -> None:
        pair_mark, calls, (self.conserved, funding, gain) = mark
        self.p.restore(pair_mark)
        del self.history[calls:]
        self.funding_settled, self.gain, self.failed = dict(funding), copy.copy(gain), False

    def finish(self) -> None:
        """End of the sequence: the full state comparison, then the liveness drain, on a
        copy of the spec state."""
        last = self.history[-1] if self.history else None
        self._guard(lambda: self.p.check_full(last), at_end=True)
        self._guard(
            lambda: liveness.check_liveness(self.state, drain_step, liquidate_step), at_end=True
        )
        gain = self.gain
        self.stats.record_gain(gain.best, self.history[: gain.best_at], gain.best_parts)
        self.stats.record_sequence(self.history)

    def _totals(self) -> tuple[int, int]:
        """Check the state invariants on both sides; return both conserved totals. The
        chain's are checked on its full dump, when the last comparison read it whole (in
        between, its state read equals the spec's: the same checks would see the same, so
        they run once)."""
        spec_total = self._check(self.p.spec_parsed(), "spec")
        if not self.p.dump_full:
            return spec_total, spec_total
        return spec_total, self._check(dump.parse(self.p.last_dump, len(self.p.accounts)), "chain")

    def _check(self, parsed: dict, side: str) -> int:
        total = invariants.check_state(parsed, side)
        if hasattr(self, "funding_settled"):
            invariants.check_funding_zero_sum(parsed, self.funding_settled, side)
        return total

    def describe_history(self) -> str:
        """Return the calls of this sequence, numbered, as a failure report shows them."""
        lines = [f"  {i:3d}. {describe(c)}" for i, c in enumerate(self.history, 1)]
        return "call sequence (after setup):\n" + "\n".join(lines)


def check_properties(actors: dict, steps: list) -> None:
    """The per-call properties of each call in ``steps`` (``spec_step.steps_of``)."""
    for call, before, after, events in steps:
        properties.check_call(
            call.fn,
            resolve(actors, call.args),
            before,
            after,
            events,
            actors.get(call.sender, call.sender),
        )


def branches_taken(steps: list) -> list[str]:
    """The waterfall branches the calls in ``steps`` took."""
    return [branch for _, before, _, events in steps for branch in branches.taken(before, events)]


def liquidate_step(state, liquidator: str, address: str, market_id: int):
    """One permissionless ``liquidate`` of the whole of ``address``'s position in
    ``market_id`` by ``liquidator`` on the spec; return (state, revert reason)."""
    actors = {"liquidator": liquidator, "target": address}
    call = Call("engine", "liquidate", "liquidator", ("target", market_id, 2**128))
    state, reason, _ = spec_apply(state, actors, call)
    return state, reason


def drain_step(state, address: str):
    """One permissionless ``deleverage`` of ``address`` on the spec (the keeper is the
    owner: anyone may call); return (state, revert reason)."""
    actors = {"keeper": state.timelock.owner, "target": address}
    state, reason, _ = spec_apply(
        state, actors, Call("engine", "deleverage", "keeper", ("target",))
    )
    return state, reason
