"""Funding: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/funding/<name>.json``.

Rates are per second, in parts per FUNDING_RATE_PRECISION (1e12) of the price; market 0's
bound is 1,388,888 (about 0.5% an hour), market 1's 2,777,777 (about 1% an hour).
"""

import pytest
from scenarios import ALL, ASSET, listing, open_pair

from harness.core.call import CLOCK, Call
from harness.core.genesis import USDC
from harness.vectors.builder import Rejection, call, settle_trade
from pyspec.constants import FUNDING_INDEX_SCALE

BOUND_0 = 1_388_888
BOUND_1 = 2_777_777
HOUR = 3_600

REJECTED = (
    Rejection(
        "not_oracle",
        "Only the oracle sets the funding rate (the operator no longer can).",
        call("set_funding_rate", "operator", 0, 100),
        "auth: not oracle",
    ),
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        call("set_funding_rate", "oracle", 2, 100),
        "market: unknown market",
    ),
)


def settled(events: list) -> tuple:
    """The arguments of the first ``PositionSettled`` (a deposit pulls the tokens first)."""
    return next(args for name, args in events if name == "PositionSettled")


def wait(case, seconds: int) -> None:
    case(Call(CLOCK, "wait", "", (seconds,)))


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_positive_rate(case):
    """Longs pay shorts from now on; setting the rate moves nothing by itself."""
    open_pair(case, "trader0", "trader1", 2_000, 10**6, 5_000)
    equity = case.equity("trader0")
    case.act("set_funding_rate", "oracle", 0, 1_000_000)
    assert case.equity("trader0") == equity


def test_negative_rate(case):
    """Shorts pay longs on market 1 for ten minutes; touching the long settles it."""
    case("deposit", "trader0", 10_000 * USDC)
    case("deposit", "trader1", 10_000 * USDC)
    case(settle_trade("trader0", "trader1", 100, 25_000_000, market=1))
    case("set_funding_rate", "oracle", 1, -777_777)
    wait(case, 600)
    events = case.act("deposit", "trader0", 1, branches=("funding.settled",))
    owed = 100 * 777_777 * 600 * 25_000_000
    assert settled(events) == (case.address("trader0"), 1, owed // 10**12, 0)


def test_accrues_by_elapsed_time(case):
    """An hour at the bound costs a long 1,388,888 x 3,600 x price / 1e12 per lot, whether
    it is touched once or every ten minutes: time, not touches, sets the payment."""
    open_pair(case, "trader0", "trader1", 10_000, 10**6, 5_000)
    open_pair(case, "trader2", "trader3", 10_000, 10**6, 5_000)
    case("set_funding_rate", "oracle", 0, BOUND_0)
    for _ in range(6):
        wait(case, 600)
        case("deposit", "trader2", 1)  # trader2 is touched six times, trader0 never
    per_lot = BOUND_0 * HOUR * 10**6  # index units
    assert case.state.markets[0].funding_index == per_lot
    assert case.equity("trader0") == 4_995 * USDC - 10_000 * per_lot // 10**12  # after the fee
    case.act("deposit", "trader0", 1, branches=("funding.settled",))
    assert case.equity("trader0") + 5 == case.equity("trader2")  # six deposits against one


def test_t2_repeated_calls_move_nothing(case):
    """T2: forty rate updates at the bound in one second move the index by nothing (the old
    per-call step took a 5x long from 997.5 to -2.5 USDC this way)."""
    open_pair(case, "trader0", "trader1", 5_000, 10**6, 1_000)
    equity = case.equity("trader0")
    for _ in range(39):
        case("set_funding_rate", "oracle", 0, BOUND_0)
    case.act("set_funding_rate", "oracle", 0, BOUND_0)
    assert case.state.markets[0].funding_index == 0
    assert case.equity("trader0") == equity


def test_rate_change_accrues_the_old_rate(case):
    """A new rate applies from the second it is set: the index first accrues the old one."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 5_000)
    case("set_funding_rate", "oracle", 0, 1_000_000)
    wait(case, 100)
    events = case.act("set_funding_rate", "oracle", 0, -500_000)
    index = 1_000_000 * 100 * 10**6
    assert events[-1] == ("FundingRateSet", (0, -500_000, -500_000, index))


def test_price_change_accrues_at_the_old_price(case):
    """Seconds before a price update accrue at the price that held then."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 5_000)
    case("set_funding_rate", "oracle", 0, 1_000_000)
    wait(case, 100)
    case.act("update_price", "oracle", 0, 2 * 10**6, case.state.timestamp)
    assert case.state.markets[0].funding_index == 1_000_000 * 100 * 10**6


def test_clamped_above(case):
    """A 100%-a-second rate is clamped to the market's bound."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 10_000)
    case.act("set_funding_rate", "oracle", 0, 10**12, branches=("funding.clamped",))


def test_clamped_below(case):
    """The most negative int256 is clamped to market 1's negative bound."""
    case.act("set_funding_rate", "oracle", 1, -(2**255), branches=("funding.clamped",))


def test_clamped_at_int256_max(case):
    """The largest int256 rate is clamped to the market's bound."""
    case.act("set_funding_rate", "oracle", 0, 2**255 - 1, branches=("funding.clamped",))


def test_zero_rate(case):
    """A zero rate stops funding but still logs."""
    case.act("set_funding_rate", "oracle", 0, 0)


def test_no_price(case):
    """A market never priced has no funding."""
    case.govern("add_market", listing(), ASSET)
    case.act("set_funding_rate", "oracle", 2, 100, reverts="market: no price")


def test_stale_price(case):
    """A rate needs a fresh price: the accrual it starts uses it."""
    wait(case, HOUR + 1)
    case.act("set_funding_rate", "oracle", 0, 100, reverts="oracle: stale price")


def test_settled_on_deposit(case):
    """Touching an account (a 1-unit deposit) settles what accrued under two rates."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 10_000)
    case("set_funding_rate", "oracle", 0, BOUND_0)
    wait(case, 60)
    case("set_funding_rate", "oracle", 0, -500_000)
    wait(case, 60)
    case.act("deposit", "trader1", 1, branches=("funding.settled",))


def test_drives_liquidation(case):
    """A day at the bound takes a 10x long under maintenance (prices republished to stay
    fresh); the liquidation settles the funding first."""
    open_pair(case, "trader0", "trader1", 9_500, 10**6, 1_000)
    case("set_funding_rate", "oracle", 0, BOUND_0)
    for _ in range(24):
        wait(case, HOUR)
        case.price(0, 10**6)
    case.act("liquidate", "trader1", "trader0", 0, ALL, branches=("funding.settled",))


def test_flows_longs_to_shorts(case):
    """Fees go to the fund; a clamped rate, then a negative one, move exact amounts between
    long and short over time; touching the short settles what it is owed."""
    for trader in ("trader0", "trader1"):
        case("deposit", trader, 10_000 * USDC)
    fund = case.state.insurance_fund
    events = case(settle_trade("trader0", "trader1", 4_000, 10**6))
    _, _, _, _, _, buyer_fee, seller_fee = events[-1][1]
    assert (buyer_fee, seller_fee) == (2 * USDC, 800_000)  # taker 0.05%, maker 0.02%
    assert case.state.insurance_fund == fund + buyer_fee + seller_fee
    events = case("set_funding_rate", "oracle", 0, 10**12)  # clamped to the bound
    assert events[-1][1] == (0, 10**12, BOUND_0, 0)
    wait(case, 100)
    step = BOUND_0 * 100 * 10**6  # 100 s at the bound, in index units per lot
    long_equity, short_equity = case.equity("trader0"), case.equity("trader1")
    case("set_funding_rate", "oracle", 0, -400_000)  # shorts pay now
    assert case.state.markets[0].funding_index == step
    wait(case, 100)
    back = 400_000 * 100 * 10**6
    assert case.equity("trader0") == long_equity + 4_000 * back // FUNDING_INDEX_SCALE
    assert case.equity("trader1") == short_equity - 4_000 * back // FUNDING_INDEX_SCALE
    events = case.act("deposit", "trader1", 1, branches=("funding.settled",))
    owed = 4_000 * (step - back)
    assert settled(events) == (case.address("trader1"), 0, owed // 10**12, 0)


def test_w9_small_price(case):
    """W9: at 0.0001 USDC per lot an hour at the bound still moves the index: 100 million
    lots pay exactly 0.5% of their 10,000 USDC notional, 50 USDC."""
    case("deposit", "trader0", 5_000 * USDC)
    case("deposit", "trader1", 5_000 * USDC)
    case.price(0, 100)
    case(settle_trade("trader0", "trader1", 100_000_000, 100))
    case("set_funding_rate", "oracle", 0, BOUND_0)
    wait(case, HOUR)
    before = case.equity("trader1")
    events = case.act("deposit", "trader1", 1, branches=("funding.settled",))
    paid = 100_000_000 * BOUND_0 * HOUR * 100 // FUNDING_INDEX_SCALE
    assert settled(events)[2] == paid and case.equity("trader1") == before + 1


def test_residue_to_fund(case):
    """Each payment rounds toward the protocol; the residue is kept per market and every
    whole unit of it goes to the insurance fund. (At 3 units a lot, the market's minimum
    notional goes to zero first, through the Governor.)"""
    case.govern("set_market_params", 0, listing(min_position_notional=0))
    case("deposit", "trader0", 5_000 * USDC)
    case("deposit", "trader1", 5_000 * USDC)
    case.price(0, 3)
    case(settle_trade("trader0", "trader1", 7, 3))
    case("set_funding_rate", "oracle", 0, 1_234)
    wait(case, 1)
    case("set_funding_rate", "oracle", 0, 0)  # 7 lots owe 7 x 1,234 x 3 / 1e12 units
    case("deposit", "trader1", 1)  # receives the floor: 0; the residue is kept
    fund = case.state.insurance_fund
    events = case.act("deposit", "trader0", 1)  # pays the ceiling: 1; one unit is booked
    settled = next(args for name, args in events if name == "PositionSettled")
    assert settled[2:] == (-1, 1) and case.state.insurance_fund == fund + 1
    assert case.state.markets[0].funding_residue == 0


def test_n4_funding_stops_while_stale(case):
    """N4: the feed stops with a rate set at market 0's bound; 30 hours later the price
    comes back. Funding accrued only for the hour the old price was fresh: the old design
    kept paying the last rate for all 30 hours, on a price nobody confirmed."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case("set_funding_rate", "oracle", 0, BOUND_0)
    market = case.state.markets[0]
    index, fresh_for = market.funding_index, market.price_timestamp + market.max_price_age
    fresh_for -= market.funding_timestamp
    case(Call(CLOCK, "wait", "", (30 * HOUR,)))
    case.act("update_price", "oracle", 0, 10**6, case.state.timestamp)
    assert case.state.markets[0].funding_index == index + BOUND_0 * fresh_for * 10**6
