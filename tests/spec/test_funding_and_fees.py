from hypothesis import given
from hypothesis import strategies as st

from pyspec import fees, funding
from pyspec.constants import FUNDING_INDEX_SCALE
from pyspec.state import Market, Position


def market(index: int) -> Market:
    m = Market(100_000, 50_000, 10_000, 50_000, 5_000, 200, 500, 0, 3_600, price=2_000_000)
    m.funding_index = index
    return m


def test_clamp():
    assert funding.clamp_funding_rate(7_000, 5_000) == 5_000
    assert funding.clamp_funding_rate(-7_000, 5_000) == -5_000
    assert funding.clamp_funding_rate(-1_234, 5_000) == -1_234


def test_delta_is_exact_at_any_price():
    # W9: at 1 unit per lot a 0.3% rate still moves the (scaled) index
    assert funding.compute_funding_delta(3_000, 1) == 3_000 * FUNDING_INDEX_SCALE // 10**6
    assert funding.compute_funding_delta(-3, 1_000_001) == -3 * 1_000_001 * 10**6
    assert funding.compute_funding_delta(0, 10**12) == 0


def test_longs_pay_shorts_receive():
    m = market(40 * FUNDING_INDEX_SCALE)
    assert funding.pending_funding(Position(size=10, funding_checkpoint=0), m) == -400
    assert funding.pending_funding(Position(size=-10, funding_checkpoint=0), m) == 400
    assert funding.pending_funding(Position(size=-10, funding_checkpoint=m.funding_index), m) == 0


def test_payments_round_toward_the_protocol():
    m = market(FUNDING_INDEX_SCALE // 3)  # a third of a unit per lot
    assert funding.pending_funding(Position(size=1), m) == -1  # the payer pays the ceiling
    assert funding.pending_funding(Position(size=-1), m) == 0  # the receiver gets the floor


@given(
    st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=8), st.integers(-(10**15), 10**15)
)
def test_rounding_keeps_less_than_a_unit_per_position(sizes, index):
    sizes.append(-sum(sizes))
    m = market(index)
    paid = sum(funding.pending_funding(Position(size=s), m) for s in sizes)
    assert -len(sizes) < paid <= 0  # what accounts get never exceeds what they owe


def test_fee_rounds_up():
    assert fees.compute_trading_fee(1_000_001, 500) == 501  # 500.0005 -> 501
    assert fees.compute_trading_fee(2_000_000, 500) == 1_000
    assert fees.compute_trading_fee(10**6, 0) == 0
