"""Market listings: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/market/<name>.json``."""

import pytest
from scenarios import listing

from harness.vectors.builder import Rejection, call
from pyspec.constants import (
    ADL_POLICY_COUNT,
    MAX_FEE_RATIO,
    MAX_FUNDING_RATE,
    MAX_PRICE_AGE,
    RATIO_PRECISION,
)

REJECTED = (
    Rejection(
        "maintenance_not_below_initial",
        "Maintenance must be below initial margin.",
        call("add_market", "owner", *listing(maintenance_margin_ratio=100_000)),
        "market: invalid margin ratios",
    ),
    Rejection(
        "zero_maintenance",
        "Maintenance margin must be positive.",
        call("add_market", "owner", *listing(maintenance_margin_ratio=0, liquidation_fee_ratio=0)),
        "market: invalid margin ratios",
    ),
    Rejection(
        "initial_above_one",
        "Initial margin cannot exceed 100%.",
        call("add_market", "owner", *listing(initial_margin_ratio=RATIO_PRECISION + 1)),
        "market: invalid margin ratios",
    ),
    Rejection(
        "liquidation_fee_not_below_maintenance",
        "The liquidation fee must be below maintenance.",
        call("add_market", "owner", *listing(liquidation_fee_ratio=50_000)),
        "market: invalid liquidation fee",
    ),
    Rejection(
        "zero_band",
        "The band is positive.",
        call("add_market", "owner", *listing(price_band_ratio=0)),
        "market: invalid price band",
    ),
    Rejection(
        "band_above_one",
        "The band cannot exceed 100%.",
        call("add_market", "owner", *listing(price_band_ratio=RATIO_PRECISION + 1)),
        "market: invalid price band",
    ),
    Rejection(
        "funding_bound_above_max",
        "The funding bound cannot exceed MAX_FUNDING_RATE (100% of the price an hour).",
        call("add_market", "owner", *listing(max_funding_rate=MAX_FUNDING_RATE + 1)),
        "market: invalid funding bound",
    ),
    Rejection(
        "maker_fee_too_large",
        "Fees cannot exceed MAX_FEE_RATIO (10%).",
        call("add_market", "owner", *listing(maker_fee_ratio=MAX_FEE_RATIO + 1)),
        "market: invalid fees",
    ),
    Rejection(
        "taker_fee_too_large",
        "Fees cannot exceed MAX_FEE_RATIO (10%).",
        call("add_market", "owner", *listing(taker_fee_ratio=MAX_FEE_RATIO + 1)),
        "market: invalid fees",
    ),
    Rejection(
        "zero_price_age",
        "A market needs a maximum price age of at least a second.",
        call("add_market", "owner", *listing(max_price_age=0)),
        "market: invalid price age",
    ),
    Rejection(
        "price_age_too_large",
        "A maximum price age above MAX_PRICE_AGE (a week) is refused.",
        call("add_market", "owner", *listing(max_price_age=MAX_PRICE_AGE + 1)),
        "market: invalid price age",
    ),
    Rejection(
        "invalid_adl_policy",
        "The ADL policy is one of the ADL_POLICY_COUNT policies.",
        call("add_market", "owner", *listing(adl_policy=ADL_POLICY_COUNT)),
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
        *listing(initial_margin_ratio=50_000, maintenance_margin_ratio=25_000),
    )


def test_add_extreme_bounds(case):
    """Every parameter at its upper bound."""
    case.act(
        "add_market",
        "owner",
        RATIO_PRECISION,
        RATIO_PRECISION - 1,
        RATIO_PRECISION - 2,
        RATIO_PRECISION,
        RATIO_PRECISION,
        10**5,
        10**5,
        ADL_POLICY_COUNT - 1,
        MAX_PRICE_AGE,
    )


def test_add_eighth(case):
    """The eighth market is the last one allowed."""
    for _ in range(5):
        case("add_market", "owner", *listing())
    case.act("add_market", "owner", *listing())


def test_too_many(case):
    """A ninth market is rejected."""
    for _ in range(6):
        case("add_market", "owner", *listing())
    case.act("add_market", "owner", *listing(), reverts="market: too many markets")


def test_not_owner(case):
    """Only the owner lists markets."""
    case.act("add_market", "operator", *listing(), reverts="auth: not owner")
