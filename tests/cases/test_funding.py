"""Funding: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/funding/<name>.json``."""

import pytest
from scenarios import ALL, listing, open_pair

from harness.core.genesis import USDC
from harness.vectors.builder import Rejection, call, settle_trade
from pyspec.constants import FUNDING_INDEX_SCALE

REJECTED = (
    Rejection(
        "not_operator",
        "Only the operator updates funding.",
        call("update_funding", "oracle", 0, 100),
        "auth: not operator",
    ),
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        call("update_funding", "operator", 2, 100),
        "market: unknown market",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_positive_rate(case):
    """Longs pay shorts 0.3% of the price per lot."""
    open_pair(case, "trader0", "trader1", 2_000, 10**6, 5_000)
    case.act("update_funding", "operator", 0, 3_000)


def test_negative_rate(case):
    """Shorts pay longs; the index step truncates toward zero."""
    case("deposit", "trader0", 10_000 * USDC)
    case("deposit", "trader1", 10_000 * USDC)
    case(settle_trade("trader0", "trader1", 100, 25_000_000, market=1))
    case.price(1, 25_000_333)
    case.act("update_funding", "operator", 1, -7_777)


def test_clamped_above(case):
    """A 100% rate is clamped to the market's 0.5% bound."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 10_000)
    case.act("update_funding", "operator", 0, 10**6, branches=("funding.clamped",))


def test_clamped_below(case):
    """The most negative int256 is clamped to -1% on market 1."""
    case.act("update_funding", "operator", 1, -(2**255), branches=("funding.clamped",))


def test_zero_rate(case):
    """A zero rate leaves the index unchanged but still logs."""
    case.act("update_funding", "operator", 0, 0)


def test_no_price(case):
    """A market never priced has no funding."""
    case("add_market", "owner", *listing())
    case.act("update_funding", "operator", 2, 100, reverts="market: no price")


def test_settled_on_deposit(case):
    """Touching an account (a 1-unit deposit) settles the funding accrued over two updates."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 10_000)
    case("update_funding", "operator", 0, 10**6)
    case("update_funding", "operator", 0, -2_000)
    case.act("deposit", "trader1", 1, branches=("funding.settled",))


def test_drives_liquidation(case):
    """Funding payments take a 10x long under maintenance; the liquidation settles them first."""
    open_pair(case, "trader0", "trader1", 9_500, 10**6, 1_000)
    for _ in range(12):
        case("update_funding", "operator", 0, 5_000)
    case.act("liquidate", "trader1", "trader0", 0, ALL, branches=("funding.settled",))


def test_flows_longs_to_shorts(case):
    """Fees go to the fund; a clamped rate, then a negative one, move exact amounts between
    long and short; touching the short settles what it is owed."""
    for trader in ("trader0", "trader1"):
        case("deposit", trader, 10_000 * USDC)
    fund = case.state.insurance_fund
    events = case(settle_trade("trader0", "trader1", 4_000, 10**6))
    _, _, _, _, _, buyer_fee, seller_fee = events[-1][1]
    assert (buyer_fee, seller_fee) == (2 * USDC, 800_000)  # taker 0.05%, maker 0.02%
    assert case.state.insurance_fund == fund + buyer_fee + seller_fee
    events = case("update_funding", "operator", 0, 10**6)  # 100%: clamped to 0.5%
    step = 5_000 * FUNDING_INDEX_SCALE  # 0.5% of the 1 USDC price, in index units
    assert events[-1][1] == (0, 10**6, 5_000, step, step)
    long_equity, short_equity = case.equity("trader0"), case.equity("trader1")
    case("update_funding", "operator", 0, -2_000)  # shorts pay 0.2% now
    assert case.equity("trader0") == long_equity + 4_000 * 2_000
    assert case.equity("trader1") == short_equity - 4_000 * 2_000
    events = case.act("deposit", "trader1", 1, branches=("funding.settled",))
    assert events[0] == ("PositionSettled", (case.address("trader1"), 0, 4_000 * 3_000, 0))


def test_clamped_at_int256_max(case):
    """The largest int256 rate is clamped to the market's 0.5% bound."""
    case.act("update_funding", "operator", 0, 2**255 - 1, branches=("funding.clamped",))


def test_w9_small_price(case):
    """W9: at 0.0001 USDC per lot a 0.5% rate still moves the index: 100 million lots pay
    exactly 0.5% of their 10,000 USDC notional (the old whole-unit index moved by 0)."""
    case("deposit", "trader0", 5_000 * USDC)
    case("deposit", "trader1", 5_000 * USDC)
    case.price(0, 100)
    case(settle_trade("trader0", "trader1", 100_000_000, 100))
    case("update_funding", "operator", 0, 5_000)
    before = case.equity("trader1")
    events = case.act("deposit", "trader1", 1, branches=("funding.settled",))
    assert events[0][1][2] == 50 * USDC and case.equity("trader1") == before + 1


def test_residue_to_fund(case):
    """Each payment rounds toward the protocol; the residue is kept per market and every
    whole unit of it goes to the insurance fund."""
    case("deposit", "trader0", 5_000 * USDC)
    case("deposit", "trader1", 5_000 * USDC)
    case.price(0, 3)
    case(settle_trade("trader0", "trader1", 7, 3))
    case("update_funding", "operator", 0, 1_234)  # 7 lots owe 7 x 1,234 x 3 / 1e6 units
    case("deposit", "trader1", 1)  # receives the floor: 0; the residue is kept
    fund = case.state.insurance_fund
    events = case.act("deposit", "trader0", 1)  # pays the ceiling: 1; one unit is booked
    settled = next(args for name, args in events if name == "PositionSettled")
    assert settled[2:] == (-1, 1) and case.state.insurance_fund == fund + 1
    assert case.state.markets[0].funding_residue == 0
