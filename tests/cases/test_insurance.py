"""The insurance fund: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/insurance/<name>.json``."""

import pytest
from scenarios import INSURANCE_FLOOR, open_pair, through_governor

from harness.core.genesis import INITIAL_INSURANCE, MAX_UINT256, USDC
from harness.vectors.builder import Rejection, call
from pyspec.constants import MAX_DEPOSIT

REJECTED = (
    Rejection(
        "withdraw_uint256_max",
        "A fund withdrawal of 2**256 - 1 would leave the fund under its floor.",
        reason="insurance: below floor",
        **through_governor("withdraw_insurance", MAX_UINT256),
    ),
    Rejection(
        "top_up_zero",
        "A zero top-up is rejected.",
        call("top_up_insurance", "trader3", 0),
        "insurance: zero amount",
    ),
    Rejection(
        "top_up_too_large",
        "A top-up above MAX_DEPOSIT is rejected.",
        call("top_up_insurance", "owner", MAX_DEPOSIT + 1),
        "insurance: amount too large",
    ),
    Rejection(
        "top_up_no_allowance",
        "The operator holds no tokens and approved nothing.",
        call("top_up_insurance", "operator", 1),
        "token: insufficient allowance",
    ),
    Rejection(
        "withdraw_below_floor",
        "One unit more would leave the fund under its floor.",
        reason="insurance: below floor",
        **through_governor("withdraw_insurance", INITIAL_INSURANCE - INSURANCE_FLOOR + 1),
    ),
    Rejection(
        "withdraw_not_governor",
        "Only the Governor withdraws from the fund, after its delay (N6): not even its owner "
        "at once.",
        call("withdraw_insurance", "owner", 1),
        "auth: not governor",
    ),
    Rejection(
        "withdraw_zero",
        "A zero withdrawal is rejected.",
        reason="insurance: zero amount",
        **through_governor("withdraw_insurance", 0),
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_top_up(case):
    """Anyone may top the fund up from their wallet."""
    case.act("top_up_insurance", "trader3", 500 * USDC)


def test_withdraw(case):
    """Governance withdraws part of the fund, through the Governor's delay (N6), to its
    owner."""
    case.act(case.governed("withdraw_insurance", 100 * USDC))


def test_withdraw_to_floor(case):
    """Governance may withdraw down to the floor exactly."""
    case.act(case.governed("withdraw_insurance", INITIAL_INSURANCE - INSURANCE_FLOOR))


def test_withdraw_fees(case):
    """Trading fees accrue to the fund and can be withdrawn."""
    case.govern("withdraw_insurance", INITIAL_INSURANCE - INSURANCE_FLOOR)
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 10_000)
    case.act(case.governed("withdraw_insurance", 2_800_000))
