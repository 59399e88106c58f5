"""Liquidations: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/liquidation/<name>.json``."""

import pytest
from scenarios import ALL, INSURANCE_FLOOR, flash_crash, listing, socialized

from harness.core.genesis import USDC
from harness.vectors.builder import Rejection, call, settle_trade
from pyspec import views

REJECTED = (
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        call("liquidate", "trader3", "trader0", 2, ALL),
        "market: unknown market",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_partial(case):
    """A 9x long after -10%: the fewest lots restoring maintenance."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act("liquidate", "trader3", "trader0", 0, ALL, branches=("liquidation.partial",))


def test_healthy(case):
    """A 6x long after -10% is above maintenance."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act("liquidate", "trader3", "trader2", 0, ALL, reverts="liquidate: account healthy")


def test_penalty_capped_insurance_covers(case):
    """Through bankruptcy: no penalty is left to charge and the fund covers the deficit share."""
    flash_crash(case)
    case.price(0, 900_000)
    case("liquidate", "trader3", "trader0", 0, ALL)
    case.price(0, 800_000)
    case("deposit", "trader6", 40_000 * USDC)  # the shorts are winners: gated (issue 19)
    case.act(
        "liquidate",
        "trader6",
        "trader0",
        0,
        ALL,
        branches=("liquidation.full", "liquidation.penalty_capped", "insurance.covers"),
    )


def test_insurance_fund_insufficient(case):
    """The fund cannot cover this deficit share: the call fails and ADL must be used."""
    flash_crash(case)
    case.price(0, 800_000)
    case("deposit", "trader6", 40_000 * USDC)
    case.act(
        "liquidate", "trader6", "trader1", 0, ALL, reverts="liquidate: insurance fund insufficient"
    )


def test_full_dust(case):
    """A small position under maintenance closes whole (dust)."""
    case("deposit", "trader0", 2 * USDC)
    case("deposit", "trader1", 1_000 * USDC)
    case(settle_trade("trader0", "trader1", 15, 10**6))
    case.price(0, 900_000)
    case.act("liquidate", "trader1", "trader0", 0, ALL, branches=("liquidation.full",))


def test_penalty_capped(case):
    """Equity below the full penalty but positive: the penalty is capped at the equity share."""
    case("deposit", "trader0", 100 * USDC)
    case("deposit", "trader1", 1_000 * USDC)
    case(settle_trade("trader0", "trader1", 900, 10**6))
    case.price(0, 892_000)
    case.act(
        "liquidate",
        "trader1",
        "trader0",
        0,
        ALL,
        branches=("liquidation.full", "liquidation.penalty_capped"),
    )


def test_short_partial(case):
    """A leveraged short after a spike is partly liquidated."""
    case("deposit", "trader0", 10_000 * USDC)
    case("deposit", "trader1", 40_000 * USDC)
    case(settle_trade("trader1", "trader0", 90_000, 10**6))
    case.price(0, 1_060_000)
    case.act("liquidate", "trader1", "trader0", 0, ALL, branches=("liquidation.partial",))


def test_market1(case):
    """A 5x long on market 1 under maintenance after -12%."""
    case("deposit", "trader2", 1_000 * USDC)
    case("deposit", "trader3", 10_000 * USDC)
    case(settle_trade("trader2", "trader3", 190, 25_000_000, market=1))
    case.price(1, 21_800_000)
    case.act("liquidate", "trader3", "trader2", 1, ALL)


def test_cross_margin(case):
    """Losses on market 1 take the account under maintenance; its market-0 position is
    liquidated."""
    case("deposit", "trader0", 2_000 * USDC)
    case("deposit", "trader1", 40_000 * USDC)
    case(settle_trade("trader0", "trader1", 10_000, 10**6))
    case(settle_trade("trader0", "trader1", 160, 25_000_000, market=1))
    case.price(1, 17_000_000)
    case.act("liquidate", "trader1", "trader0", 0, ALL)


def test_self_liquidation(case):
    """An account cannot liquidate itself."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act("liquidate", "trader0", "trader0", 0, ALL, reverts="liquidate: self-liquidation")


def test_no_position(case):
    """The account holds nothing on market 1."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act("liquidate", "trader3", "trader0", 1, ALL, reverts="liquidate: no position")


def test_liquidator_below_initial_margin(case):
    """A liquidator without collateral cannot take the position over."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act(
        "liquidate",
        "trader7",
        "trader0",
        0,
        ALL,
        reverts="liquidate: liquidator below initial margin",
    )


def test_by_outsider(case):
    """Anyone with margin may liquidate: the outsider deposits."""
    flash_crash(case)
    case("deposit", "outsider", 50_000 * USDC)
    case.price(0, 900_000)
    case.act("liquidate", "outsider", "trader1", 0, ALL, branches=("liquidation.partial",))


def test_n5_liquidated_with_an_empty_fund(case):
    """N5: bad debt is recorded, so the fund is 0; trader3's long sits a hair above zero
    equity, far below maintenance. Its penalty pays the liquidator what it can and the
    liquidation goes through: the old design refused it ("liquidate: insurance fund
    insufficient") and left the account a free option until it went bankrupt."""
    socialized(case)
    assert case.state.insurance_fund == 0 and case.state.bad_debt > 0
    case("deposit", "trader3", 1_000 * USDC)
    case("deposit", "trader4", 20_000 * USDC)
    case(settle_trade("trader3", "trader4", 9_000, 500_000))
    case.price(0, 390_000)
    equity = case.equity("trader3")
    assert 0 <= equity * 10 < 9_000 * 390_000 * 5 // 100
    case.act("liquidate", "trader4", "trader3", 0, ALL)
    assert case.size("trader3") == 0 and case.equity("trader3") >= 0


def test_n7_no_one_lot_takeover(case):
    """N7: with market 0's minimum notional at 100 USDC, a sybil liquidator can no longer
    take one lot (0.93 USDC) of trader0's 9,000 into a reserved holder slot: a takeover
    leaves the minimum notional too, unless it takes the position whole. The old design
    exempted takeovers, so four sybils filled the reserved slots and locked an outside
    liquidator out."""
    case.govern("set_market_params", 0, listing(min_position_notional=100 * USDC))
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 100 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 930_000)
    case.act("liquidate", "trader2", "trader0", 0, 1, reverts="liquidate: position too small")


def test_n5_reward_never_from_the_floor(case):
    """N5, its floor: the fund withdrawn to its floor, trader0's 9x long just past
    bankruptcy. The fund covers the piece's deficit (about 45 USDC, from the floor, which
    backs deficits), but the liquidator's reward beyond the penalty (none is left: the
    share is negative) comes only from the fund above its floor: nothing, as a
    deleverage's keeper would get. The old design paid it from the floor."""
    flash_crash(case)
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR)
    bankrupt = views.bankruptcy_price(case.state, case.address("trader0"), 0)
    case.price(0, bankrupt - 500)
    assert case.state.insurance_fund == INSURANCE_FLOOR
    case("deposit", "trader6", 40_000 * USDC)
    case.act("liquidate", "trader6", "trader0", 0, ALL)
    liquidation = next(args for name, args in case.state.events if name == "Liquidation")
    assert liquidation[5:] == (0, 0)  # no penalty, no reward
    assert 0 < INSURANCE_FLOOR - case.state.insurance_fund < 100 * USDC  # the cover
