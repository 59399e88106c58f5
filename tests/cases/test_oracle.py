"""Oracle prices: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/oracle/<name>.json``."""

import pytest
from scenarios import ASSET, listing

from harness.core.call import CLOCK, Call
from harness.core.genesis import USDC
from harness.evm.base import GENESIS_TIME as T
from harness.vectors.builder import Rejection, call, settle_trade
from pyspec.constants import MAX_PRICE

WAIT = Call(CLOCK, "wait", "", (1,))

REJECTED = (
    Rejection(
        "not_oracle",
        "Only the oracle publishes prices.",
        call("update_price", "operator", 0, 1_100_000, T),
        "auth: not oracle",
    ),
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        call("update_price", "oracle", 2, 1_100_000, T),
        "market: unknown market",
    ),
    Rejection(
        "zero_price",
        "A zero price is rejected.",
        call("update_price", "oracle", 0, 0, T),
        "oracle: zero price",
    ),
    Rejection(
        "price_too_large",
        "A price above MAX_PRICE is rejected.",
        call("update_price", "oracle", 0, MAX_PRICE + 1, T),
        "oracle: price too large",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_update(case):
    """A second later, the oracle publishes a new price observed then."""
    case(WAIT)
    case.act("update_price", "oracle", 0, 1_100_000, T + 1)


def test_max_price(case):
    """MAX_PRICE itself is accepted."""
    case(WAIT)
    case.act("update_price", "oracle", 1, MAX_PRICE, T + 1)


def test_older_timestamp(case):
    """A timestamp before the last one is stale."""
    case(Call(CLOCK, "wait", "", (10,)))
    case("update_price", "oracle", 0, 1_010_000, T + 10)
    case.act("update_price", "oracle", 0, 1_020_000, T + 9, reverts="oracle: stale timestamp")


def test_same_timestamp(case):
    """A timestamp equal to the last one is stale."""
    case.price(0, 1_010_000)
    last = case.state.markets[0].price_timestamp
    case.act("update_price", "oracle", 0, 1_020_000, last, reverts="oracle: stale timestamp")


def test_t3_future_timestamp_cannot_freeze_a_market(case):
    """T3: a price stamped 2**256 - 1 used to freeze the market for ever (every later
    update was stale); a timestamp after the block time is refused."""
    case.act("update_price", "oracle", 0, 999_999, 2**256 - 1, reverts="oracle: future timestamp")


def test_first_price_of_new_market(case):
    """A new market's first price, observed at the block time."""
    case.govern("add_market", listing(1), ASSET)
    case.act("update_price", "oracle", 2, 3_000_000, T)


def test_t3_frozen_feed_blocks_withdrawal(case):
    """T3: with the feed frozen, a trader used to withdraw "free collateral" priced at an
    hour-old price; past the market's max_price_age every risk-relevant action refuses."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 1_000 * USDC)
    case(settle_trade("trader0", "trader1", 4_000, 10**6))
    case(Call(CLOCK, "wait", "", (3_601,)))
    case(settle_trade("trader0", "trader1", 1, 10**6), reverts="oracle: stale price")
    case("liquidate", "trader2", "trader1", 0, 1, reverts="oracle: stale price")
    case.act("withdraw", "trader0", 500 * USDC, reverts="oracle: stale price")


def test_fresh_again_after_an_update(case):
    """The same withdrawal goes through once the oracle publishes again."""
    case("deposit", "trader0", 1_000 * USDC)
    case(Call(CLOCK, "wait", "", (3_601,)))
    case.price(0, 10**6)
    case.price(1, 25 * 10**6)
    case.act("withdraw", "trader0", 500 * USDC)
