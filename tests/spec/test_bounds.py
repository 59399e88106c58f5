"""W10: the declared bounds are consistent with the arithmetic. At the maxima every
product the waterfall forms fits in a signed 256-bit word (the contract's int256)."""

from pyspec import adl_allocator, liquidation
from pyspec.adl_allocator import Holder
from pyspec.constants import (
    MAX_ADL_LEVERAGE,
    MAX_MARKETS,
    MAX_POSITION_SIZE,
    MAX_POSITIONS_PER_MARKET,
    MAX_PRICE,
    RATIO_PRECISION,
)

INT256_MAX = 2**255 - 1
# The contract assumes the collateral token's total supply stays below 2**127 (SPEC.md).
MAX_EQUITY = 2**127
MAX_NOTIONAL = MAX_POSITION_SIZE * MAX_PRICE


def test_rank_cross_products_fit():
    # upnl is at most a position's value plus what was paid for it
    upnl, entry = 2 * MAX_NOTIONAL, MAX_NOTIONAL
    assert upnl * entry <= INT256_MAX
    first = Holder("0x" + "01" * 20, MAX_POSITION_SIZE, upnl, entry, 1, 1)
    second = Holder("0x" + "02" * 20, MAX_POSITION_SIZE, 1, entry, 1, 1)
    assert adl_allocator.ranks_before(first, second)


def test_water_fill_products_fit():
    # budget x weight and cap x total weight, at the largest leverage weight
    weight = 2 * MAX_NOTIONAL * MAX_ADL_LEVERAGE
    assert MAX_EQUITY * weight <= INT256_MAX
    assert 2 * MAX_NOTIONAL * MAX_POSITIONS_PER_MARKET * weight <= INT256_MAX
    assert MAX_NOTIONAL * RATIO_PRECISION <= INT256_MAX  # the leverage numerator


def test_equity_share_products_fit():
    requirement = MAX_MARKETS * MAX_NOTIONAL  # a maintenance ratio is at most 100%
    assert MAX_EQUITY * requirement <= INT256_MAX
    assert liquidation.compute_equity_share(-MAX_EQUITY, requirement, requirement) == -MAX_EQUITY


def test_deficit_and_cap_products_fit():
    assert MAX_EQUITY * MAX_POSITION_SIZE <= INT256_MAX  # loss x filled
    assert 2 * MAX_NOTIONAL * MAX_POSITION_SIZE <= INT256_MAX  # upnl x fill
    assert MAX_NOTIONAL * RATIO_PRECISION * RATIO_PRECISION <= INT256_MAX  # fee x share


def test_the_old_rank_overflowed():
    """The old rank, upnl x |value| against |entry| x equity, cross-multiplied four
    factors: at one trade's maxima (1e9 lots at 1e12) the product was about 1e84."""
    one_trade = 10**9 * MAX_PRICE
    assert (one_trade * one_trade) * (one_trade * one_trade) > 2**256
