"""Trades: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/trade/<name>.json``."""

import pytest
from scenarios import ASSET, listing, open_pair

from harness.core.call import CLOCK, Call
from harness.core.genesis import USDC
from harness.vectors.builder import Rejection, settle_trade
from pyspec.constants import MAX_PRICE, MAX_TRADE_SIZE

REJECTED = (
    Rejection(
        "outside_band",
        "A price one unit beyond the band is rejected.",
        settle_trade("trader0", "trader1", 1000, 949_999),
        "trade: price outside band",
        pre=(("deposit", "trader0", 10_000 * USDC), ("deposit", "trader1", 10_000 * USDC)),
    ),
    Rejection(
        "not_operator",
        "Only the operator settles trades.",
        settle_trade("trader0", "trader1", 1, 10**6, sender="outsider"),
        "auth: not operator",
    ),
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        settle_trade("trader0", "trader1", 1, 10**6, market=2),
        "market: unknown market",
    ),
    Rejection(
        "zero_size",
        "A trade of zero lots is rejected.",
        settle_trade("trader0", "trader1", 0, 10**6),
        "trade: zero size",
    ),
    Rejection(
        "size_too_large",
        "A trade above MAX_TRADE_SIZE lots is rejected.",
        settle_trade("trader0", "trader1", MAX_TRADE_SIZE + 1, 10**6),
        "trade: size too large",
    ),
    Rejection(
        "self_trade",
        "Buyer and seller must differ.",
        settle_trade("trader0", "trader0", 1, 10**6),
        "trade: self-trade",
    ),
    Rejection(
        "price_too_large",
        "A price above MAX_PRICE is rejected before the band check.",
        settle_trade("trader0", "trader1", 1, MAX_PRICE + 1),
        "trade: price too large",
    ),
    Rejection(
        "buyer_below_initial_margin",
        "10x is the limit: one lot more breaks the buyer.",
        settle_trade("trader0", "trader1", 10_000, 10**6),
        "trade: buyer below initial margin",
        pre=(("deposit", "trader0", 1_000 * USDC), ("deposit", "trader1", 10_000 * USDC)),
    ),
    Rejection(
        "seller_below_initial_margin",
        "The seller lacks the initial margin.",
        settle_trade("trader0", "trader1", 1000, 10**6, buyer_is_taker=False),
        "trade: seller below initial margin",
        pre=(("deposit", "trader0", 10_000 * USDC), ("deposit", "trader1", 100 * USDC)),
    ),
    Rejection(
        "no_collateral",
        "An account that never deposited cannot open a position.",
        settle_trade("trader6", "trader1", 1, 10**6),
        "trade: buyer below initial margin",
        pre=(("deposit", "trader1", 10_000 * USDC),),
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_open_both_sides(case):
    """Open a long and a short; the buyer pays the taker fee."""
    case("deposit", "trader0", 10_000 * USDC)
    case("deposit", "trader1", 10_000 * USDC)
    case.act(settle_trade("trader0", "trader1", 4_000, 10**6))


def test_buyer_is_maker(case):
    """The seller is the taker: the buyer pays the maker fee."""
    case("deposit", "trader0", 10_000 * USDC)
    case("deposit", "trader1", 10_000 * USDC)
    case.act(settle_trade("trader0", "trader1", 4_000, 1_010_000, buyer_is_taker=False))


def test_market1_no_maker_fee(case):
    """Market 1 has no maker fee and a 0.1% taker fee."""
    case("deposit", "trader2", 10_000 * USDC)
    case("deposit", "trader3", 10_000 * USDC)
    case.act(settle_trade("trader2", "trader3", 100, 25_000_000, market=1, buyer_is_taker=False))


def test_increase(case):
    """Add to a long at a higher price: entry notional adds up."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 5_000)
    case.act(settle_trade("trader0", "trader1", 500, 1_020_000))


def test_reduce(case):
    """Reduce a long at a profit: PnL realized pro rata."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 5_000)
    case("deposit", "trader2", 5_000 * USDC)
    case.price(0, 1_030_000)
    case.act(settle_trade("trader2", "trader0", 300, 1_030_000))


def test_close(case):
    """Close a long: the position and its holder entry disappear."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 5_000)
    case.act(settle_trade("trader1", "trader0", 1_000, 990_000))


def test_flip(case):
    """Sell more than the long: the position flips to a short."""
    open_pair(case, "trader0", "trader1", 1_000, 10**6, 5_000)
    case("deposit", "trader2", 5_000 * USDC)
    case.act(settle_trade("trader2", "trader0", 2_500, 1_000_000, buyer_is_taker=False))


def test_band_edge(case):
    """A price exactly at the band edge (oracle + 5%) is accepted."""
    case("deposit", "trader0", 10_000 * USDC)
    case("deposit", "trader1", 10_000 * USDC)
    case.act(settle_trade("trader0", "trader1", 1_000, 1_050_000))


def test_no_price(case):
    """A market listed but never priced cannot trade."""
    case.govern("add_market", listing(), ASSET)
    case.act(settle_trade("trader0", "trader1", 1, 10**6, market=2), reverts="market: no price")


def test_reduce_below_initial_margin(case):
    """A reducing trade is allowed under initial margin while equity stays non-negative."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case.price(0, 950_000)
    case("deposit", "trader2", 10_000 * USDC)
    case.act(settle_trade("trader2", "trader0", 1_000, 950_000))


def test_reduce_into_negative_equity(case):
    """A short bankrupt after a spike cannot buy back: the buyer would keep negative equity."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 10_000 * USDC)
    case(settle_trade("trader1", "trader0", 9_000, 10**6))
    case.price(0, 1_150_000)
    case("deposit", "trader2", 10_000 * USDC)
    case.act(
        settle_trade("trader0", "trader2", 1_000, 1_150_000), reverts="trade: buyer negative equity"
    )


def test_settles_funding(case):
    """A trade settles pending funding of both sides first."""
    open_pair(case, "trader0", "trader1", 2_000, 10**6, 5_000)
    case("set_funding_rate", "oracle", 0, 1_000_000)
    case(Call(CLOCK, "wait", "", (600,)))
    case.act(
        settle_trade("trader0", "trader1", 500, 10**6), branches=("funding.settled", "fees.charged")
    )


def test_cross_margin(case):
    """Profit on market 1 backs a new position on market 0."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 150, 25_000_000, market=1))
    case.price(1, 27_000_000)
    case.act(settle_trade("trader0", "trader2", 4_500, 10**6))


def test_w6_no_equity_stripping(case):
    """W6: an account below maintenance cannot sell to a colluding account at the band's
    bottom: the trade would lower its equity / maintenance ratio."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 50_000 * USDC)
    case("deposit", "trader2", 50_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 930_000)
    case.act(
        settle_trade("trader2", "trader0", 3_000, 930_000 - 46_500),
        reverts="trade: seller ratio lowered",
    )


def test_below_maintenance_reduction_at_the_oracle(case):
    """A reduction at the oracle price raises the ratio of an account below maintenance:
    allowed."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 50_000 * USDC)
    case("deposit", "trader2", 50_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 930_000)
    case.act(settle_trade("trader2", "trader0", 3_000, 930_000))
