"""The lean state comparison (``Pair.check_state``): between two full comparisons a step
reads only what its call could have changed, so a change on the chain alone in a field
no call touches passes those steps, and is caught at the next full comparison (every
``full_every`` steps) and at a sequence's end (``CheckedSequence.finish``)."""

import pytest

from harness.core.call import CLOCK, Call
from harness.core.orders import Match
from harness.core.pair import Divergence
from harness.core.sequence import CheckedSequence

DEPOSIT = Call("engine", "deposit", "trader1", (1_000_000,))
# on the chain alone: the spec knows nothing of this transfer
BEHIND_THE_SPECS_BACK = Call("token", "transfer", "trader3", ("trader4", 1))


SAME_RATE = Call("engine", "set_funding_rate", "oracle", (1, 0))


def move_price_behind_the_specs_back(pair) -> None:
    """Market 1's price, a minute later, on the chain alone (after its funding was
    brought to that time, so that the same rate again changes nothing in the spec): only
    the market's own fields differ."""
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


def test_every_market_is_read_at_every_step(embedded_pair):
    """A market's own fields are read whatever the call: a price moved on the chain alone
    shows at the next step, a deposit that names no market (a review: a call writing a
    market it does not name, healed by a later call before the next full comparison,
    went unseen while only named or changed markets were read)."""
    pair = embedded_pair
    pair.reset()
    move_price_behind_the_specs_back(pair)
    with pytest.raises(Divergence) as caught:
        pair.apply(DEPOSIT)
    assert not pair.dump_full
    assert caught.value.field == "markets[1].price"


def open_long(pair) -> None:
    """trader3 long 10 lots of market 1 against trader4, on both sides."""
    for trader in ("trader3", "trader4"):
        assert pair.apply(Call("engine", "deposit", trader, (10_000 * 10**6,))).success
    price = pair.state.markets[1].price
    assert pair.apply(Match("trader3", "trader4", 1, 10, price)).success


def test_an_account_in_an_untouched_market_is_caught_at_the_next_full_comparison(
    embedded_pair,
):
    """An account is read only in the markets its call names or changes: an exit request
    made on the chain alone shows at the next full comparison."""
    pair = embedded_pair
    pair.reset()
    open_long(pair)
    assert pair.send(Call("settlement", "request_exit", "trader3", (1,))).success
    deposit = Call("engine", "deposit", "trader3", (1_000_000,))
    assert pair.apply(deposit).success  # trader3 read, not in market 1
    with pytest.raises(Divergence) as caught:
        for _ in range(pair.full_every):
            pair.apply(deposit)
    assert pair.dump_full
    assert caught.value.field == "settlement.exit_requests(trader3, 1).size"


def test_a_named_market_is_read(embedded_pair):
    """A call that takes a market id reads its accounts in that market, even when the
    spec changes nothing there."""
    pair = embedded_pair
    pair.reset()
    assert pair.apply(Call(CLOCK, "wait", "outsider", (60,))).success
    assert pair.apply(SAME_RATE).success  # funding brought to this time
    read = []
    dump = pair.partial_dump

    def recording(digests, call_ids, accounts, market_ids, getters):
        read.append(market_ids)
        return dump(digests, call_ids, accounts, market_ids, getters)

    pair.partial_dump = recording
    try:
        before = pair.state.markets[1]
        assert pair.apply(SAME_RATE).success
    finally:
        del pair.partial_dump
    assert pair.state.markets[1] == before  # the spec changed nothing in market 1
    assert read == [[1]]


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
