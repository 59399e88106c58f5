"""Withdrawals: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/withdraw/<name>.json``."""

import pytest
from scenarios import open_pair

from harness.core.call import CLOCK, Call
from harness.core.genesis import MAX_UINT256, USDC
from harness.vectors.builder import Rejection, call, settle_trade

REJECTED = (
    Rejection(
        "uint256_max",
        "A withdrawal of 2**256 - 1 is rejected before any arithmetic.",
        call("withdraw", "trader0", MAX_UINT256),
        "withdraw: insufficient collateral",
        pre=(("deposit", "trader0", 1_000 * USDC),),
    ),
    Rejection(
        "zero_amount",
        "A zero withdrawal is rejected.",
        call("withdraw", "trader0", 0),
        "withdraw: zero amount",
        pre=(("deposit", "trader0", 1_000 * USDC),),
    ),
    Rejection(
        "above_collateral",
        "Withdraw one unit more than the collateral.",
        call("withdraw", "trader0", 1_000 * USDC + 1),
        "withdraw: insufficient collateral",
        pre=(("deposit", "trader0", 1_000 * USDC),),
    ),
    Rejection(
        "no_account",
        "An actor that never deposited has no collateral.",
        call("withdraw", "trader5", 1),
        "withdraw: insufficient collateral",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_partial(case):
    """Withdraw part of the collateral, no position open."""
    case("deposit", "trader0", 1_000 * USDC)
    case.act("withdraw", "trader0", 400 * USDC)


def test_everything(case):
    """Withdraw all the collateral, no position open."""
    case("deposit", "trader0", 1_000 * USDC)
    case.act("withdraw", "trader0", 1_000 * USDC)


def test_free_collateral(case):
    """With a position open, withdraw exactly the free collateral."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 1_000)
    case.act("withdraw", "trader0", case.free("trader0"))


def test_below_initial_margin(case):
    """With a position open, one unit more than the free collateral breaks initial margin."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 1_000)
    case.act(
        "withdraw", "trader0", case.free("trader0") + 1, reverts="withdraw: below initial margin"
    )


def test_realized_profit(case):
    """After closing at a profit the whole collateral is free."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 1_000)
    case.price(0, 1_040_000)
    case("deposit", "trader2", 1_000 * USDC)
    case(settle_trade("trader2", "trader0", 1_000, 1_040_000, buyer_is_taker=False))
    case.act("withdraw", "trader0", case.state.accounts[case.address("trader0")].collateral)


def test_settles_funding_first(case):
    """A withdrawal settles pending funding before checking the collateral."""
    open_pair(case, "trader0", "trader1", 4_000, 10**6, 1_000)
    case("set_funding_rate", "oracle", 0, 1_388_888)
    case(Call(CLOCK, "wait", "", (600,)))
    case.act("withdraw", "trader1", 10 * USDC, branches=("funding.settled",))
