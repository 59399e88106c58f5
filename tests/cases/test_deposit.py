"""Deposits: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/deposit/<name>.json``."""

import pytest

from harness.core.genesis import MAX_UINT256, TRADER_FUNDS, USDC
from harness.vectors.builder import Rejection, call
from pyspec.constants import MAX_DEPOSIT

REJECTED = (
    Rejection(
        "transfer_from_without_allowance",
        "The token itself: a transferFrom nobody approved fails.",
        call("transferFrom", "outsider", "trader0", "outsider", 1, target="token"),
        "token: insufficient allowance",
    ),
    Rejection(
        "zero_amount",
        "A zero deposit is rejected.",
        call("deposit", "trader0", 0),
        "deposit: zero amount",
    ),
    Rejection(
        "above_max",
        "A deposit above MAX_DEPOSIT is rejected.",
        call("deposit", "trader0", MAX_DEPOSIT + 1),
        "deposit: amount too large",
    ),
    Rejection(
        "uint256_max",
        "A deposit of 2**256 - 1 is rejected before any arithmetic.",
        call("deposit", "trader0", MAX_UINT256),
        "deposit: amount too large",
    ),
    Rejection(
        "beyond_balance",
        "A deposit beyond the wallet balance fails in the token.",
        call("deposit", "trader0", TRADER_FUNDS + 1),
        "token: insufficient balance",
    ),
    Rejection(
        "unfunded_actor",
        "The oracle holds no tokens and approved nothing.",
        call("deposit", "oracle", 1),
        "token: insufficient allowance",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_first_deposit(case):
    """A first deposit opens the account and pulls the tokens."""
    case.act("deposit", "trader0", 1_000 * USDC)


def test_second_deposit(case):
    """A deposit adds to existing collateral."""
    case("deposit", "trader0", 1_000 * USDC)
    case.act("deposit", "trader0", 1)


def test_deposit_max(case):
    """A deposit of exactly MAX_DEPOSIT (owner holds enough tokens)."""
    case("mint", "owner", "trader1", MAX_DEPOSIT, target="token")
    case.act("deposit", "trader1", MAX_DEPOSIT)


def test_no_allowance(case):
    """A deposit without allowance fails in the token."""
    case("approve", "trader2", "engine", 0, target="token")
    case.act("deposit", "trader2", 1 * USDC, reverts="token: insufficient allowance")
