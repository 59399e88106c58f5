"""Market listings: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/market/<name>.json``."""

import pytest
from scenarios import ALL, listing, open_pair

from harness.core.genesis import USDC
from harness.vectors.builder import Rejection, call, settle_trade
from pyspec.constants import (
    ADL_POLICY_COUNT,
    MAX_FEE_RATIO,
    MAX_FUNDING_RATE,
    MAX_MIN_POSITION_NOTIONAL,
    MAX_PRICE_AGE,
    RATIO_PRECISION,
)

REJECTED = (
    Rejection(
        "maintenance_not_below_initial",
        "Maintenance must be below initial margin.",
        call("add_market", "owner", listing(maintenance_margin_ratio=100_000)),
        "market: invalid margin ratios",
    ),
    Rejection(
        "zero_maintenance",
        "Maintenance margin must be positive.",
        call("add_market", "owner", listing(maintenance_margin_ratio=0, liquidation_fee_ratio=0)),
        "market: invalid margin ratios",
    ),
    Rejection(
        "initial_above_one",
        "Initial margin cannot exceed 100%.",
        call("add_market", "owner", listing(initial_margin_ratio=RATIO_PRECISION + 1)),
        "market: invalid margin ratios",
    ),
    Rejection(
        "liquidation_fee_not_below_maintenance",
        "The liquidation fee must be below maintenance.",
        call("add_market", "owner", listing(liquidation_fee_ratio=50_000)),
        "market: invalid liquidation fee",
    ),
    Rejection(
        "zero_band",
        "The band is positive.",
        call("add_market", "owner", listing(price_band_ratio=0)),
        "market: invalid price band",
    ),
    Rejection(
        "band_above_one",
        "The band cannot exceed 100%.",
        call("add_market", "owner", listing(price_band_ratio=RATIO_PRECISION + 1)),
        "market: invalid price band",
    ),
    Rejection(
        "funding_bound_above_max",
        "The funding bound cannot exceed MAX_FUNDING_RATE (100% of the price an hour).",
        call("add_market", "owner", listing(max_funding_rate=MAX_FUNDING_RATE + 1)),
        "market: invalid funding bound",
    ),
    Rejection(
        "maker_fee_too_large",
        "Fees cannot exceed MAX_FEE_RATIO (10%).",
        call("add_market", "owner", listing(maker_fee_ratio=MAX_FEE_RATIO + 1)),
        "market: invalid fees",
    ),
    Rejection(
        "taker_fee_too_large",
        "Fees cannot exceed MAX_FEE_RATIO (10%).",
        call("add_market", "owner", listing(taker_fee_ratio=MAX_FEE_RATIO + 1)),
        "market: invalid fees",
    ),
    Rejection(
        "zero_price_age",
        "A market needs a maximum price age of at least a second.",
        call("add_market", "owner", listing(max_price_age=0)),
        "market: invalid price age",
    ),
    Rejection(
        "price_age_too_large",
        "A maximum price age above MAX_PRICE_AGE (a week) is refused.",
        call("add_market", "owner", listing(max_price_age=MAX_PRICE_AGE + 1)),
        "market: invalid price age",
    ),
    Rejection(
        "invalid_adl_policy",
        "The ADL policy is one of the ADL_POLICY_COUNT policies.",
        call("add_market", "owner", listing(adl_policy=ADL_POLICY_COUNT)),
        "market: invalid adl policy",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_add(case):
    """The owner lists a third market."""
    case.act(
        "add_market",
        "owner",
        listing(initial_margin_ratio=50_000, maintenance_margin_ratio=25_000),
    )


def test_add_extreme_bounds(case):
    """Every parameter at its upper bound."""
    case.act(
        "add_market",
        "owner",
        (
            RATIO_PRECISION,
            RATIO_PRECISION - 1,
            RATIO_PRECISION - 2,
            RATIO_PRECISION,
            MAX_FUNDING_RATE,
            MAX_FEE_RATIO,
            MAX_FEE_RATIO,
            ADL_POLICY_COUNT - 1,
            MAX_PRICE_AGE,
            MAX_MIN_POSITION_NOTIONAL,
        ),
    )


def test_add_eighth(case):
    """The eighth market is the last one allowed."""
    for _ in range(5):
        case("add_market", "owner", listing())
    case.act("add_market", "owner", listing())


def test_too_many(case):
    """A ninth market is rejected."""
    for _ in range(6):
        case("add_market", "owner", listing())
    case.act("add_market", "owner", listing(), reverts="market: too many markets")


def test_not_owner(case):
    """Only the owner lists markets."""
    case.act("add_market", "operator", listing(), reverts="auth: not owner")


# -- the guardian's pause (issue 12, L1): no new risk, every exit open ----------------------

PAUSE_REJECTED = (
    Rejection(
        "pause_not_guardian",
        "Only the guardian pauses a market.",
        call("set_market_paused", "outsider", 0, True),
        "auth: not guardian",
    ),
    Rejection(
        "pause_unknown_market",
        "Market 2 is not listed.",
        call("set_market_paused", "owner", 2, True),
        "market: unknown market",
    ),
    Rejection(
        "set_guardian_not_governor",
        "The guardian is named through the Governor only, even by the owner.",
        call("set_guardian", "owner", "outsider"),
        "auth: not governor",
    ),
)


@pytest.mark.parametrize("row", PAUSE_REJECTED, ids=lambda row: row.name)
def test_pause_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def paused_with_a_pair(case):
    """trader0 long 9,000 lots (9x) against trader1, then market 0 paused."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case("set_market_paused", "owner", 0, True)


def test_pause(case):
    """The guardian (the owner until it names another) pauses market 0."""
    case.act("set_market_paused", "owner", 0, True)


def test_paused_refuses_an_opening(case):
    """In a paused market no trade may open or grow a position."""
    paused_with_a_pair(case)
    case("deposit", "trader2", 1_000 * USDC)
    case.act(settle_trade("trader2", "trader1", 100, 10**6), reverts="trade: market paused")


def test_paused_refuses_a_flip(case):
    """A flip adds risk on the new side: refused while paused."""
    paused_with_a_pair(case)
    case.act(settle_trade("trader1", "trader0", 10_000, 10**6), reverts="trade: market paused")


def test_paused_lets_both_sides_reduce(case):
    """Closing trades go on in a paused market."""
    paused_with_a_pair(case)
    case.act(settle_trade("trader1", "trader0", 1_500, 10**6))


def test_paused_lets_one_side_exit_against_a_new_position(case):
    """trader0 exits, but trader2 would open against it: refused, since one side adds risk."""
    paused_with_a_pair(case)
    case("deposit", "trader2", 1_000 * USDC)
    case.act(settle_trade("trader2", "trader0", 500, 10**6), reverts="trade: market paused")


def test_paused_lets_a_liquidation_through(case):
    """Liquidation goes on in a paused market."""
    paused_with_a_pair(case)
    case.price(0, 930_000)
    case.act("liquidate", "trader1", "trader0", 0, ALL)


def test_paused_lets_free_collateral_out(case):
    """Withdrawals of free collateral go on."""
    paused_with_a_pair(case)
    case.act("withdraw", "trader1", 50 * USDC)


def test_resumed_market_trades(case):
    """Once resumed, a market opens positions again."""
    paused_with_a_pair(case)
    case("set_market_paused", "owner", 0, False)
    case("deposit", "trader2", 1_000 * USDC)
    case.act(settle_trade("trader2", "trader1", 100, 10**6))


def test_new_guardian_pauses(case):
    """The Governor names trader7 guardian, who pauses; the owner no longer can."""
    case.govern("set_guardian", "trader7")
    case("set_market_paused", "owner", 1, True, reverts="auth: not guardian")
    case.act("set_market_paused", "trader7", 1, True)
