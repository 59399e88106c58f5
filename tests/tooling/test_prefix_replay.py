"""The minimizer replays each candidate from the mark after the prefix it shares with the
last one (``trace.PrefixReplay``): the same counterexample as replaying every candidate
from the deployed state, in fewer calls, on both chains, with the state restored exactly
(a full comparison after each restore would see any difference), and every mark spent
at the end: a checkpoint left standing deepens the embedded chain's journal until, past
1,024, every call fails as too deep."""

import pytest

from harness.campaign import trace
from harness.core.call import Call
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.sequence import CheckedSequence


class Planted(CheckedSequence):
    """A sequence with one more invariant: trader0 never holds 2,900 USDC or more beside a
    position in market 0. Counts its calls; compares in full after each."""

    replayed = 0

    def call(self, call):
        type(self).replayed += 1
        outcome = super().call(call)
        self._guard(lambda: self._planted(call))  # reported as a sequence's failures are
        return outcome

    def _planted(self, call):
        self.p.check_full(call)  # a restore that missed a field would show here
        trader0 = self.state.accounts.get(self.p.actors["trader0"])
        if trader0 and trader0.positions.get(0) and trader0.collateral >= 2_900 * USDC:
            raise AssertionError("planted: trader0 at 2,900 USDC with a position")


def noisy_calls() -> list:
    """Deposits by others, waits and trades around the three calls the failure needs."""
    deposit = lambda trader, usdc: Call("engine", "deposit", trader, (usdc * USDC,))  # noqa: E731
    wait = Call("clock", "wait", "outsider", (60,))
    return [
        deposit("trader1", 5_000),
        deposit("trader0", 2_000),
        wait,
        deposit("trader2", 700),
        Match("trader0", "trader1", 0, 100, 10**6),
        deposit("trader3", 900),
        wait,
        deposit("trader2", 300),
        deposit("trader0", 1_000),
        deposit("trader4", 100),
    ]


def journal_depth(pair) -> int | None:
    """The embedded chain's journal depth (each standing checkpoint adds one)."""
    evm = getattr(pair.chain, "_evm", None)
    return evm.journal_depth if evm is not None else None


@pytest.mark.parametrize("chain", ["embedded", "anvil"])
def test_the_prefix_replay_finds_what_a_full_replay_finds(chain, embedded_pair, anvil_pair):
    pair = embedded_pair if chain == "embedded" else anvil_pair
    calls = noisy_calls()
    failure = trace.failure_of(calls, pair, make_sequence=Planted)
    assert failure is not None and "planted" in str(failure)
    target = trace.signature(failure)

    def full(candidate, pair):
        return trace.failure_of(candidate, pair, make_sequence=Planted)

    Planted.replayed = 0
    plain, _, complete = trace.minimize(calls, pair, target, replay=full)
    from_scratch = Planted.replayed
    Planted.replayed = 0
    depth = journal_depth(pair)
    replay = trace.PrefixReplay(pair, Planted)
    prefixed, _, prefixed_complete = trace.minimize(calls, pair, target, replay=replay)
    replay.close()
    assert journal_depth(pair) == depth  # every mark spent: no checkpoint left standing
    assert str(failure).startswith("planted") and failure.step == 9  # trader0's last deposit
    assert complete and prefixed_complete
    assert prefixed == plain
    assert len(plain) == 4  # trader1's deposit, trader0's two and their trade
    assert Planted.replayed < from_scratch, (Planted.replayed, from_scratch)


def test_marks_are_capped_and_a_reset_refuses_while_they_stand(embedded_pair):
    """At most ``MAX_MARKS`` stand at once (a longer candidate replays past them: each is a
    checkpoint the embedded chain's calls nest under), and a reset while any stands is
    refused: it would leave them stale, silently."""
    pair = embedded_pair
    # more calls than the journal's depth allows checkpoints: a mark after each would fail
    deposits = [Call("engine", "deposit", "trader0", (1,)) for _ in range(1_100)]
    replay = trace.PrefixReplay(pair)
    assert replay(deposits) is None  # from scratch, 512 marks standing
    assert len(replay.marks) == trace.MAX_MARKS and len(replay.calls) == trace.MAX_MARKS - 1
    with pytest.raises(RuntimeError, match="marks standing"):
        pair.reset()
    assert replay(deposits[:-1]) is None  # from the last mark
    replay.close()
    pair.reset()
