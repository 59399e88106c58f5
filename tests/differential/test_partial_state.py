"""The lean state comparison (``Pair.check_state``): between two full comparisons a step
reads only what its call could have changed, so a change on the chain alone in a field
no call touches passes those steps, and is caught at the next full comparison (every
``full_every`` steps) and at a sequence's end (``CheckedSequence.finish``)."""

import pytest

from harness.core.call import CLOCK, Call
from harness.core.pair import Divergence
from harness.core.sequence import CheckedSequence

DEPOSIT = Call("engine", "deposit", "trader1", (1_000_000,))
# on the chain alone: the spec knows nothing of this transfer
BEHIND_THE_SPECS_BACK = Call("token", "transfer", "trader3", ("trader4", 1))


SAME_RATE = Call("engine", "set_funding_rate", "oracle", (1, 0))


def move_price_behind_the_specs_back(pair) -> None:
    """Market 1's price, a minute later, on the chain alone (after its funding was
    brought to that time, so that the same rate again changes nothing in the spec)."""
    assert pair.apply(Call(CLOCK, "wait", "outsider", (60,))).success
    assert pair.apply(SAME_RATE).success
    price = pair.state.markets[1].price + 1
    assert pair.send(Call("engine", "update_price", "oracle", (1, price, pair.clock))).success


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


def test_an_untouched_market_is_caught_at_the_next_full_comparison(embedded_pair):
    """A call that names no market and changes none reads no market's fields: a price
    moved on the chain alone shows at the next full comparison."""
    pair = embedded_pair
    pair.reset()
    move_price_behind_the_specs_back(pair)
    for _ in range(pair.full_every - 3):
        assert pair.apply(DEPOSIT).success
    with pytest.raises(Divergence) as caught:
        pair.apply(DEPOSIT)
    assert caught.value.field == "markets[1].price"


def test_a_named_market_is_read_at_once(embedded_pair):
    """A call that takes a market id reads that market on that very step, even when it
    changes nothing there in the spec."""
    pair = embedded_pair
    pair.reset()
    move_price_behind_the_specs_back(pair)
    before = pair.state.markets[1]
    with pytest.raises(Divergence) as caught:
        pair.apply(SAME_RATE)
    assert pair.state.markets[1] == before  # the spec changed nothing in market 1
    assert not pair.dump_full
    assert caught.value.field == "markets[1].price"


def test_a_reverted_call_reads_nothing_the_spec_did_not_change(embedded_pair):
    """A reverted call changed nothing on the chain (the EVM undid it) and the spec
    rolled back: the step reads nothing, and a change made behind the spec's back is
    caught at the next full comparison."""
    pair = embedded_pair
    pair.reset()
    assert pair.send(BEHIND_THE_SPECS_BACK).success
    refused = Call("engine", "withdraw", "trader3", (10**30,))  # more than it holds
    for _ in range(pair.full_every - 1):
        assert not pair.apply(refused).success
    with pytest.raises(Divergence) as caught:
        pair.apply(refused)
    assert pair.dump_full
    assert caught.value.field == "token.balanceOf(trader3)"
