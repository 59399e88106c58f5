"""Oracle prices: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/oracle/<name>.json``."""

import pytest
from scenarios import listing

from harness.vectors.builder import Rejection, call
from pyspec.constants import MAX_PRICE

REJECTED = (
    Rejection(
        "not_oracle",
        "Only the oracle publishes prices.",
        call("update_price", "operator", 0, 1_100_000, 2),
        "auth: not oracle",
    ),
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        call("update_price", "oracle", 2, 1_100_000, 2),
        "market: unknown market",
    ),
    Rejection(
        "zero_price",
        "A zero price is rejected.",
        call("update_price", "oracle", 0, 0, 2),
        "oracle: zero price",
    ),
    Rejection(
        "price_too_large",
        "A price above MAX_PRICE is rejected.",
        call("update_price", "oracle", 0, MAX_PRICE + 1, 2),
        "oracle: price too large",
    ),
    Rejection(
        "older_timestamp",
        "A timestamp before the last one is stale.",
        call("update_price", "oracle", 0, 1_020_000, 9),
        "oracle: stale timestamp",
        pre=(("update_price", "oracle", 0, 1_010_000, 10),),
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_update(case):
    """The oracle publishes a new price with a later timestamp."""
    case.act("update_price", "oracle", 0, 1_100_000, 2)


def test_max_price(case):
    """MAX_PRICE itself is accepted."""
    case.act("update_price", "oracle", 1, MAX_PRICE, 2)


def test_large_timestamp(case):
    """A timestamp of 2**64 (a decimal string in JSON)."""
    case.act("update_price", "oracle", 0, 999_999, 2**64)


def test_same_timestamp(case):
    """A timestamp equal to the last one is stale."""
    case.price(0, 1_010_000)
    case.act("update_price", "oracle", 0, 1_020_000, 2, reverts="oracle: stale timestamp")


def test_first_price_of_new_market(case):
    """A new market's first price (timestamp 1)."""
    case("add_market", "owner", *listing(1))
    case.act("update_price", "oracle", 2, 3_000_000, 1)
