from hypothesis import given
from hypothesis import strategies as st

from pyspec import fees, funding
from pyspec.state import Market, Position


def market(index: int) -> Market:
    m = Market(100_000, 50_000, 10_000, 50_000, 5_000, 200, 500, price=2_000_000)
    m.funding_index = index
    return m


def test_clamp():
    assert funding.clamp_funding_rate(7_000, 5_000) == 5_000
    assert funding.clamp_funding_rate(-7_000, 5_000) == -5_000
    assert funding.clamp_funding_rate(-1_234, 5_000) == -1_234


def test_delta_truncates_toward_zero():
    assert funding.compute_funding_delta(3, 1_000_001) == 3  # 3.000003 -> 3
    assert funding.compute_funding_delta(-3, 1_000_001) == -3  # not -4
    assert funding.compute_funding_delta(0, 10**12) == 0


def test_longs_pay_shorts_receive():
    m = market(40)
    assert funding.pending_funding(Position(size=10, funding_checkpoint=0), m) == -400
    assert funding.pending_funding(Position(size=-10, funding_checkpoint=0), m) == 400
    assert funding.pending_funding(Position(size=-10, funding_checkpoint=40), m) == 0


@given(st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=8), st.integers(-(10**9), 10**9))
def test_zero_sum_when_sizes_net_to_zero(sizes, index):
    sizes.append(-sum(sizes))
    m = market(index)
    assert sum(funding.pending_funding(Position(size=s), m) for s in sizes) == 0


def test_fee_rounds_up():
    assert fees.compute_trading_fee(1_000_001, 500) == 501  # 500.0005 -> 501
    assert fees.compute_trading_fee(2_000_000, 500) == 1_000
    assert fees.compute_trading_fee(10**6, 0) == 0
