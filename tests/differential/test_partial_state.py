"""The lean state comparison (``Pair.check_state``): between two full comparisons a step
reads only what its call could have changed, so a change on the chain alone in a field
no call touches passes those steps, and is caught at the next full comparison (every
``full_every`` steps) and at a sequence's end (``CheckedSequence.finish``)."""

import pytest

from harness.core.call import Call
from harness.core.pair import Divergence
from harness.core.sequence import CheckedSequence

DEPOSIT = Call("engine", "deposit", "trader1", (1_000_000,))
# on the chain alone: the spec knows nothing of this transfer
BEHIND_THE_SPECS_BACK = Call("token", "transfer", "trader3", ("trader4", 1))


def test_untouched_field_is_caught_at_the_next_full_comparison(embedded_pair):
    pair = embedded_pair
    pair.reset()
    assert pair.send(BEHIND_THE_SPECS_BACK).success
    for _ in range(pair.full_every - 1):  # partial: trader3 and trader4 are not read
        assert pair.apply(DEPOSIT).success
        assert not pair.dump_full
    with pytest.raises(Divergence) as caught:
        pair.apply(DEPOSIT)
    assert pair.dump_full
    assert (caught.value.kind, caught.value.field) == ("state", "token.balanceOf(trader3)")


def test_untouched_field_is_caught_at_the_sequence_end(embedded_pair):
    pair = embedded_pair
    sequence = CheckedSequence(pair)
    assert pair.send(BEHIND_THE_SPECS_BACK).success
    sequence.call(DEPOSIT)
    with pytest.raises(Divergence) as caught:
        sequence.finish()
    assert caught.value.field == "token.balanceOf(trader3)"


def test_a_touched_field_is_caught_at_once(embedded_pair):
    """A call naming trader3 reads trader3 on that very step."""
    pair = embedded_pair
    pair.reset()
    assert pair.send(BEHIND_THE_SPECS_BACK).success
    with pytest.raises(Divergence) as caught:
        pair.apply(Call("engine", "deposit", "trader3", (1_000_000,)))
    assert not pair.dump_full
    assert caught.value.field == "token.balanceOf(trader3)"
