"""Market listings: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/market/<name>.json``."""

import pytest
from scenarios import ALL, ASSET, listing, open_pair, through_governor

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
        reason="market: invalid margin ratios",
        **through_governor("add_market", listing(maintenance_margin_ratio=100_000), ASSET),
    ),
    Rejection(
        "zero_maintenance",
        "Maintenance margin must be positive.",
        reason="market: invalid margin ratios",
        **through_governor(
            "add_market", listing(maintenance_margin_ratio=0, liquidation_fee_ratio=0), ASSET
        ),
    ),
    Rejection(
        "initial_above_one",
        "Initial margin cannot exceed 100%.",
        reason="market: invalid margin ratios",
        **through_governor("add_market", listing(initial_margin_ratio=RATIO_PRECISION + 1), ASSET),
    ),
    Rejection(
        "liquidation_fee_not_below_maintenance",
        "The liquidation fee must be below maintenance.",
        reason="market: invalid liquidation fee",
        **through_governor("add_market", listing(liquidation_fee_ratio=50_000), ASSET),
    ),
    Rejection(
        "zero_band",
        "The band is positive.",
        reason="market: invalid price band",
        **through_governor("add_market", listing(price_band_ratio=0), ASSET),
    ),
    Rejection(
        "band_above_one",
        "The band cannot exceed 100%.",
        reason="market: invalid price band",
        **through_governor("add_market", listing(price_band_ratio=RATIO_PRECISION + 1), ASSET),
    ),
    Rejection(
        "funding_bound_above_max",
        "The funding bound cannot exceed MAX_FUNDING_RATE (100% of the price an hour).",
        reason="market: invalid funding bound",
        **through_governor("add_market", listing(max_funding_rate=MAX_FUNDING_RATE + 1), ASSET),
    ),
    Rejection(
        "maker_fee_too_large",
        "Fees cannot exceed MAX_FEE_RATIO (10%).",
        reason="market: invalid fees",
        **through_governor("add_market", listing(maker_fee_ratio=MAX_FEE_RATIO + 1), ASSET),
    ),
    Rejection(
        "taker_fee_too_large",
        "Fees cannot exceed MAX_FEE_RATIO (10%).",
        reason="market: invalid fees",
        **through_governor("add_market", listing(taker_fee_ratio=MAX_FEE_RATIO + 1), ASSET),
    ),
    Rejection(
        "zero_price_age",
        "A market needs a maximum price age of at least a second.",
        reason="market: invalid price age",
        **through_governor("add_market", listing(max_price_age=0), ASSET),
    ),
    Rejection(
        "price_age_too_large",
        "A maximum price age above MAX_PRICE_AGE (a week) is refused.",
        reason="market: invalid price age",
        **through_governor("add_market", listing(max_price_age=MAX_PRICE_AGE + 1), ASSET),
    ),
    Rejection(
        "invalid_adl_policy",
        "The ADL policy is one of the ADL_POLICY_COUNT policies.",
        reason="market: invalid adl policy",
        **through_governor("add_market", listing(adl_policy=ADL_POLICY_COUNT), ASSET),
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_add(case):
    """The Governor lists a third market, after its delay (N6)."""
    case.act(
        case.governed(
            "add_market",
            listing(initial_margin_ratio=50_000, maintenance_margin_ratio=25_000),
            ASSET,
        )
    )


def test_add_extreme_bounds(case):
    """Every parameter at its upper bound."""
    case.act(
        case.governed(
            "add_market",
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
            ASSET,
        )
    )


def test_add_eighth(case):
    """The eighth market is the last one allowed."""
    for _ in range(5):
        case.govern("add_market", listing(), ASSET)
    case.act(case.governed("add_market", listing(), ASSET))


def test_too_many(case):
    """A ninth market is rejected."""
    for _ in range(6):
        case.govern("add_market", listing(), ASSET)
    case.act(case.governed("add_market", listing(), ASSET), reverts="market: too many markets")


def test_not_owner(case):
    """Only the owner lists markets at once, and only before the engine holds a token."""
    case.act("add_market", "operator", listing(), ASSET, reverts="auth: not owner")


def test_n6_listing_needs_the_timelock(case):
    """N6: once the engine holds tokens, a listing binds the shared fund: the owner can no
    longer list at once (the old design let it list a 1-ppm-margin market that drained
    the fund); the Governor lists after its delay."""
    case.act("add_market", "owner", listing(), ASSET, reverts="market: listing needs the timelock")


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
