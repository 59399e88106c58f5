from hypothesis import given
from hypothesis import strategies as st

from pyspec import fees, funding, margin
from pyspec.constants import FUNDING_INDEX_SCALE
from pyspec.state import Market, Position


def market(**fields) -> Market:
    return Market(100_000, 50_000, 10_000, 50_000, 5_000, 200, 500, 0, 3_600, 0, **fields)


def test_clamp():
    assert funding.clamp_funding_rate(7_000, 5_000) == 5_000
    assert funding.clamp_funding_rate(-7_000, 5_000) == -5_000
    assert funding.clamp_funding_rate(-1_234, 5_000) == -1_234


def test_delta_is_exact_at_any_price():
    # W9: at 1 unit per lot one second at the smallest rate still moves the (scaled) index
    assert funding.compute_funding_delta(1, 1, 1) == 1
    assert funding.compute_funding_delta(-3, 60, 1_000_001) == -3 * 60 * 1_000_001
    assert funding.compute_funding_delta(0, 3_600, 10**12) == 0
    assert funding.compute_funding_delta(10**9, 0, 10**12) == 0  # no time, no funding


def test_current_index_accrues_rate_times_elapsed_times_price():
    m = market(price=2_000_000, funding_index=5, funding_rate=-7, funding_timestamp=100)
    assert margin.current_funding_index(m, 100) == 5
    assert margin.current_funding_index(m, 160) == 5 - 7 * 60 * 2_000_000


def test_longs_pay_shorts_receive():
    index = 40 * FUNDING_INDEX_SCALE
    assert funding.pending_funding(Position(size=10, funding_checkpoint=0), index) == -400
    assert funding.pending_funding(Position(size=-10, funding_checkpoint=0), index) == 400
    assert funding.pending_funding(Position(size=-10, funding_checkpoint=index), index) == 0


def test_payments_round_toward_the_protocol():
    index = FUNDING_INDEX_SCALE // 3  # a third of a unit per lot
    assert funding.pending_funding(Position(size=1), index) == -1  # the payer pays the ceiling
    assert funding.pending_funding(Position(size=-1), index) == 0  # the receiver gets the floor


@given(
    st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=8), st.integers(-(10**15), 10**15)
)
def test_rounding_keeps_less_than_a_unit_per_position(sizes, index):
    sizes.append(-sum(sizes))
    paid = sum(funding.pending_funding(Position(size=s), index) for s in sizes)
    assert -len(sizes) < paid <= 0  # what accounts get never exceeds what they owe


def test_fee_rounds_up():
    assert fees.compute_trading_fee(1_000_001, 500) == 501  # 500.0005 -> 501
    assert fees.compute_trading_fee(2_000_000, 500) == 1_000
    assert fees.compute_trading_fee(10**6, 0) == 0
