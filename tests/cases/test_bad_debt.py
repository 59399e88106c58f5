"""Bad debt: a deficit that neither the fund nor ADL counterparties could absorb is
written off once the bankrupt account holds no position, recorded, and repaid first by
everything that flows into the fund. Each case runs on the spec and on both chains, then
renders or checks ``tests/vectors/bad_debt/<name>.json``."""

import pytest
from scenarios import ALL, booked_beside_a_long, no_profitable_short, rewards_paid, socialized

from harness.core.call import CLOCK, Call
from harness.core.genesis import USDC
from harness.core.invariants import InvariantViolation
from harness.core.sequence import check_properties
from harness.core.spec_step import spec_apply
from harness.vectors.builder import Builder, settle_trade
from pyspec import engine, margin, views


def test_no_profitable_counterparty(case):
    """The only short is bankrupt itself (cross margin): the fund pays what it holds, the
    short takes the position over at the oracle price uncharged, and the rest is recorded
    as bad debt."""
    no_profitable_short(case)
    deficit, fund = -case.equity("trader0"), case.state.insurance_fund
    events = case.act("deleverage", "trader1", "trader0", branches=("bad_debt",))
    assert [args[5] for name, args in events if name == "Deleverage"] == [0]
    assert case.state.bad_debt == deficit + rewards_paid(events) - fund  # the reward too (N9)
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


def leaving(state, address: str) -> int:
    """What ``address`` is paid, on a copy of ``state``, withdrawing all its collateral."""
    state = state.copy()
    state.events.clear()
    engine.process_withdraw(state, address, state.accounts[address].collateral)
    return paid(state.events)


def test_i18_new_money_leaves_at_face(case):
    """Issue 18, the loss rule's new money (SPEC.md, "Who bears a loss recorded before a
    deposit"): while bad debt is recorded a deposit is new money, which a withdrawal takes
    first, at face; the old claims alone bear the loss recorded before it. trader5's
    10,000 USDC, withdrawn at once, pays back 10,000; trader6, whose claim bore the loss,
    leaves with the same 9,096.20 before and after. On the design before, the deposit
    joined the claims at face: it paid back 9,286.52 and trader6 left with 190.32 more."""
    socialized(case, early=(("trader6", 10_000),))
    trader5, trader6 = case.address("trader5"), case.address("trader6")
    assert leaving(case.state, trader6) == 9_096_195_602
    assert views.new_money(case.state, trader5) == 0
    case("deposit", "trader5", 10_000 * USDC)
    assert views.new_money(case.state, trader5) == 10_000 * USDC
    assert leaving(case.state, trader6) == 9_096_195_602
    assert views.withdrawal_haircut(case.state, trader5, 10_000 * USDC) == 0
    case.pair.check_views(["trader5", "trader6"])  # on the chain too
    events = case.act("withdraw", "trader5", 10_000 * USDC)
    assert paid(events) == 10_000 * USDC
    assert ("Haircut", (trader5, 0, 10_000 * USDC)) in events


def test_i18_new_money_shares_no_recovery(case):
    """Issue 18: crediting deposits at the claims' value was built and withdrawn because a
    deposit shared a recovery its depositor set off in the same transaction (a review's
    attacker took 2,969.72 USDC of a 3,305 repayment). New money shares none: the outsider
    deposits 500,000 USDC, deleverages trader0, whose 200 USDC of new profit repays its
    loss record (bad debt first), and withdraws its 500,000 at face, not a unit more; the
    whole repayment went to the old claims."""
    booked_beside_a_long(case)
    case.price(1, 7 * USDC)  # trader0's long gains 200 USDC: what it owes repays first
    bad_debt = case.state.bad_debt
    assert bad_debt > 0
    case("deposit", "outsider", 500_000 * USDC)
    events = case("deleverage", "outsider", "trader0")
    assert ("LossRepaid", (case.address("trader0"), 200 * USDC, 0)) in events
    assert case.state.bad_debt == bad_debt - 200 * USDC
    assert paid(case.act("withdraw", "outsider", 500_000 * USDC)) == 500_000 * USDC


def test_i18_residual_a_later_loss_makes_new_money_old(case):
    """Issue 18, stated (SPEC.md, "New money after a later loss"): new money is spared
    the loss recorded before it until the next loss, of any size. A review made one with
    funding: a pair opened 2 lots with 0.20 USDC each and let funding at its bound take
    the long below zero, a 0.0005 USDC deficit no deleverage can charge (funding is
    principal). trader5's 100,000 USDC of new money became old: it now leaves with
    97,535.65, what every deposit paid before new money, and trader6, an old claim,
    with 657.37 more. Sharing a later loss by what each claim is still worth was built
    and withdrawn: a second review showed that money can move from the new claims to
    the old ones through unrealized PnL and leave the new ones' debt behind."""
    socialized(case, early=(("trader6", 10_000),))
    trader5, trader6 = case.address("trader5"), case.address("trader6")
    case("deposit", "trader5", 100_000 * USDC)
    before = leaving(case.state, trader6)
    assert leaving(case.state, trader5) == 100_000 * USDC
    case("deposit", "trader3", 200_000)
    case("deposit", "trader4", 200_000)
    case(settle_trade("trader3", "trader4", 2, 500_000))
    case("set_funding_rate", "oracle", 0, 1_388_888)  # longs pay 0.5% an hour
    while margin.equity(case.state, case.address("trader3")) >= 0:
        case(Call(CLOCK, "wait", "", (3_000,)))
        case.price(0, 500_000)
        case.price(1, case.state.markets[1].price)
    events = case("deleverage", "trader3", "trader3")
    loss = next(args[1] for name, args in events if name == "BadDebt")
    assert 0 < loss < USDC // 100
    assert views.new_money(case.state, trader5) == 0
    assert leaving(case.state, trader5) == 97_535_650_371
    assert leaving(case.state, trader6) - before == 657_369_435
    assert paid(case.act("withdraw", "trader5", 100_000 * USDC)) == 97_535_650_371


def test_i18_review_new_money_ends_with_the_bad_debt(case):
    """Issue 18, a review of new money: a first design kept the new money recorded after
    a top-up repaid the bad debt, and the engine's withdrawal computed the old claims, E -
    F, even then. trader3 and trader5 had deposited 500,000 USDC of new money; with the
    debt repaid, trader4 bought 3,000,000 lots from trader3 at the band's edge, sold them
    to trader5 at the oracle price and withdrew its gain: E fell below F, and every
    withdrawal on the chain reverted (an underflow) while the spec paid. Now the epoch ends
    when the bad debt is repaid in full: no new money is left to count."""
    socialized(case, early=(("trader6", 10_000),))
    case("deposit", "trader3", 300_000 * USDC)
    case("deposit", "trader5", 200_000 * USDC)
    assert case.state.fresh_total == 500_000 * USDC
    case("top_up_insurance", "outsider", case.state.bad_debt)
    assert case.state.bad_debt == 0 and case.state.fresh_total == 0
    case("deposit", "trader4", 150_000 * USDC)
    case(settle_trade("trader3", "trader4", 3_000_000, 525_000, buyer_is_taker=False))
    case(settle_trade("trader4", "trader5", 3_000_000, 500_000, buyer_is_taker=False))
    case("withdraw", "trader4", case.state.accounts[case.address("trader4")].collateral)
    assert paid(case.act("withdraw", "trader6", 10_000 * USDC)) == 10_000 * USDC


def test_i18_losses_consume_old_money_first(case):
    """Issue 18: new money is at most the collateral its account holds, and a loss takes
    the old money first. trader5 holds 2,000 USDC from before the loss and deposits 1,000
    of new money; it sells 1,000 lots to trader6 at 0.50 and buys them back at 3.00, a
    2,500 USDC loss: of its 3,000 it keeps about 500, all of it new money, which it
    withdraws at face."""
    socialized(case, early=(("trader5", 2_000), ("trader6", 10_000)))
    trader5 = case.address("trader5")
    case("deposit", "trader5", 1_000 * USDC)
    assert views.new_money(case.state, trader5) == 1_000 * USDC
    case(settle_trade("trader6", "trader5", 1_000, 500_000))
    case.price(0, 3 * USDC)
    case(settle_trade("trader5", "trader6", 1_000, 3 * USDC))
    collateral = case.state.accounts[trader5].collateral
    assert 0 < collateral < 1_000 * USDC and case.state.bad_debt > 0
    assert views.new_money(case.state, trader5) == collateral
    assert paid(case.act("withdraw", "trader5", collateral)) == collateral


def booked(case, name: str) -> int:
    return case.state.accounts[case.address(name)].booked


def test_i19_m1_owed_gain_repays_first(case):
    """Issue 19, M-1 (a review's free option): others paid trader0's market-0 deficit
    (3,305 USDC, fund and bad debt) while it kept a market-1 long. Market 1 then rises
    from 5 to 7 USDC: the long gains 200 USDC. On the design before, trader0 sold the long
    and withdrew the gain (186.58 USDC after its haircut) while its loss stayed shared.
    Now it owes what others paid: its closing trade repays the 200 first (bad debt first)
    and leaves it nothing to withdraw."""
    booked_beside_a_long(case)
    owed, bad_debt = booked(case, "trader0"), case.state.bad_debt
    assert owed == 3_305 * USDC and case.equity("trader0") == 0
    case.price(1, 7 * USDC)
    assert case.equity("trader0") == 200 * USDC
    events = case.act(settle_trade("trader3", "trader0", 100, 7 * USDC, market=1))
    assert ("LossRepaid", (case.address("trader0"), 200 * USDC, 0)) in events
    fees = sum(next(args[5:] for name, args in events if name == "Trade"))
    assert case.state.bad_debt == bad_debt - 200 * USDC - fees  # fees repay it too
    assert case.size("trader0", 1) == 0 and case.equity("trader0") <= 0


def test_i19_m1_owed_gain_repays_in_the_deleverage(case):
    """Issue 19, M-1: as above, but nobody buys the long: the deleverage anyone may call
    on an account that owes repays the 200 USDC first, closes the long uncharged and
    forgives the rest of the record, as nothing is left open."""
    booked_beside_a_long(case)
    owed, bad_debt = booked(case, "trader0"), case.state.bad_debt
    case.price(1, 7 * USDC)
    events = case.act("deleverage", "outsider", "trader0")
    assert ("LossRepaid", (case.address("trader0"), 200 * USDC, 0)) in events
    assert ("LossRepaid", (case.address("trader0"), 0, owed - 200 * USDC)) in events
    assert case.state.bad_debt == bad_debt - 200 * USDC
    assert booked(case, "trader0") == 0 and case.size("trader0", 1) == 0


def test_i19_m1_new_money_owes_nothing(case):
    """Issue 19, M-1: trader0 repaid 200 USDC of its 3,305 record when it sold its long;
    with nothing left open the rest is forgiven before its next deposit is credited, so
    new money never repays an old loss."""
    booked_beside_a_long(case)
    owed = booked(case, "trader0")
    case.price(1, 7 * USDC)
    case(settle_trade("trader3", "trader0", 100, 7 * USDC, market=1))
    events = case.act("deposit", "trader0", 1_000 * USDC)
    assert ("LossRepaid", (case.address("trader0"), 0, owed - 200 * USDC)) in events
    assert booked(case, "trader0") == 0 and case.equity("trader0") == 1_000 * USDC


def test_i19_m1_owed_gain_repays_before_a_trade(case):
    """Issue 19, M-1: as above, but market 1 rises to 45 USDC, a 4,000 USDC gain, more
    than the 3,305 trader0 owes: its closing trade repays all of it first (bad debt first,
    then the fund) and goes through; trader0 keeps the rest, less the fee."""
    booked_beside_a_long(case)
    owed = booked(case, "trader0")
    case.price(1, 45 * USDC)
    events = case.act(settle_trade("trader3", "trader0", 100, 45 * USDC, market=1))
    assert ("LossRepaid", (case.address("trader0"), owed, 0)) in events
    assert booked(case, "trader0") == 0 and case.state.bad_debt == 0
    fee = next(args[6] for name, args in events if name == "Trade")
    assert case.equity("trader0") == 4_000 * USDC - owed - fee


def half_liquidated_at_bankruptcy(case) -> None:
    """trader0's 5,000-lot long on 1,000 USDC falls from 1.00 to 0.78, past bankruptcy;
    trader3 takes 2,500 lots over and the fund covers that half's deficit."""
    case("deposit", "trader0", 1_000 * USDC)
    for trader in ("trader1", "trader3", "trader4"):
        case("deposit", trader, 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 5_000, 10**6))
    case.price(0, 780_000)
    case("liquidate", "trader3", "trader0", 0, 2_500)


def test_i19_m1_liquidation_cover_is_owed(case):
    """Issue 19, M-1 (a review of the loss record): a liquidator takes half of a bankrupt
    long and the fund covers that half's deficit, 51.25 USDC; trader0 keeps 2,500 lots.
    On the record's first design only a deleverage recorded what others paid, so when
    the price came back to 0.85 trader0 sold and withdrew 123.325 USDC, 51.25 of it the
    fund's. Now the cover is owed too, and the sale repays it first."""
    half_liquidated_at_bankruptcy(case)
    assert booked(case, "trader0") == 51_250_000 and case.size("trader0") == 2_500
    case.price(0, 850_000)
    events = case.act(settle_trade("trader4", "trader0", 2_500, 850_000))
    assert ("LossRepaid", (case.address("trader0"), 51_250_000, 0)) in events
    fee = next(args[6] for name, args in events if name == "Trade")
    assert case.equity("trader0") == 123_750_000 - 51_250_000 - fee


def test_i19_m1_deposit_while_owing_refused(case):
    """Issue 19, M-1 (a review of the loss record): trader0 owes 3,305 USDC at equity 0
    and still holds its market-1 long. A deposit to margin the long would only repay the
    record (the next deleverage took all 1,000 USDC of it): it is refused, and nothing
    is lost."""
    booked_beside_a_long(case)
    case.act("deposit", "trader0", 1_000 * USDC, reverts="deposit: loss owed")


def owing_beside_a_liquidatable_long(case) -> None:
    """trader0 owes 3,305 USDC beside its market-1 long (``booked_beside_a_long``);
    trader4 holds a 9,000-lot market-0 long at 0.50 that a fall to 0.45 leaves below
    maintenance, still solvent."""
    booked_beside_a_long(case)
    case("deposit", "trader4", 500 * USDC)
    case("deposit", "trader5", 20_000 * USDC)
    case(settle_trade("trader4", "trader5", 9_000, 500_000))
    case.price(0, 450_000)


def test_i19_m1_owing_liquidator_repays_first(case):
    """Issue 19, M-1 (a second review of the loss record): market 1 at 45 USDC puts
    trader0 at equity 4,000 while it owes 3,305: 695 of its own, against the 900 USDC
    initial margin of its long. On the record's second design a liquidator was judged on
    its whole equity and repaid nothing: trader0 took trader4's 9,000 lots over, and
    when market 0 fell to 0.30 its next deleverage repaid 2,729.65 of the 3,305 (575.35
    lost to the books), where a rise to 0.60 would have left it 1,308.01 USDC more. Now a
    liquidator repays first, as a trader does, and takes over on margin of its own."""
    owing_beside_a_liquidatable_long(case)
    case.price(1, 45 * USDC)
    case.act(
        "liquidate",
        "trader0",
        "trader4",
        0,
        ALL,
        reverts="liquidate: liquidator below initial margin",
    )


def test_i19_m1_owing_liquidator_with_margin_of_its_own(case):
    """Issue 19, M-1: at 60 USDC trader0's long gained 5,500, more than the 3,305 it owes:
    its takeover of trader4's long repays the whole record first, then goes through."""
    owing_beside_a_liquidatable_long(case)
    owed = booked(case, "trader0")
    case.price(1, 60 * USDC)
    events = case.act("liquidate", "trader0", "trader4", 0, ALL)
    assert ("LossRepaid", (case.address("trader0"), owed, 0)) in events
    assert booked(case, "trader0") == 0 and case.size("trader0") > 0


def test_i19_m1_owing_winner_not_charged_for_another(case):
    """Issue 19, M-1 (a third review of the loss record): trader0 owes 3,305 USDC and is
    market 1's only long but for a sybil pair; at 30 USDC its long is worth 2,500, all of
    it owed. The pair's short side (trader4, 500 USDC) is 2,000 short. On the record's
    third design the ADL side read trader0's whole equity: deleveraging trader4 first
    charged trader0 1,000 of it, so its own deleverage then repaid 1,500 instead of 2,500
    and the pair's long (trader5) ended 1,000 USDC richer. Now the side reads equity
    above what a holder owes: trader0 is not eligible, trader5 pays the 2,000."""
    booked_beside_a_long(case)
    case("deleverage", "outsider", "trader1")
    case("deposit", "trader4", 500 * USDC)
    case("deposit", "trader5", 2_000 * USDC)
    case(settle_trade("trader5", "trader4", 100, 5 * USDC, market=1))
    case.price(1, 30 * USDC)
    assert case.equity("trader0") == 2_500 * USDC and case.equity("trader4") == -2_000 * USDC
    events = case.act("deleverage", "trader5", "trader4")
    charged = {c: a for name, (_, c, _, _, _, a) in (e for e in events if e[0] == "Deleverage")}
    assert charged.get(case.address("trader0"), 0) == 0
    # trader5, the keeper, also pays its own reward, which joins the deficit (N9)
    assert charged[case.address("trader5")] == 2_000 * USDC + rewards_paid(events)


def test_i19_m1_owing_account_waits_for_the_bankrupt_opposite(case):
    """Issue 19, M-1 (a fourth review of the loss record): at 30 USDC trader0's long is
    worth 2,500 while it owes 3,305, and trader4's short opposite it is 2,000 short, first
    among the shorts in holder order; trader5, long, would pay that 2,000. On the record's
    fourth design trader5 deleveraged the owing trader0 first: its long closed at a zero
    share against trader4, whose short closed at the oracle price and whose 2,000 went
    to bad debt, and trader5 kept them. Now a solvent account that owes waits, as a trade
    or a withdrawal does, while a holder opposite its position in profit is bankrupt."""
    booked_beside_a_long(case)
    case("deleverage", "outsider", "trader1")
    case("deposit", "trader4", 500 * USDC)
    case(settle_trade("trader3", "trader4", 100, 5 * USDC, market=1))
    case("deposit", "trader5", 2_000 * USDC)
    case("deposit", "trader6", 20_000 * USDC)
    case(settle_trade("trader5", "trader6", 100, 5 * USDC, market=1))
    case.price(1, 30 * USDC)
    assert case.equity("trader4") == -2_000 * USDC
    case.act("deleverage", "trader5", "trader0", reverts="adl: deficit pending")


def test_i19_m1_keeper_reward_is_new_money(case):
    """Issue 19, M-1 (the fourth review): two liquidations closed trader0's bankrupt long,
    the first with 51.25 USDC of the fund's cover recorded as owed, and left it nothing
    open, so the record only waits to end. trader0 then deleverages trader5 as a keeper.
    On the record's fourth design the 3.00 USDC reward went to the record at trader0's
    next withdrawal or deposit; now the record ends before the reward is credited."""
    half_liquidated_at_bankruptcy(case)
    case("liquidate", "trader3", "trader0", 0, ALL)
    assert booked(case, "trader0") == 51_250_000 and case.size("trader0") == 0
    case("deposit", "trader5", 100 * USDC)
    case(settle_trade("trader5", "trader1", 1_000, 780_000))
    case.price(0, 600_000)
    events = case.act("deleverage", "trader0", "trader5")
    assert ("LossRepaid", (case.address("trader0"), 0, 51_250_000)) in events
    reward = next(args[2] for name, args in events if name == "KeeperReward")
    assert booked(case, "trader0") == 0 and case.equity("trader0") == reward > 0


def test_i19_m1_the_property_sees_a_missing_repayment(embedded_pair, monkeypatch):
    """``owed_repaid_first`` sees the free option by itself: with the repayment taken out
    of the spec, the owing account's closing trade after the rise fails it."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "bad_debt", "unused", "")
    booked_beside_a_long(b)
    b.price(1, 7 * USDC)
    call = b.resolve(settle_trade("trader3", "trader0", 100, 7 * USDC, market=1))
    monkeypatch.setattr(margin, "repay_booked", lambda state, address: None)
    before = embedded_pair.state.copy()
    after, reason, events = spec_apply(before.copy(), embedded_pair.actors, call)
    assert reason is None
    with pytest.raises(
        InvariantViolation, match="owed 3305000000 at equity 200000000; it repaid 0"
    ):
        check_properties(embedded_pair.actors, [(call, before, after, events)])
