"""The pure compute_* functions of the waterfall, against their stated formulas."""

from fractions import Fraction
from math import ceil, floor

from hypothesis import assume, given
from hypothesis import strategies as st

from pyspec import adl_allocator, liquidation
from pyspec.adl_allocator import Holder
from pyspec.constants import LIQUIDATION_DUST_NOTIONAL, MIN_LIQUIDATION_REWARD, RATIO_PRECISION
from pyspec.margin import compute_margin_requirement


@given(
    equity=st.integers(-(10**12), 10**12),
    abs_size=st.integers(1, 10**7),
    price=st.integers(1, 10**8),
    ratios=st.sampled_from([(50_000, 10_000), (100_000, 20_000), (30_000, 0)]),
)
def test_partial_liquidation_restores_maintenance(equity, abs_size, price, ratios):
    mmr, fee = ratios
    maintenance = compute_margin_requirement(abs_size, price, mmr)
    assume(equity < maintenance)
    size = liquidation.compute_liquidation_size(equity, maintenance, abs_size, price, mmr, fee)
    assert 1 <= size <= abs_size
    if size < abs_size:
        share = liquidation.compute_equity_share(
            equity,
            maintenance - compute_margin_requirement(abs_size - size, price, mmr),
            maintenance,
        )
        penalty = liquidation.compute_penalty(size * price, fee, share)
        after = compute_margin_requirement(abs_size - size, price, mmr)
        assert equity - penalty >= after  # back above maintenance
        assert (abs_size - size) * price >= LIQUIDATION_DUST_NOTIONAL


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**12), st.integers(1, 10**12))
def test_equity_share_is_floored(equity, delta, total):
    assume(delta <= total)
    assert liquidation.compute_equity_share(equity, delta, total) == floor(
        Fraction(equity * delta, total)
    )


def test_full_close_at_bankruptcy_cash_leaves_zero_equity():
    equity, maintenance = -1_234_567, 5_000_000
    share = liquidation.compute_equity_share(equity, maintenance, maintenance)
    assert share == equity
    oracle_cash = 80_000_000
    cash = liquidation.compute_bankruptcy_cash(oracle_cash, share)
    assert equity + (cash - oracle_cash) == 0


@given(st.integers(0, 10**12), st.integers(0, RATIO_PRECISION), st.integers(-(10**10), 10**10))
def test_penalty_capped(notional, fee, share):
    penalty = liquidation.compute_penalty(notional, fee, share)
    assert penalty == min(ceil(Fraction(notional * fee, RATIO_PRECISION)), max(share, 0))


@given(st.integers(0, 10**24), st.integers(0, RATIO_PRECISION), st.integers(0, RATIO_PRECISION))
def test_liquidator_reward_is_positive_and_bounded(notional, fee, share_ratio):
    reward = liquidation.compute_liquidator_reward(notional, fee, share_ratio)
    full_fee = ceil(Fraction(notional * fee, RATIO_PRECISION))
    assert reward == max(
        floor(Fraction(full_fee * share_ratio, RATIO_PRECISION)), MIN_LIQUIDATION_REWARD
    )
    assert 0 < reward <= max(full_fee, MIN_LIQUIDATION_REWARD)


ranks = st.tuples(st.integers(0, 10**20), st.integers(0, 10**20))
addresses = st.integers(1, 2**160 - 1).map(lambda a: f"0x{a:040x}")


@given(ranks, addresses, ranks, addresses)
def test_rank_comparison_is_exact(rank_a, address_a, rank_b, address_b):
    assume(address_a != address_b and rank_a[1] > 0 and rank_b[1] > 0)
    first = ranks_before(rank_a, address_a, rank_b, address_b)
    a, b = Fraction(*rank_a), Fraction(*rank_b)
    expected = a > b or (a == b and int(address_a, 16) < int(address_b, 16))
    assert first == expected
    assert first != ranks_before(rank_b, address_b, rank_a, address_a)


def test_rank_never_compares_rounded_quotients():
    # 2/3 > 5/8 but both floor to 0: a quotient would call it a tie.
    assert ranks_before((2, 3), "0x" + "ff" * 20, (5, 8), "0x" + "01" * 20)


def ranks_before(rank_a, address_a, rank_b, address_b) -> bool:
    a = Holder(address_a, 1, rank_a[0], rank_a[1], 1, 1)
    b = Holder(address_b, 1, rank_b[0], rank_b[1], 1, 1)
    return adl_allocator.ranks_before(a, b)


@given(st.integers(0, 10**12), st.integers(1, 10**6), st.data())
def test_deficit_shares_sum_exactly(loss, size, data):
    cuts = sorted(set(data.draw(st.lists(st.integers(0, size), max_size=5)) + [0, size]))
    parts = [
        adl_allocator.compute_deficit_share(loss, a, b, size)
        for a, b in zip(cuts, cuts[1:], strict=False)
    ]
    assert sum(parts) == loss and all(part >= 0 for part in parts)


@given(
    st.integers(-(10**12), 10**12),
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(-(10**12), 10**12),
    st.integers(0, 10**9),
    st.integers(1, 10**9),
)
def test_absorb_cap_keeps_profit_and_solvency(upnl, fill, extra, equity, delta, total):
    assume(delta <= total)
    abs_size = fill + extra - 1
    cap = adl_allocator.compute_absorb_cap(upnl, fill, abs_size, equity, delta, total)
    assert cap >= 0
    assert cap * abs_size <= max(upnl, 0) * fill  # at most the profit of the closed lots
    assert cap * total <= max(equity, 0) * delta  # at most the equity share: solvent after


def test_quantiles_are_percentiles_of_quantity():
    # W11: BitMEX lights are percentiles of cumulative quantity ahead in the queue
    assert [
        adl_allocator.compute_adl_quantile(ahead, 100) for ahead in (0, 19, 20, 79, 80, 99)
    ] == [
        5,
        5,
        4,
        2,
        1,
        1,
    ]
    # a whale ahead of a small position pushes it to the last light, not the middle one
    assert adl_allocator.compute_adl_quantile(9_000, 10_000) == 1
