"""Bad debt: a deficit that neither the fund nor ADL counterparties could absorb is
written off once the bankrupt account holds no position, recorded, and repaid first by
everything that flows into the fund. Each case runs on the spec and on both chains, then
renders or checks ``tests/vectors/bad_debt/<name>.json``."""

from scenarios import ALL, no_profitable_short, socialized

from harness.core.genesis import USDC
from harness.vectors.builder import settle_trade


def test_no_profitable_counterparty(case):
    """The only short is bankrupt itself (cross margin): the fund pays what it holds, the
    short takes the position over at the oracle price uncharged, and the rest is recorded
    as bad debt."""
    no_profitable_short(case)
    deficit, fund = -case.equity("trader0"), case.state.insurance_fund
    events = case.act("deleverage", "trader1", "trader0", branches=("bad_debt",))
    assert [args[5] for name, args in events if name == "Deleverage"] == [0]
    assert case.state.bad_debt == deficit - fund
    assert case.state.insurance_fund == 0
    assert case.size("trader0") == 0 and case.equity("trader0") == 0


def test_w1_no_free_option(case):
    """W1: once its deficit is resolved the bankrupt account holds nothing: when the price
    comes back it has no position to profit from."""
    socialized(case)
    assert case.size("trader0") == 0 and case.equity("trader0") == 0
    case.price(0, 10**6)
    case.act("deposit", "trader0", 1)
    assert case.equity("trader0") == 1


def test_repaid_by_fees(case):
    """Trading fees repay recorded bad debt before the fund grows again."""
    socialized(case)
    debt = case.state.bad_debt
    case("deposit", "trader3", 10_000 * USDC)
    case("deposit", "trader4", 10_000 * USDC)
    events = case.act(settle_trade("trader3", "trader4", 1_000, 500_000))
    _, _, _, _, _, buyer_fee, seller_fee = events[-1][1]
    assert case.state.bad_debt == debt - buyer_fee - seller_fee
    assert case.state.insurance_fund == 0


def test_repaid_by_top_up(case):
    """A top-up larger than the bad debt repays it and the rest refills the fund."""
    socialized(case)
    debt = case.state.bad_debt
    case.act("top_up_insurance", "outsider", debt + 5 * USDC)
    assert case.state.bad_debt == 0 and case.state.insurance_fund == 5 * USDC


def test_w8_no_fund_withdrawal_with_bad_debt(case):
    """W8: the fund cannot be withdrawn while bad debt is recorded."""
    socialized(case)
    case("top_up_insurance", "outsider", 1_000 * USDC)  # repays the debt first
    assert case.state.bad_debt > 0
    case.act(case.governed("withdraw_insurance", 1), reverts="insurance: bad debt pending")


def test_w8_no_fund_withdrawal_before_deleverage(case):
    """W8: nor while an account holds a position at negative equity, before anyone has
    called deleverage."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 50_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 850_000)
    assert case.equity("trader0") < 0
    case.act(case.governed("withdraw_insurance", 1), reverts="insurance: bad debt pending")


def test_short_side_to_longs(case):
    """A bankrupt short whose only long is bankrupt itself (its short on market 1 lost
    more than its collateral and its profit here): the long takes it over uncharged and
    the deficit beyond the fund is bad debt."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 3_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader1", "trader0", 9_000, 10**6))
    case(settle_trade("trader2", "trader1", 400, 25 * USDC, market=1))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(1, 45 * USDC)  # trader1: -8,000 USDC on market 1
    case.price(0, 1_400_000)  # trader0: -3,600 USDC on 1,000
    assert case.equity("trader1") < 0
    case.act("deleverage", "outsider", "trader0", branches=("bad_debt",))


def test_bankrupt_piece_refused_while_fund_empty(case):
    """With bad debt recorded the fund is empty: a liquidation of a bankrupt account,
    whose deficit share the fund would have to cover, is refused, and deleverage remains
    (a solvent account is liquidated all the same: ``liquidation/n5_...``)."""
    socialized(case)
    case("deposit", "trader3", 2_000 * USDC)
    case("deposit", "trader4", 50_000 * USDC)
    case(settle_trade("trader3", "trader4", 19_000, 500_000))
    case.price(0, 390_000)  # trader3 lost 2,090 USDC of 2,000
    assert case.equity("trader3") < 0
    case("deposit", "trader5", 20_000 * USDC)  # trader4 is the winner: gated (issue 19)
    case.act(
        "liquidate", "trader5", "trader3", 0, ALL, reverts="liquidate: insurance fund insufficient"
    )


def paid(events: list) -> int:
    return next(args[1] for name, args in events if name == "Withdrawal")


def test_bank_run_paid_pro_rata(case):
    """The bank run behind N2: trader5 and trader6 never traded; they deposited 10,000 USDC
    each before a bankruptcy left bad debt. Each withdrawal pays the same pro-rata share of
    the claim and repays the debt with the rest, so the first to leave gets what the last
    gets: the old design paid the first in full and left the shortfall to whoever came
    last."""
    for trader in ("trader5", "trader6"):
        case("deposit", trader, 10_000 * USDC)
    socialized(case)
    assert case.state.bad_debt > 0
    first = paid(case("withdraw", "trader5", 10_000 * USDC))
    second = paid(case.act("withdraw", "trader6", 10_000 * USDC))
    assert first < 10_000 * USDC and abs(first - second) <= 1
