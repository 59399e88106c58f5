"""Socialized losses: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/socialized_loss/<name>.json``."""

from scenarios import no_profitable_short, socialized

from harness.core.genesis import USDC
from harness.vectors.builder import settle_trade


def test_no_profitable_counterparty(case):
    """The only short is not profitable: the whole deficit goes to the shorts' loss index."""
    no_profitable_short(case)  # trader2 took the short over at the crash price
    deficit = -case.equity("trader0")  # shorts now: trader2 at 0.5, not profitable
    assert deficit > 0
    events = case.act("deleverage", "trader1", "trader0", 0, branches=("socialized_loss",))
    assert [name for name, _ in events if name == "Deleverage"] == []
    loss = next(args for name, args in events if name == "SocializedLoss")
    assert loss[2] == deficit  # the whole deficit, exactly
    assert case.equity("trader0") == 0 and case.size("trader0") == 9_000
    # trader2 carries it, charged per lot through the loss index when next touched
    trade_fee = 9_000 * 500_000 * 200 // 10**6  # trader2 was the maker
    assert case.equity("trader2") == 20_000 * USDC - trade_fee - loss[3] * 9_000


def test_zero_equity_remainder_liquidated(case):
    """After socialization the account keeps its position at zero equity: closed without penalty."""
    socialized(case)
    case.act("liquidate", "trader1", "trader0", 0, branches=("liquidation.full",))


def test_charged_on_touch(case):
    """The short carrying the loss index pays it when its account is next touched."""
    socialized(case)
    case.act("deposit", "trader2", 1)


def test_rounding_residue(case):
    """The per-lot charge rounds up; the residue over the open interest goes to the fund."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_001, 10**6))
    case("withdraw_insurance", "owner", 900 * USDC)
    case.price(0, 500_003)
    case(settle_trade("trader1", "trader2", 9_001, 500_003))
    events = case.act("deleverage", "trader1", "trader0", 0, branches=("socialized_loss",))
    assert next(args for name, args in events if name == "SocializedLoss")[4] > 0


def test_short_side_to_longs(case):
    """A bankrupt short with no profitable long: the longs' loss index rises."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader1", "trader0", 9_000, 10**6))
    case("withdraw_insurance", "owner", 900 * USDC)
    case.price(0, 1_400_000)
    case(settle_trade("trader2", "trader1", 9_000, 1_400_000))
    case.act("deleverage", "outsider", "trader0", 0, branches=("socialized_loss",))
