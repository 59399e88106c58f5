"""Auto-deleveraging: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/adl/<name>.json``. ``test_w*`` are the regression scenarios of the design
review's findings (SPEC.md, Findings)."""

import collections
import itertools

import pytest
from scenarios import (
    ALL,
    INSURANCE_FLOOR,
    booked_beside_a_long,
    drained_fund,
    flash_crash,
    listing,
    rewards_paid,
    use_policy,
)

from deployment.config import asset_id
from harness.core import adl_record, adl_rounds, recompute
from harness.core.call import Call
from harness.core.genesis import USDC
from harness.core.invariants import InvariantViolation
from harness.core.sequence import check_properties
from harness.core.spec_step import spec_apply
from harness.vectors.builder import Builder, Rejection, call, settle_trade
from pyspec import adl, adl_allocator, engine, governance, margin, views
from pyspec.constants import MAX_KEEPER_REWARD

REJECTED = (
    Rejection(
        "no_position",
        "An account without positions has nothing to deleverage.",
        call("deleverage", "outsider", "trader0"),
        "adl: no position",
    ),
    Rejection(
        "set_policy_not_governor",
        "A market's ADL policy changes only through the Governor's delay, even for its owner.",
        call("set_market_params", "owner", 0, listing(adl_policy=0)),
        "auth: not governor",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def fills_of(case, events) -> list[tuple[str, int, int]]:
    return [(case.names[a[1]], a[3], a[5]) for name, a in events if name == "Deleverage"]


def test_several_counterparties(case):
    """The queue: the fund pays first (down to zero), then three shorts absorb the rest of
    a bankrupt long's deficit in PnL% rank order, closing it exactly."""
    use_policy(case, "queue")
    drained_fund(case)  # trader0: -2,910 USDC on 1,000; the fund at its floor (and fees)
    deficit, fund = -case.equity("trader0"), case.state.insurance_fund
    events = case.act("deleverage", "outsider", "trader0", branches=("adl.several_counterparties",))
    fills = fills_of(case, events)
    # trader3 sold highest (best PnL%); trader1 and trader2 tie, the lower address first
    assert [name for name, _, _ in fills] == ["trader3", "trader2", "trader1"]
    assert sum(size for _, size, _ in fills) == 9_700  # exactly the bankrupt size
    # the keeper's reward joins the deficit (N9)
    assert sum(absorbed for _, _, absorbed in fills) == deficit + rewards_paid(events) - fund
    assert case.state.insurance_fund == 0 and case.state.bad_debt == 0
    assert case.size("trader0") == 0 and case.equity("trader0") == 0


def test_one_counterparty(case):
    """A single profitable short absorbs the whole bankrupt long."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 800_000)
    case.act(
        "deleverage",
        "trader4",
        "trader0",
        branches=("adl.one_counterparty", "adl.charged.pnl_pro_rata"),
    )


def test_bankrupt_short(case):
    """A bankrupt short after a spike is closed against the longs."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader1", "trader0", 5_000, 10**6))
    case(settle_trade("trader2", "trader0", 4_000, 990_000, buyer_is_taker=False))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 1_300_000)
    case.act("deleverage", "outsider", "trader0", branches=("adl.several_counterparties",))


def test_cascade_after_liquidations(case):
    """The flash crash ends in ADL of the 8x long."""
    flash_crash(case)
    case.price(0, 900_000)
    case("liquidate", "trader3", "trader0", 0, ALL)
    case("liquidate", "trader3", "trader1", 0, ALL)
    case.price(0, 800_000)
    case("deposit", "trader6", 40_000 * USDC)  # the shorts are winners: gated (issue 19)
    case("liquidate", "trader6", "trader0", 0, ALL)
    case.act("deleverage", "outsider", "trader1")


def test_flash_crash_cascade(case):
    """A flash crash: 9x and 8x longs partly liquidated at -10%, the 6x at -15%; at -20%
    the fund covers two bankrupt pieces and cannot finance the third, which ADL closes."""
    flash_crash(case)
    case.price(0, 900_000)
    for target in ("trader0", "trader1"):
        events = case("liquidate", "trader3", target, 0, ALL)
        assert [name for name, _ in events].count("Liquidation") == 1
    case("liquidate", "trader3", "trader2", 0, ALL, reverts="liquidate: account healthy")
    case.price(0, 850_000)
    # from here a holder is bankrupt, so the shorts, its winners, are gated (issue 19)
    case("deposit", "trader6", 40_000 * USDC)
    case("liquidate", "trader6", "trader2", 0, ALL)
    case.price(0, 800_000)
    fund = case.state.insurance_fund
    for target in ("trader0", "trader2"):
        events = case("liquidate", "trader6", target, 0, ALL)
        assert "InsuranceCover" in [name for name, _ in events]
    assert case.state.insurance_fund < fund
    case(
        "liquidate", "trader6", "trader1", 0, ALL, reverts="liquidate: insurance fund insufficient"
    )
    case.act(
        "deleverage",
        "outsider",
        "trader1",
        branches=("insurance.covers", "adl.charged.pnl_pro_rata"),
    )
    for target in ("trader0", "trader1", "trader2"):
        assert case.size(target) == 0 and case.equity(target) == 0


def test_fund_covers_all(case):
    """The fund holds more than the deficit: it pays it all and ADL closes the position at
    the oracle price, charging no counterparty."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 880_000)
    deficit = -case.equity("trader0")
    fund = case.state.insurance_fund
    events = case.act(
        "deleverage", "outsider", "trader0", branches=("insurance.covers", "adl.keeper_paid")
    )
    assert fills_of(case, events) == [("trader1", 9_000, 0)]
    reward = keeper_reward(case, 9_000 * 880_000)
    assert case.state.insurance_fund == fund - deficit - reward


def keeper_reward(case, notional: int, market_id: int = 0) -> int:
    """A liquidator's reward on ``notional`` in the market: its share of the fee, rounded
    down, at least one unit (recomputed here, not read from the spec)."""
    fee = -(-notional * case.state.markets[market_id].liquidation_fee_ratio // 10**6)
    return max(fee * case.state.liquidator_share_ratio // 10**6, 1)


def rewards_of(case, events) -> list[tuple[str, str, int]]:
    names = case.names
    return [(names[a[0]], names[a[1]], a[2]) for name, a in events if name == "KeeperReward"]


def test_n9_keeper_paid_what_a_liquidator_earns(case):
    """N9: nobody was paid to deleverage (1.13M gas for 27 fills): liveness rested on
    altruists. Now, once the deficit is covered, the fund pays the caller what a liquidator
    of the same position would earn, credited to its margin account."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 880_000)
    events = case.act("deleverage", "outsider", "trader0", branches=("adl.keeper_paid",))
    reward = keeper_reward(case, 9_000 * 880_000)
    assert reward > 1 and rewards_of(case, events) == [("outsider", "trader0", reward)]
    assert case.state.accounts[case.pair.actors["outsider"]].collateral == reward


def test_n9_reward_never_charged_to_later_winners(case):
    """N9 (review of the first design): the first call closes the bankrupt account's flat
    market-0 position, while its market-1 deficit (284.50 USDC) is already known. Paid
    from the fund, the reward (20 USDC) would have come out of the cover of the second
    call, and so out of market 1's winner; charged to market 0's winners (a review of
    the reward joining the deficit), whom the no-dodge gate does not hold, a winner could
    dodge it. A position holding no part of the deficit (a zero share) earns no reward:
    the fund is kept for the deficit."""
    case("deposit", "trader0", 920 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 4_000, 10**6))
    case(settle_trade("trader0", "trader2", 100, 25 * 10**6, market=1))
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR - 30 * USDC)
    case.price(1, 13 * 10**6)
    fund = case.state.insurance_fund
    events = case.act("deleverage", "outsider", "trader0")
    assert rewards_of(case, events) == [] and case.state.insurance_fund == fund
    assert case.size("trader0") == 0 and case.equity("trader0") < 0  # market 1 still open
    events = case("deleverage", "outsider", "trader0")  # market 1: the deficit's market
    reward = keeper_reward(case, 1_300 * USDC, market_id=1)
    assert rewards_of(case, events) == [("outsider", "trader0", reward)]


def test_n9_review_no_reward_to_dodge_on_a_zero_share(case):
    """N9, a review of the reward joining the deficit: trader0 is bankrupt by its market-0
    long alone; its market-1 long, bought at the price it stands at, lost nothing. The
    no-dodge gate does not hold trader2, market 1's winner (trader0 has no loss there), so
    a reward charged to market 1's winners could be dodged by trader2 closing first (the
    first version charged it the keeper's 90 USDC, or left them to bad debt after the
    dodge). A zero share earns no reward: the market-1 call charges nobody."""
    for trader, amount in (("trader0", 3_100), ("trader1", 20_000), ("trader5", 5_000)):
        case("deposit", trader, amount * USDC)
    for trader in ("trader2", "trader3"):
        case("deposit", trader, 5_000 * USDC)
    case(settle_trade("trader5", "trader2", 400, 25 * USDC, market=1))
    case.price(1, 22_500_000)  # trader2's short: +1,000 USDC
    case(settle_trade("trader0", "trader3", 400, 22_500_000, market=1))
    case(settle_trade("trader0", "trader1", 10_000, 10**6))
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR)
    case.price(0, 600_000)  # trader0 bankrupt by market 0 alone
    paid = rewards_of(case, case("deleverage", "outsider", "trader0"))
    assert [(keeper, account) for keeper, account, _ in paid] == [("outsider", "trader0")]
    assert case.equity("trader0") == 0 and case.size("trader0", 1) == 400
    events = case.act("deleverage", "outsider", "trader0")
    assert rewards_of(case, events) == []
    assert [absorbed for _, _, absorbed in fills_of(case, events)] == [0]


def test_n9_review_a_unit_of_deficit_earns_a_unit(case):
    """N9, a second review of the reward joining the deficit: trader0's market-0 long has
    one lot bought a unit above the price it stands at, so its deficit share there is one
    unit (floored), not zero, and the call closing it earned the full 20 USDC reward,
    covered by the fund before market 1's deficit (market 1's winner paid 187.500002 USDC
    instead of 167.50); a position held on both sides by one owner carried a 100 USDC
    reward into bad debt the same way. A keeper earns at most the deficit share its call
    resolves: here one unit."""
    case("deposit", "trader0", 920 * USDC)
    case("deposit", "trader1", 40_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 3_999, 10**6))
    case(settle_trade("trader0", "trader1", 1, 10**6 + 1))  # a unit under water there
    case(settle_trade("trader0", "trader2", 100, 25 * 10**6, market=1))
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR - 30 * USDC)
    case.price(1, 13 * 10**6)
    fund = case.state.insurance_fund
    events = case.act("deleverage", "outsider", "trader0", branches=("adl.keeper_paid",))
    assert rewards_of(case, events) == [("outsider", "trader0", 1)]
    assert case.state.insurance_fund == fund - 2  # the unit of deficit and its reward


def test_n9_keeper_reward_capped(case):
    """N9 (review): a liquidator's reward on a large position (132 USDC on 26,400 USDC)
    is more than the gas of any deleverage needs; the keeper gets MAX_KEEPER_REWARD."""
    case("deposit", "trader0", 3_100 * USDC)
    case("deposit", "trader1", 40_000 * USDC)
    case(settle_trade("trader0", "trader1", 30_000, 10**6))
    case.price(0, 880_000)
    assert keeper_reward(case, 30_000 * 880_000) == 132 * USDC
    events = case.act("deleverage", "outsider", "trader0", branches=("adl.keeper_paid",))
    assert rewards_of(case, events) == [("outsider", "trader0", MAX_KEEPER_REWARD)]


def test_n9_keeper_paid_with_an_empty_fund(case):
    """N9 (issue 19): with the fund at its floor and a larger deficit, the keeper is still
    paid its reward: it joins the deficit, which the fund covers down to zero and the
    winners pay the rest of. Before, the fund paid rewards only above its floor: the keeper
    got nothing, and deleveraging rested on altruists exactly when the fund was empty."""
    drained_fund(case)
    deficit, fund = -case.equity("trader0"), case.state.insurance_fund
    events = case.act(
        "deleverage",
        "outsider",
        "trader0",
        branches=("insurance.covers", "adl.charged.pnl_pro_rata", "adl.keeper_paid"),
    )
    reward = keeper_reward(case, 9_700 * case.state.markets[0].price)
    assert rewards_of(case, events) == [("outsider", "trader0", reward)]
    assert case.state.insurance_fund == 0
    assert sum(absorbed for _, _, absorbed in fills_of(case, events)) == deficit + reward - fund


def test_n9_bankrupt_account_earns_nothing_deleveraging_itself(case):
    """N9: the bankrupt account calling deleverage on itself is not paid: a reward would
    leave it above zero after its deficit was covered (``no_profit_from_bankruptcy``)."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 880_000)
    events = case.act("deleverage", "trader0", "trader0", branches=("insurance.covers",))
    assert rewards_of(case, events) == [] and case.equity("trader0") == 0


def test_not_bankrupt(case):
    """An account under maintenance but solvent is not deleveraged."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act("deleverage", "outsider", "trader0", reverts="adl: account not bankrupt")


def test_w2_capped_counterparty(case):
    """W2: the top-ranked short, nearly broke from market 1, is charged only what keeps it
    at or above zero equity; no account is charged later by an index, and the bankrupt
    position closes completely."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 3_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case("deposit", "trader3", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 5_000, 10**6))
    case(settle_trade("trader0", "trader2", 4_000, 10**6))
    case(settle_trade("trader1", "trader3", 300, 25_000_000, market=1))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 850_000)
    case.price(1, 14_800_000)
    equities = {t: case.equity(t) for t in ("trader1", "trader2")}
    events = case.act("deleverage", "outsider", "trader0", branches=("adl.several_counterparties",))
    assert case.size("trader0") == 0
    absorbed = {name: charged for name, _, charged in fills_of(case, events)}
    for name, charged in absorbed.items():
        assert 0 <= case.equity(name) == equities[name] - charged
    case("deposit", "trader1", 1)  # touching the account charges nothing more
    assert case.equity("trader1") == equities["trader1"] - absorbed["trader1"] + 1


def test_w3_market_order_is_not_the_callers(case):
    """W3: deleverage takes no market: a cross-margin bankruptcy closes the account's
    lowest market first, whoever calls; each market's deficit share follows its loss
    (M-W3), so market 0, which never moved, takes none."""
    case("deposit", "trader0", 2_100 * USDC)
    case("deposit", "trader1", 40_000 * USDC)
    case("deposit", "trader2", 40_000 * USDC)
    case(settle_trade("trader0", "trader1", 10_000, 10**6))
    case(settle_trade("trader0", "trader2", 200, 25_000_000, market=1))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(1, 14_000_000)  # market 1 caused the deficit; market 0 never moved
    events = case.act("deleverage", "trader3", "trader0")
    assert {args[2] for name, args in events if name == "Deleverage"} == {0}
    assert case.size("trader0", 1) == 200  # market 1 is next, for any caller


def test_m_w3_deficit_where_the_loss_arose(case):
    """M-W3: market 0 caused trader0's deficit (its long fell 30%), market 1 never moved
    and has no winner. The deficit follows the loss: market 0's deleverage charges its
    winner, trader1, all of it, and nothing is left to become bad debt. The old design split the
    deficit by maintenance, so market 1's share, with no winner to charge, was written
    off while trader1 kept its profit."""
    case("deposit", "trader0", 2_100 * USDC)
    case("deposit", "trader1", 40_000 * USDC)
    case("deposit", "trader2", 40_000 * USDC)
    case(settle_trade("trader0", "trader1", 10_000, 10**6))
    case(settle_trade("trader0", "trader2", 200, 25_000_000, market=1))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 700_000)
    assert case.equity("trader0") < 0
    case.act("deleverage", "trader3", "trader0")
    # the whole deficit went to market 0's winner: nothing is left for market 1 to write off
    assert case.equity("trader0") >= 0 and case.state.bad_debt == 0


def test_i19_capped_shortfall_stays_where_it_arose(case):
    """Issue 19 (cross-market, order-free): trader0's loss arose on market 0, where its
    only counterparty, trader1, is bankrupt itself (its market-1 long lost more than its
    collateral): nobody there can be charged. trader0's market-1 long, bought at the price
    it stands at, lost nothing, and trader2 holds a winning short against it. The first
    deleverage books market 0's shortfall at once (fund, then bad debt), leaving trader0 at
    equity 0 with its market-1 long; the second closes that long uncharged (a review
    found it otherwise kept the long's upside while a loss there fell on trader2). On the
    design before, the shortfall stayed on the account and the second deleverage charged
    it to trader2 on market 1, while with the market ids swapped it became bad debt: who
    paid depended on the ids."""
    booked_beside_a_long(case)
    assert case.size("trader0") == 0 and case.state.bad_debt > 0
    assert case.equity("trader0") == 0
    events = case.act("deleverage", "outsider", "trader0")
    # a zero share earns its keeper no reward (N9): nothing for trader2 to pay
    assert [absorbed for _, _, absorbed in fills_of(case, events)] == [0]
    assert rewards_of(case, events) == []
    assert not case.state.accounts[case.address("trader0")].positions


def test_i19_gate_spares_a_zero_share(case):
    """Issue 19: trader0 is bankrupt by its market-0 long; its market-1 long, bought at the
    price it stands at, lost nothing, so its deleverage charges nobody on market 1. trader2,
    short on market 1 in profit opposite it, trades on (the design before froze it, as it
    froze the winners of a dust account's markets that had not moved)."""
    for trader in ("trader1", "trader2", "trader3"):
        case("deposit", trader, 20_000 * USDC)
    case("deposit", "trader0", 1_200 * USDC)
    case(settle_trade("trader3", "trader2", 100, 25 * USDC, market=1))
    case.price(1, 20 * USDC)  # trader2's short: +500 USDC
    case(settle_trade("trader0", "trader3", 40, 20 * USDC, market=1))
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 800_000)  # trader0: -1,800 USDC on market 0, on 1,200
    assert case.equity("trader0") < 0
    case.act(settle_trade("trader2", "trader3", 10, 20 * USDC, market=1))


def test_w4_whale_resolved_in_pieces(case):
    """W4: a whale's deficit with liquidators too small to take it whole: a liquidator
    takes a piece it has margin for, is paid by the fund, and deleverage then resolves
    the rest even though the fund could have covered it."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 50_000 * USDC)
    case("deposit", "trader2", 300 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case("top_up_insurance", "owner", 4_000 * USDC)
    case.price(0, 700_000)  # deficit 1,700; the fund (5,000) could cover it
    events = case("liquidate", "trader2", "trader0", 0, 2_000)
    liquidation = next(args for name, args in events if name == "Liquidation")
    assert liquidation[3] == 2_000 and liquidation[6] > 0  # a piece, and a reward
    case.act("deleverage", "trader3", "trader0", branches=("insurance.covers",))
    assert case.size("trader0") == 0


def test_w5_fund_pays_partially(case):
    """W5: a fund one unit short of the deficit pays all it has; traders bear one unit and
    the keeper's reward, which joins the deficit (N9)."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 50_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR)
    case.price(0, 850_000)
    deficit = -case.equity("trader0")
    case("top_up_insurance", "outsider", deficit - 1 - case.state.insurance_fund)
    events = case.act("deleverage", "trader3", "trader0", branches=("insurance.covers",))
    assert sum(a for _, _, a in fills_of(case, events)) == 1 + rewards_paid(events)
    assert case.state.insurance_fund == 0


def test_w7_deposit_before_deleverage(case):
    """W7: under the queue, the top-ranked short deposits just before a public deleverage;
    its rank, and so who is charged, do not change."""
    use_policy(case, "queue")
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader3", 1_000 * USDC)
    case("deposit", "trader1", 3_000 * USDC)
    case("deposit", "trader2", 5_000 * USDC)
    for long in ("trader0", "trader3"):
        case(settle_trade(long, "trader1", 4_500, 10**6))
        case(settle_trade(long, "trader2", 4_500, 999_000))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 850_000)
    first = queue(case)[0]
    case("deposit", case.names[first], 100_000 * USDC)
    assert queue(case)[0] == first
    events = case.act("deleverage", "outsider", "trader0", branches=("adl.charged.queue",))
    assert fills_of(case, events)[0][0] == case.names[first]


def test_queue_ranks_by_pnl_percent(case):
    """The independent oracle of ``properties`` agrees with the spec's queue."""
    use_policy(case, "queue")
    drained_fund(case)
    ranked = [case.names[a] for a in queue(case)]
    by_oracle = sorted(
        ranked,
        key=lambda t: (-recompute.pnl_percent(case.state, case.address(t), 0), case.address(t)),
    )
    assert ranked == by_oracle
    case.act("deleverage", "outsider", "trader0")


def queue(case) -> list[str]:
    """The shorts of market 0 in queue order (eligible ones only)."""
    return [h.account for h in adl_allocator.queue_order(adl.side_holders(case.state, 0, -1))]


def test_policy_pnl_pro_rata(case):
    """Pro-rata on profit: every short gives up the same fraction of its profit (to a
    unit), closing lots in the same proportion."""
    pro_rata(case, "pnl_pro_rata")


def test_policy_leverage_pro_rata(case):
    """Leverage-weighted pro-rata: the shares follow profit x leverage."""
    pro_rata(case, "leverage_pro_rata")


def test_policy_contract_pro_rata(case):
    """Contract pro-rata: every profitable short closes the same fraction of its position
    (here all of it, the bankrupt long being the whole side)."""
    pro_rata(case, "contract_pro_rata")


def pro_rata(case, policy: str) -> None:
    """The three shorts of ``drained_fund`` under each pro-rata policy: every profitable
    short closes lots and absorbs a share of the deficit by the policy's weight (profit,
    profit x leverage, size), the shares summing to the deficit exactly, none above its
    profit or below zero equity."""
    use_policy(case, policy)
    drained_fund(case)
    deficit, fund = -case.equity("trader0"), case.state.insurance_fund
    profits = {
        t: recompute.pnl(case.state, case.address(t), 0) for t in ("trader1", "trader2", "trader3")
    }
    events = case.act(
        "deleverage",
        "outsider",
        "trader0",
        branches=("adl.several_counterparties", f"adl.charged.{policy}"),
    )
    fills = fills_of(case, events)
    assert sorted(name for name, _, _ in fills) == ["trader1", "trader2", "trader3"]
    assert sum(size for _, size, _ in fills) == 9_700
    need = deficit + rewards_paid(events) - fund  # the keeper's reward joins it (N9)
    assert sum(absorbed for _, _, absorbed in fills) == need
    assert all(0 < absorbed <= profits[name] for name, _, absorbed in fills)
    if policy == "pnl_pro_rata":  # the same fraction of every profit, to a unit
        rate = need / sum(profits.values())
        assert all(abs(absorbed - rate * profits[name]) < 1 for name, _, absorbed in fills)
    if policy == "contract_pro_rata":  # the same fraction of every position
        assert {name: size for name, size, _ in fills} == {
            "trader1": 5_000,
            "trader2": 4_000,
            "trader3": 700,
        }


def test_charge_without_lots(case):
    """Pro-rata on profit: a large short (9,000 lots) and a one-lot short (profit 0.1
    USDC) against a bankrupt long of 4,000 lots. Lots go by size: the one-lot short's
    share (4,000 / 9,001 = 0.44 lot) loses the remainder to the large one's (0.56), but it
    still absorbs its share of the deficit by profit: a charge with no lot, its position
    kept."""
    case("deposit", "trader0", 450 * USDC)
    case("deposit", "trader4", 20_000 * USDC)
    for trader in ("trader1", "trader2", "trader3"):
        case("deposit", trader, 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 4_000, 10**6))
    case(settle_trade("trader4", "trader1", 5_000, 10**6))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 900_000)
    case(settle_trade("trader3", "trader2", 1, 900_000))
    case.price(0, 800_000)
    events = case.act(
        "deleverage",
        "outsider",
        "trader0",
        branches=("adl.charge_only", "adl.charged.pnl_pro_rata"),
    )
    fills = {name: (size, absorbed) for name, size, absorbed in fills_of(case, events)}
    assert fills["trader1"][0] == 4_000
    assert fills["trader2"][0] == 0 and fills["trader2"][1] > 0
    assert case.size("trader2") == -1


def test_i19_no_dodge_deposit(case):
    """Issue 19 (no dodge): leverage-weighted pro-rata weighs a winner by its leverage,
    which a deposit lowers. Once trader0's deficit is public, trader1 (its largest winner)
    deposits 100,000 USDC: the deposit waits for the deleverage (the old design took it,
    and trader1's charge fell onto the others). A deposit before the gap lowers its weight
    as the policy intends: no deficit was public then."""
    use_policy(case, "leverage_pro_rata")
    drained_fund(case)
    case.act("deposit", "trader1", 100_000 * USDC, reverts="adl: deficit pending")


def test_i19_deposit_after_deleverage(case):
    """Issue 19: the deposit the gate held goes through once anyone deleverages."""
    use_policy(case, "leverage_pro_rata")
    drained_fund(case)
    case("deleverage", "outsider", "trader0")
    case.act("deposit", "trader1", 100_000 * USDC)


def test_i19_deposit_gated_by_leverage_alone(case):
    """Issue 19: under the other policies a deposit never lowers a charge (weights and
    ranks do not read collateral; caps only rise), so a winner deposits while the deficit
    is pending."""
    drained_fund(case)
    case.act("deposit", "trader1", 100_000 * USDC)


def test_w12_repeated_charges_keep_principal(case):
    """W12: contract pro-rata charges by size; a short holding 10,000 lots at a profit of
    0.001 USDC each (10 USDC) is capped at its profit in the first deleverage, and then
    holds no profit: the second deleverage cannot charge it again. (Booked to collateral
    alone, the first charge left the kept lots' profit standing, and the second took
    9.17 USDC of principal.)"""
    use_policy(case, "contract_pro_rata")
    case.govern("withdraw_insurance", 900 * USDC)
    for trader, amount in (("trader0", 110), ("trader1", 110), ("trader2", 5_000)):
        case("deposit", trader, amount * USDC)
    for trader in ("trader3", "trader4"):
        case("deposit", trader, 20_000 * USDC)
    case(settle_trade("trader0", "trader2", 1_000, 10**6))
    case(settle_trade("trader1", "trader2", 1_000, 10**6))
    case.price(0, 701_000)
    case(settle_trade("trader4", "trader3", 10_000, 701_000))
    case.price(0, 700_000)
    profit = recompute.pnl(case.state, case.address("trader3"), 0)
    collateral = case.state.accounts[case.address("trader3")].collateral
    first = case("deleverage", "outsider", "trader0")
    charged = dict((name, absorbed) for name, _, absorbed in fills_of(case, first))
    assert charged["trader3"] == profit == 10 * USDC
    events = case.act(
        "deleverage", "outsider", "trader1", branches=("adl.charged.contract_pro_rata",)
    )
    assert "trader3" not in [name for name, _, absorbed in fills_of(case, events) if absorbed]
    assert case.state.accounts[case.address("trader3")].collateral >= collateral


def test_exposure_is_what_deleverage_takes(case):
    """The ``adl_exposure`` view, read by every short before a public deleverage (on the
    spec and on the chain), is exactly what each then gives up: lots and collateral."""
    drained_fund(case)
    shorts = ("trader1", "trader2", "trader3")
    exposure = {t: views.adl_exposure(case.state, case.address(t), 0) for t in shorts}
    assert case.pair.check_views(list(shorts)) > 0  # spec == chain, every view
    events = case.act("deleverage", "outsider", "trader0")
    taken = {name: (size, absorbed) for name, size, absorbed in fills_of(case, events)}
    assert exposure == {t: taken.get(t, (0, 0)) for t in shorts}
    assert all(lots > 0 and charge > 0 for lots, charge in exposure.values())


def two_rounds_of_shorts(case) -> dict[str, int]:
    """Issue 19's minimal round: trader1 short 10,000 from 1.00, trader2 short 10,000
    from 1.20; at 0.80 two of their longs are bankrupt (trader0 from 1.00: -400 USDC,
    trader4 from 1.20: -1,300), the others solvent; the fund at its floor pays 100.
    Return the shorts' profits at the round's start."""
    use_policy(case, "pnl_pro_rata")
    for trader, amount in (("trader0", 600), ("trader4", 700), ("trader3", 5_000)):
        case("deposit", trader, amount * USDC)
    for trader in ("trader1", "trader2", "trader5"):
        case("deposit", trader, 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 5_000, 10**6))
    case(settle_trade("trader3", "trader1", 5_000, 10**6))
    case.price(0, 1_200_000)
    case(settle_trade("trader4", "trader2", 5_000, 1_200_000))
    case(settle_trade("trader5", "trader2", 5_000, 1_200_000))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 800_000)
    assert case.equity("trader0") < 0 and case.equity("trader4") < 0
    return {t: recompute.pnl(case.state, case.address(t), 0) for t in ("trader1", "trader2")}


def charged_in_order(
    state, actors: dict, order: tuple[str, ...], keeper: str | None = None
) -> dict[str, int]:
    """Each short's total charge when ``order`` is deleveraged on a copy of ``state``, by
    ``keeper``, or by each account itself (no keeper's reward: the order alone)."""
    state, charged = state.copy(), {"trader1": 0, "trader2": 0}
    names = {a: n for n, a in actors.items()}
    for trader in order:
        state.events.clear()
        engine.process_deleverage(state, actors[keeper or trader], actors[trader])
        for name, args in state.events:
            if name == "Deleverage":
                charged[names[args[1]]] += args[5]
    return charged


def three_bankrupt_longs(case) -> None:
    """Three shorts opened along a rise (trader1 7,001 lots at 1.00, trader2 3,002 at
    1.13, trader5 1,999 at 1.27) against three thin longs that a gap to 0.80 bankrupts
    (trader0, trader3, trader4); the fund sits at its floor. Profits in awkward ratios, so
    every call's charges leave remainders."""
    use_policy(case, "pnl_pro_rata")
    for trader, amount in (("trader0", 1_000), ("trader3", 350), ("trader4", 260)):
        case("deposit", trader, amount * USDC)
    for trader in ("trader1", "trader2", "trader5"):
        case("deposit", trader, 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 7_001, 10**6))
    case.price(0, 1_130_000)
    case(settle_trade("trader3", "trader2", 3_002, 1_130_000))
    case.price(0, 1_270_000)
    case(settle_trade("trader4", "trader5", 1_999, 1_270_000))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 800_000)
    assert all(case.equity(t) < 0 for t in ("trader0", "trader3", "trader4"))


def test_i19_call_order_moves_no_unit(case):
    """Issue 19 (call order, deliverable 7: at most one unit per account): the six orders
    in which a keeper may deleverage three bankrupt longs charge each short the same, to
    the unit. Each call charges what the round's highest-averages apportionment of its
    total adds to what the shorts paid, and that apportionment never takes a unit back as
    the total grows, so the calls add up to one apportionment of the round's total. On the
    design before, each call water-filled its own deficit over the profit left and its
    remainders moved with the order (the lab measured 2 units)."""
    three_bankrupt_longs(case)
    actors, longs = case.pair.actors, ("trader0", "trader3", "trader4")
    totals = [
        paid_in_order(case.state, actors, order, "outsider")
        for order in itertools.permutations(longs)
    ]
    assert all(total == totals[0] for total in totals), totals
    case("deleverage", "outsider", "trader0")
    case("deleverage", "outsider", "trader3")
    case.act("deleverage", "outsider", "trader4")


def test_i19_review_a_cut_cap_moves_to_the_others(case):
    """Issue 19, a review of the round's apportionment: trader4's call charges the shorts
    at 0.80, then the price moves to 0.997 within the round (trader3 and trader0 are still
    bankrupt), so trader1 has paid more than its apportionment at the new price. trader3's
    call then charges what the apportionment adds, and trader1's cap cut it: on the first
    version the cut units were nobody's, and 5.19 USDC became bad debt while trader2 and
    trader5 held 773 USDC of profit. Now the cut goes to their room, by base."""
    three_bankrupt_longs(case)
    case("deleverage", "outsider", "trader4")
    case.price(0, 997_000)
    assert case.equity("trader3") < 0
    events = case.act("deleverage", "outsider", "trader3")
    assert not [args for name, args in events if name == "BadDebt"]
    assert case.state.bad_debt == 0


def test_i19_review_a_small_winner_keeps_its_last_lot(case):
    """Issue 19, a review of the round's apportionment: trader5 holds a 1-lot short beside
    trader1's 5,000 lots, against two bankrupt longs (2,501 and 1,000 lots) at 0.80. Lots
    went by largest remainders, so trader5's share rounded up to its whole lot in the
    first call, and it left the round with its record: it paid 21,586 or 32,484 units by
    the keeper's order. Now each winner keeps a lot while the others hold the bankrupt
    size, and both orders charge the same."""
    use_policy(case, "pnl_pro_rata")
    for trader, amount in (
        ("trader0", 300),
        ("trader4", 150),
        ("trader3", 5_000),
        ("trader1", 20_000),
        ("trader5", 20_000),
    ):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader0", "trader1", 2_501, 10**6))
    case(settle_trade("trader4", "trader1", 1_000, 10**6))
    case(settle_trade("trader3", "trader1", 1_499, 10**6))
    case(settle_trade("trader3", "trader5", 1, 10**6))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 800_000)
    actors = case.pair.actors
    first = paid_in_order(case.state, actors, ("trader0", "trader4"), "outsider")
    second = paid_in_order(case.state, actors, ("trader4", "trader0"), "outsider")
    assert first == second, (first, second)
    case("deleverage", "outsider", "trader0")
    case.act("deleverage", "outsider", "trader4")
    assert case.size("trader5") == -1


def paid_in_order(state, actors: dict, order: tuple[str, ...], keeper: str) -> dict[str, int]:
    """Each counterparty's total charge when ``order`` is deleveraged by ``keeper`` on a
    copy of ``state``."""
    state, charged = state.copy(), collections.Counter()
    names = {a: n for n, a in actors.items()}
    for trader in order:
        state.events.clear()
        engine.process_deleverage(state, actors[keeper], actors[trader])
        for name, args in state.events:
            if name == "Deleverage":
                charged[names[args[1]]] += args[5]
    return dict(charged)


def test_i19_n9_keeper_rewards_move_no_charge(case):
    """Issue 19, the N9 residual the lab measured (a keeper's order moved charges by up to
    the round's rewards: 13.69 USDC in its cascades, 44.11 in the wide generator). The
    fund holds 10 USDC more than trader4's deficit above its floor: either deficit alone
    fits, both do not. On the design before, the fund paid a keeper's reward from its room
    above the floor between the covers: trader0 first, its 20 USDC reward came out of
    trader4's cover; trader4 first, only 10 USDC of room was left for its reward. The
    keeper's order moved the shorts' charges by the difference. Now each reward joins its
    call's deficit, fixed by the position: the fund covers the same total first in either
    order, and the shorts pay the same."""
    two_rounds_of_shorts(case)
    deficits = -case.equity("trader0") - case.equity("trader4")
    room = INSURANCE_FLOOR - case.equity("trader4") + 10 * USDC - case.state.insurance_fund
    case("top_up_insurance", "owner", room)
    fund, actors = case.state.insurance_fund, case.pair.actors
    forward = charged_in_order(case.state, actors, ("trader0", "trader4"), "outsider")
    backward = charged_in_order(case.state, actors, ("trader4", "trader0"), "outsider")
    rewards = 2 * keeper_reward(case, 5_000 * case.state.markets[0].price)
    assert sum(forward.values()) == sum(backward.values()) == deficits + rewards - fund
    assert all(abs(forward[t] - backward[t]) <= 1 for t in forward), (forward, backward)
    case("deleverage", "outsider", "trader4")
    case.act("deleverage", "outsider", "trader0")


def test_i19_larger_winner_never_pays_a_smaller_share(case):
    """Issue 19 (cross-call monotonicity): the round's two deleverages charge both shorts
    the same fraction of the profit they held when the price fell (26.7%). Lots used to
    close in proportion to profit, so the first call closed more of trader2's position and
    the second found it smaller: trader2, with twice the profit, paid 24.9% and trader1
    30.2%."""
    profit = two_rounds_of_shorts(case)
    owed = -case.equity("trader0") - case.equity("trader4") - case.state.insurance_fund
    charged = {"trader1": 0, "trader2": 0}
    events = case("deleverage", "outsider", "trader0")
    events += case.act("deleverage", "outsider", "trader4")
    for name, _, absorbed in fills_of(case, events):
        charged[name] += absorbed
    # the fund first, then all of it and the keeper's rewards (N9): nothing capped
    assert sum(charged.values()) == owed + rewards_paid(events)
    # the same fraction of each profit, to a unit per call
    assert abs(
        charged["trader1"] * profit["trader2"] - charged["trader2"] * profit["trader1"]
    ) <= 2 * (profit["trader1"] + profit["trader2"])


def test_i19_keeper_order_moves_nothing(case):
    """Issue 19 (call order): a keeper that deleverages trader4 before trader0 charges each
    short what the other order does, to a unit per call. The old lots-by-profit rule moved
    43 USDC between the shorts with the order."""
    two_rounds_of_shorts(case)
    actors = case.pair.actors
    forward = charged_in_order(case.state, actors, ("trader0", "trader4"))
    backward = charged_in_order(case.state, actors, ("trader4", "trader0"))
    case("deleverage", "outsider", "trader4")
    case.act("deleverage", "outsider", "trader0")
    assert all(abs(forward[t] - backward[t]) <= 2 for t in forward), (forward, backward)


def test_i19_no_dodge_close_and_reopen(case):
    """Issue 19 (no dodge): once trader0's deficit is public, trader1, its largest winner,
    tries to buy its short back at the oracle price (to sell it again with no profit left
    to charge). The trade is refused; the old design settled it and the deficit moved onto
    the other shorts."""
    drained_fund(case)
    case("deposit", "trader4", 20_000 * USDC)
    case.act(settle_trade("trader1", "trader4", 5_000, 700_000), reverts="adl: deficit pending")


def test_i19_no_dodge_handing_on(case):
    """Issue 19 (no dodge): nor can trader2 sell its short on to another account (a sybil)
    at the oracle price: its seller side is the winner, gated on every market."""
    drained_fund(case)
    case("deposit", "trader4", 20_000 * USDC)
    case.act(settle_trade("trader2", "trader4", 4_000, 700_000), reverts="adl: deficit pending")


def test_i19_no_dodge_withdrawal(case):
    """Issue 19 (no dodge): a winner cannot withdraw the equity that caps its charge."""
    drained_fund(case)
    case.act("withdraw", "trader3", 10 * USDC, reverts="adl: deficit pending")


def test_i19_no_dodge_takeover(case):
    """Issue 19 (no dodge): a winner cannot take a liquidated position over in the market
    of the deficit (its own short would shrink as a trade's would); the old design reached
    the fund's check instead."""
    drained_fund(case)
    case.act("liquidate", "trader1", "trader0", 0, ALL, reverts="adl: deficit pending")


def test_i19_gate_spares_the_others(case):
    """Issue 19: the gate holds only the deficit's candidates: two flat accounts trade in
    the market while the deficit is pending."""
    drained_fund(case)
    for trader in ("trader4", "trader5"):
        case("deposit", trader, 20_000 * USDC)
    case.act(settle_trade("trader4", "trader5", 1_000, 700_000))


def test_i19_gate_lifts_after_deleverage(case):
    """Issue 19: the deleverage anyone may call resolves the deficit; its winners, closed
    against the bankrupt long, then withdraw what they kept."""
    drained_fund(case)
    case("deleverage", "outsider", "trader0")
    assert case.size("trader1") == 0
    case.act("withdraw", "trader1", 1_000 * USDC)


def test_i19_no_dodge_liquidated_winner(case):
    """Issue 19 (no dodge, found by review): trader1 is long on market 0 against the short
    trader0 bankrupts at 1.30, but its market-1 short lost 1,900 USDC, so its account is
    below maintenance. A flat sybil (trader4) may not take its winning position over: that
    would realize its profit and leave the deleverage to charge only trader2 (the old
    design did: trader1 150.90 USDC -> 0, trader2 150.90 -> 272.55)."""
    deposits = (("trader0", 2_300), ("trader1", 1_000), ("trader2", 5_000), ("trader3", 5_000))
    for trader, amount in (*deposits, ("trader4", 1_000)):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader1", "trader0", 4_500, 10**6))
    case(settle_trade("trader2", "trader0", 4_500, 10**6))
    case(settle_trade("trader3", "trader1", 100, 25 * USDC, market=1))
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR)
    case.price(1, 44 * USDC)
    case.price(0, 1_300_000)
    assert case.equity("trader0") < 0
    case.act("liquidate", "trader4", "trader1", 0, ALL, reverts="adl: deficit pending")


def test_i19_no_dodge_takeover_elsewhere(case):
    """Issue 19 (no dodge, found by review): under the queue, trader1 is first in line
    against trader0, bankrupt at 0.70. It takes over trader5's market-1 long (below
    maintenance at 20.10): the takeover's maintenance joins its account's total, which
    shrinks its queue cap (its equity x the position's share of that total) on market 0.
    The liquidator is gated on every market, as a trader is. The old gate looked at the
    liquidated market only: trader1 paid 470.01 USDC instead of 891.63 (a flat liquidator
    in its place), and 421.61 became bad debt."""
    use_policy(case, "queue")
    deposits = (("trader0", 1_000), ("trader1", 1_000), ("trader2", 20_000), ("trader5", 2_100))
    for trader, amount in (*deposits, ("trader6", 20_000)):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader0", "trader1", 5_000, 1_010_000))
    case(settle_trade("trader0", "trader2", 4_000, 10**6))
    case(settle_trade("trader5", "trader6", 400, 25 * USDC, market=1))
    case.govern("withdraw_insurance", case.state.insurance_fund - INSURANCE_FLOOR)
    case.price(1, 20_100_000)
    case.price(0, 700_000)
    assert case.equity("trader0") < 0
    case.act("liquidate", "trader1", "trader5", 1, ALL, reverts="adl: deficit pending")


def test_i19_gate_spares_the_same_side(case):
    """Issue 19 (found by review): the gate holds only winners the deleverage can charge,
    those opposite the bankrupt position. trader4 bought at 0.60, after trader0's long
    went bankrupt; at 0.70 its long is in profit on trader0's side and it withdraws (the
    first gate froze every winner of the market)."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 600_000)
    for trader in ("trader4", "trader5"):
        case("deposit", trader, 5_000 * USDC)
    case(settle_trade("trader4", "trader5", 1_000, 600_000))
    case.price(0, 700_000)
    assert case.equity("trader0") < 0
    case.act("withdraw", "trader4", 10 * USDC)


def test_i19_gate_spares_a_settled_market(case):
    """Issue 19 (the gate held more than it must): trader3's long on market 1 closed in
    profit when the market was delisted at 27 USDC; trader2, its short there, is bankrupt
    since through market 0. No deleverage charges a settled market (its positions close
    at the final price first), so trader3 withdraws: the old gate refused it ("adl:
    deficit pending") until someone deleveraged trader2."""
    for trader, amount in (("trader2", 2_000), ("trader3", 5_000), ("trader4", 20_000)):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader3", "trader2", 100, 25 * USDC, market=1))
    case(settle_trade("trader2", "trader4", 9_000, 10**6))
    case.price(1, 27 * USDC)
    case.govern("delist_market", 1)
    assert case.state.markets[1].settled
    case.price(0, 750_000)
    assert case.equity("trader2") < 0
    case.act("withdraw", "trader3", 100 * USDC)


def opposite_bankrupt_losers(case, solvent: int = 90_000) -> None:
    """trader0 (long 90,000 at 1.00) and trader1 (short 90,000 at 0.90) are bankrupt at
    0.95, losing on opposite sides of market 0, and both hold a losing long of market 1
    (25 -> 5). Market 0's winner is trader2's long at 0.90 (``solvent`` lots); trader4's
    short of as many at 0.90 loses on a solvent account; trader5 wins market 1. The fund
    sits near its floor."""
    for trader, amount in (
        ("trader0", 15_000),
        ("trader3", 40_000),
        ("trader1", 20_000),
        ("trader2", 20_000),
        ("trader4", 20_000),
        ("trader5", 100_000),
    ):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader0", "trader3", 90_000, 10**6))
    case(settle_trade("trader0", "trader5", 1_000, 25 * USDC, market=1))
    case(settle_trade("trader1", "trader5", 1_000, 25 * USDC, market=1))
    case.price(0, 900_000)
    case(settle_trade("trader3", "trader1", 90_000, 900_000))
    case(settle_trade("trader2", "trader4", solvent, 900_000))
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 950_000)
    case.price(1, 5 * USDC)
    assert case.equity("trader0") < 0 and case.equity("trader1") < 0


def deleveraged_in_order(
    state, actors: dict, order: tuple[str, ...], winners=("trader2", "trader5")
) -> dict[str, int]:
    """Each winner's total charge and the bad debt when every position of ``order`` (one
    account after the other) is deleveraged on a copy of ``state``, each account calling
    its own (no keeper's reward: the order alone; a reward is fixed by the position and
    joins its call's deficit, N9)."""
    state, outcome = state.copy(), dict.fromkeys(winners, 0)
    names = {a: n for n, a in actors.items()}
    for trader in order:
        while state.accounts[actors[trader]].positions:
            state.events.clear()
            engine.process_deleverage(state, actors[trader], actors[trader])
            for name, args in state.events:
                if name == "Deleverage" and names[args[1]] in outcome:
                    outcome[names[args[1]]] += args[5]
    return outcome | {"bad_debt": state.bad_debt}


def test_i19_r5_bankrupt_counterparty_last(case):
    """Issue 19, fifth review: trader0's long of market 0 has no winner opposite, so its
    lots close at the oracle price against the other shorts, now trader4's (solvent)
    before trader1's (bankrupt). Closing trader1's losing short there realized its loss in
    market 0 and sent its whole deficit to market 1, so the keeper's order of the two
    bankrupt accounts moved market 0's loss to market 1's winner (the old design: trader2
    paid 507.70 USDC and trader5 11,519.35 one way, 0 and 12,353.44 the other). Now
    trader5 pays the same either way; what still follows the order is the fund (326.40),
    which covers whichever deficit comes first: trader1's, relieving trader2, or
    trader0's, which no winner can pay, relieving bad debt (SPEC.md, "A bankrupt
    counterparty in the completion")."""
    opposite_bankrupt_losers(case)
    actors, fund = case.pair.actors, case.state.insurance_fund
    forward = deleveraged_in_order(case.state, actors, ("trader0", "trader1"))
    backward = deleveraged_in_order(case.state, actors, ("trader1", "trader0"))
    assert forward["trader5"] == backward["trader5"], (forward, backward)
    assert forward["trader2"] - backward["trader2"] == fund, (forward, backward, fund)
    assert backward["bad_debt"] - forward["bad_debt"] == fund, (forward, backward, fund)
    fills = fills_of(case, case.act("deleverage", "outsider", "trader0"))
    assert [name for name, _, _ in fills] == ["trader4"]  # the solvent short, uncharged


def test_i19_r6_partial_cover_moves_with_the_order(case):
    """Issue 19, sixth review (stated, not fixed): trader4's solvent short covers only
    30,000 of trader0's 90,000 lots, so the completion takes 60,000 of trader1's bankrupt
    short, last, as the rule says. Its loss on them is realized in market 0 and its
    deficit weights send its market-0 deficit to market 1: trader0 first, the winners pay
    12,353.44 USDC; trader1 first, 13,154.93 (801.48 more, 2.8 times the fund)."""
    opposite_bankrupt_losers(case, 30_000)
    actors = case.pair.actors
    forward = deleveraged_in_order(case.state, actors, ("trader0", "trader1"))
    backward = deleveraged_in_order(case.state, actors, ("trader1", "trader0"))
    assert forward["trader2"] + forward["trader5"] == 12_353_444_897
    assert backward["trader2"] + backward["trader5"] == 13_154_925_581
    fills = fills_of(case, case.act("deleverage", "outsider", "trader0"))
    assert [(name, lots) for name, lots, _ in fills] == [("trader4", 30_000), ("trader1", 60_000)]


def test_i19_r5_the_property_sees_a_bankrupt_counterparty_first(embedded_pair, monkeypatch):
    """``adl_bankrupt_counterparty_last`` sees the old completion by itself: with the rest
    taken in holder order again, trader0's deleverage closes against trader1 first."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    opposite_bankrupt_losers(b)
    call = b.resolve("deleverage", "outsider", (b.address("trader0"),))
    monkeypatch.setattr(
        adl_allocator,
        "completion_order",
        lambda holders: [h for h in holders if not adl_allocator.is_eligible(h)],
    )
    before = embedded_pair.state.copy()
    after, reason, events = spec_apply(before.copy(), embedded_pair.actors, call)
    assert reason is None
    trader1, trader4 = (embedded_pair.actors[t] for t in ("trader1", "trader4"))
    with pytest.raises(
        InvariantViolation, match=f"order \\['{trader1}'\\]; .*: \\['{trader4}', '{trader1}'\\]"
    ):
        check_properties(embedded_pair.actors, [(call, before, after, events)])


def two_bankrupt_longs_deep(case, top_up: int = 0) -> None:
    """trader0 (6,000 lots) and trader4 (4,000) long at 1.00 near 10x, trader5 long 2,000
    on a solvent account, against trader1's and trader2's shorts (8,000 and 4,000); a gap
    to 0.65 bankrupts both longs (deficits 1,450 and 950 USDC) while the shorts hold
    4,200 of profit, and the fund sits near its floor (or, with ``top_up``, holds that
    much more: room for the first call's keeper reward)."""
    for trader, amount in (
        ("trader0", 650),
        ("trader4", 450),
        ("trader5", 20_000),
        ("trader1", 20_000),
        ("trader2", 20_000),
    ):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader0", "trader1", 6_000, 10**6))
    case(settle_trade("trader4", "trader1", 2_000, 10**6))
    case(settle_trade("trader4", "trader2", 2_000, 10**6))
    case(settle_trade("trader5", "trader2", 2_000, 10**6))
    if top_up:
        case("top_up_insurance", "owner", top_up)
    else:
        case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 650_000)
    assert case.equity("trader0") < 0 and case.equity("trader4") < 0


def test_i19_capped_round_is_order_free(case):
    """Issue 19 (capped rounds): deleveraging trader0 first closes half of each short and
    realizes its profit into collateral, principal from then on on the design before, so
    trader4's call found the shorts' open profit below its budget: they paid 2,100.00 USDC
    and 196.60 became bad debt, against 2,296.60 and none with trader4 first. Now what
    the closed lots realized and no charge took is the round's record (``margin.
    adl_capacity``), which trader4's call charges: each short pays the same in both orders
    and nothing is bad debt (SPEC.md, "Capped rounds")."""
    two_bankrupt_longs_deep(case)
    actors, shorts = case.pair.actors, ("trader1", "trader2")
    forward = deleveraged_in_order(case.state, actors, ("trader0", "trader4"), shorts)
    backward = deleveraged_in_order(case.state, actors, ("trader4", "trader0"), shorts)
    assert forward == backward and forward["bad_debt"] == 0
    assert sum(forward[t] for t in shorts) == sum(backward[t] for t in shorts) == 2_296_600_000
    case.act("deleverage", "outsider", "trader0")


def a_record_then_a_second_round(case) -> None:
    """The eighth review's case: trader0 (long 6,000 at 1.00, 650 USDC) and trader4 (long
    4,000 in market 0, short 400 in market 1 at 25, solvent only by its market-1 profit
    once that price is 20) against trader1's and trader2's shorts (8,000 and 4,000).
    Market 0 gaps to 0.65 with the fund withdrawn; deleveraging trader0 leaves trader1 and
    trader2 records of 1,400.00 and 700.00 USDC and no bankrupt holder opposite (the
    deficit gate lifts). Market 1 back at 25 would bankrupt trader4, all its loss in market
    0, at the same market-0 price: a second deleverage of the round."""
    for trader, amount in (
        ("trader0", 650),
        ("trader4", 2_500),
        ("trader5", 20_000),
        ("trader1", 20_000),
        ("trader2", 20_000),
        ("trader6", 100_000),
        ("trader7", 1_000),
    ):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader6", "trader4", 400, 25 * USDC, market=1))
    case(settle_trade("trader0", "trader1", 6_000, 10**6))
    case(settle_trade("trader4", "trader1", 2_000, 10**6))
    case(settle_trade("trader4", "trader2", 2_000, 10**6))
    case(settle_trade("trader5", "trader2", 2_000, 10**6))
    case.price(1, 20 * USDC)
    case("withdraw", "trader4", 2_480 * USDC)
    case.govern("withdraw_insurance", 900 * USDC)
    case.price(0, 650_000)
    case("deleverage", "outsider", "trader0")
    assert case.equity("trader4") > 0


def second_round(state, actors: dict, *moves) -> dict[str, int]:
    """On a copy of ``state``: each of ``moves`` (a winner acting after the first
    deleverage), then market 1 back at 25 (trader4 bankrupt, its loss in market 0) and
    trader4's deleverage; what trader1 and trader2 paid there, and the bad debt."""
    state = state.copy()
    for move in moves:
        move(state, actors)
    state.timestamp += 1
    governance.process_update_price(state, state.oracle, 1, 25 * USDC, state.timestamp)
    state.events.clear()
    engine.process_deleverage(state, actors["outsider"], actors["trader4"])
    paid = dict.fromkeys(("trader1", "trader2"), 0)
    names = {a: n for n, a in actors.items()}
    for name, args in state.events:
        if name == "Deleverage":
            paid[names[args[1]]] += args[5]
    return paid | {"bad_debt": state.bad_debt}


def wipe(state, actors) -> None:
    """trader2 buys 1 lot back from its sybil at the oracle price (its record ends)."""
    engine.process_settle_trade(
        state, state.settlement, actors["trader2"], actors["trader7"], 0, 1, 650_000, True
    )


def withdraw_the_record(state, actors) -> None:
    """trader1 withdraws the 1,400.00 USDC its record holds."""
    engine.process_withdraw(state, actors["trader1"], 1_400 * USDC)


def test_i19_r8_a_round_ends_with_its_deficit(case):
    """Issue 19, eighth and tenth reviews (F1, A1, A2): records stamped with market 0's
    price time outlived their round. A second deleverage at that price, after market 1's
    move bankrupted trader4, still read them, while the deficit gate no longer held their
    holders: trader2 ended its own record with a 1-lot trade against a sybil and paid
    162.76 USDC instead of 460.67, trader1 297.91 more; trader1 withdrew its record's
    1,400.00 and was charged 411.07 of its deposit. Now trader0's deleverage, which leaves
    no bankrupt holder opposite the shorts, ends their round (and a passing gate scan
    would end it for every record of the side at once): trader4's bankruptcy is another
    round, charged by open profit, and nothing a winner does between the two changes the
    others' charges (the 1-lot trade moves only that lot's profit, 0.13 USDC)."""
    a_record_then_a_second_round(case)
    actors = case.pair.actors
    assert case.state.markets[0].short_adl_round % 2 == 0  # ended by the deleverage
    plain = second_round(case.state, actors)
    assert second_round(case.state, actors, withdraw_the_record) == plain
    wiped = second_round(case.state, actors, wipe)
    assert wiped["trader1"] == plain["trader1"]
    assert abs(wiped["trader2"] - plain["trader2"]) <= 350_000
    case.price(1, 25 * USDC)
    assert all(
        recompute.round_profit(case.state, actors[t], 0) == 0 for t in ("trader1", "trader2")
    )
    case.act("deleverage", "outsider", "trader4")


def self_made_bankruptcy(
    state, actors, *moves, entry=650_000, gap=550_000, margin=1_310, backing=0
) -> dict[str, int]:
    """On a copy of ``state``: ``moves``, then trader3 (deposits ``margin`` USDC) buys
    20,000 lots at ``entry`` from its own trader6 (which deposits ``backing`` USDC first),
    market 0 gaps to ``gap``, and trader6 deleverages trader3; what each short paid, and
    the bad debt."""
    state = state.copy()
    for move in moves:
        move(state, actors)
    engine.process_deposit(state, actors["trader3"], margin * USDC)
    if backing:
        engine.process_deposit(state, actors["trader6"], backing * USDC)
    engine.process_settle_trade(
        state, state.settlement, actors["trader3"], actors["trader6"], 0, 20_000, entry, True
    )
    state.timestamp += 1
    governance.process_update_price(state, state.oracle, 0, gap, state.timestamp)
    state.events.clear()
    engine.process_deleverage(state, actors["trader6"], actors["trader3"])
    names, paid = {a: n for n, a in actors.items()}, {}
    for name, args in state.events:
        if name == "Deleverage":
            paid[names[args[1]]] = paid.get(names[args[1]], 0) + args[5]
    return paid | {"bad_debt": state.bad_debt}


def withdraw_a_unit(state, actors) -> None:
    """trader2 withdraws 1 USDC: its gate scan ends the shorts' round."""
    engine.process_withdraw(state, actors["trader2"], USDC)


def test_i19_r8_review_a_self_made_bankruptcy_draws_no_old_record(case):
    """Issue 19, the review of rounds ended by gate scans alone: after trader0's round
    left no bankrupt holder opposite, nobody of the short side acted, so trader1's and
    trader2's records (1,400.00 and 700.00 USDC) stayed chargeable. An attacker's own
    long against its own short, bankrupted by a gap, drew on them: trader1 and trader2
    paid 290.57 and 145.28 USDC of its deficit instead of 185.93 and 92.96, and the
    attacker's short 156.96 less. The deleverage that leaves no bankrupt holder opposite
    now ends the round: the same as if a short had acted first."""
    a_record_then_a_second_round(case)
    actors = case.pair.actors
    passive = self_made_bankruptcy(case.state, actors)
    ended = self_made_bankruptcy(case.state, actors, withdraw_a_unit)
    assert passive["trader1"] == ended["trader1"] and passive["trader6"] == ended["trader6"]
    case.act("deposit", "trader3", 1_310 * USDC)


def test_i19_r8_review_a_top_up_ends_the_round(case):
    """Issue 19, a second review: a deficit resolved without a deleverage left the round
    open, and the records with it, for an attacker's own bankruptcy to draw on (130.19
    USDC at 20,000 lots after the bankrupt holder's own 2,000 USDC top-up, 239.27 after
    an attacker's dust long held the round open and was then topped up). A deposit by a
    holder now ends the opposite side's round once no bankrupt holder is left there."""
    two_bankrupt_longs_deep(case)
    actors = case.pair.actors
    case("deleverage", "outsider", "trader0")
    assert case.state.markets[0].short_adl_round % 2 == 1  # trader4 still bankrupt
    case.act("deposit", "trader4", 2_000 * USDC)
    assert case.equity("trader4") >= 0
    assert case.state.markets[0].short_adl_round % 2 == 0
    assert all(
        recompute.round_profit(case.state, actors[t], 0) == 0 for t in ("trader1", "trader2")
    )


def test_i19_r8_review_a_fund_covered_liquidation_ends_the_round(case):
    """Issue 19, a second review: with the fund able to pay, trader0's deleverage was
    covered whole yet wrote records; trader4, the last bankrupt long, was then liquidated
    with the fund covering its deficit, and the round stayed open (52.11 USDC drawn by a
    later self-made bankruptcy at 20,000 lots). The liquidation now ends it."""
    two_bankrupt_longs_deep(case, top_up=1_600 * USDC)
    actors = case.pair.actors
    case("deleverage", "outsider", "trader0")
    assert case.state.markets[0].short_adl_round % 2 == 1
    case("deposit", "trader7", 5_000 * USDC)
    case.act("liquidate", "trader7", "trader4", 0, 10**9)
    assert case.state.markets[0].short_adl_round % 2 == 0
    assert all(
        recompute.round_profit(case.state, actors[t], 0) == 0 for t in ("trader1", "trader2")
    )


def rescued_then_harvested(state, actors, *moves) -> dict[str, int]:
    """``self_made_bankruptcy`` at 0.95 (2,000 USDC against trader6's 100,000), a gap to
    0.80."""
    return self_made_bankruptcy(
        state, actors, *moves, entry=950_000, gap=800_000, margin=2_000, backing=100_000
    )


def test_i19_price_rescue_ends_the_round(case):
    """Issue 19, the residual of the second and third reviews: trader0 deleveraged,
    trader4 still bankrupt (the shorts' round open), then a price in market 0 rescues
    trader4. Nothing saw it: the round stayed open until a short acted or a holder
    deposited, and its records met the next bankruptcy, an attacker's own 20,000-lot long
    against its own short after a gap, which charged them to the shorts (on the design
    before, ``short_adl_round`` stayed odd). The price now runs the round check itself: the
    records lapse at the price, and the harvest finds what it finds after a short's act."""
    two_bankrupt_longs_deep(case)
    actors = case.pair.actors
    case("deleverage", "outsider", "trader0")
    assert case.state.markets[0].short_adl_round % 2 == 1
    assert all(recompute.round_profit(case.state, actors[t], 0) for t in ("trader1", "trader2"))
    case.price(0, 950_000)
    assert case.equity("trader4") >= 0
    assert case.state.markets[0].short_adl_round % 2 == 0
    assert all(
        recompute.round_profit(case.state, actors[t], 0) == 0 for t in ("trader1", "trader2")
    )
    passive = rescued_then_harvested(case.state, actors)
    acted = rescued_then_harvested(case.state, actors, withdraw_a_unit)
    assert passive == acted, (passive, acted)
    case.act("withdraw", "trader1", 100 * USDC)


def test_i19_r8_residual_a_price_between_calls_moves_nothing(case):
    """Issue 19, the R8 residual the lab measured: a keeper that waits for the next price
    between two deleverages of one round. With a record ended by any market's price, the
    same price published again between trader0's and trader4's calls ended the shorts'
    records, and trader4's call found only their open profit: they paid 2,100.00 USDC
    instead of 2,296.60 and 196.60 became bad debt. The gate held both shorts throughout
    (trader4 stayed bankrupt opposite), so nothing they did could end the round; a price
    no longer does either: both calls charge as if no price had come."""
    two_bankrupt_longs_deep(case)
    actors, shorts = case.pair.actors, ("trader1", "trader2")
    straight = deleveraged_in_order(case.state, actors, ("trader0", "trader4"), shorts)
    case("deleverage", "outsider", "trader0")
    case.price(0, 650_000)
    case.price(1, case.state.markets[1].price)
    after_prices = deleveraged_in_order(case.state, actors, ("trader4",), shorts)
    first = {t: straight[t] - after_prices[t] for t in shorts}
    assert after_prices["bad_debt"] == straight["bad_debt"] == 0
    assert sum(first.values()) + sum(after_prices[t] for t in shorts) == 2_296_600_000
    case.act("deleverage", "outsider", "trader4")


def test_i19_r8_the_properties_see_a_record_outlive_its_round(embedded_pair, monkeypatch):
    """A round that outlives its deficit and a passing gate scan (the shorts' round
    reopened on a copy after trader0's deleverage ended it, and ``end_adl_round`` made a
    no-op): trader1 withdraws what its record counts and keeps the record
    (``adl_record_ends_when_its_holder_acts``); trader2 ends its own record with a 1-lot
    trade and leaves trader1's (``adl_records_end_together``)."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    a_record_then_a_second_round(b)
    monkeypatch.setattr(margin, "end_adl_round", lambda market, side: None)
    actors, before = embedded_pair.actors, embedded_pair.state.copy()
    before.markets[0].short_adl_round -= 1  # the round the records were stamped with
    assert recompute.round_profit(before, actors["trader1"], 0) == 1_400 * USDC
    withdrawal = Call("engine", "withdraw", "trader1", (1_400 * USDC,))
    after, reason, events = spec_apply(before.copy(), actors, withdrawal)
    assert reason is None
    with pytest.raises(InvariantViolation, match="adl_record_ends_when_its_holder_acts"):
        check_properties(actors, [(withdrawal, before, after, events)])
    after = before.copy()
    wipe(after, actors)
    with pytest.raises(InvariantViolation, match="adl_records_end_together"):
        adl_record.check_lifetime("settle", actors["operator"], before, after, after.events)


def test_i19_r9_a_record_leaves_its_account_free(case):
    """Issue 19, ninth review (G1): a first fix bound the whole account holding a live
    record until the next price, and a 1-lot dust bankruptcy (0.2755 USDC) gave the
    largest winner a 0.15 USDC record that locked 5,139.80 USDC of equity out of every
    market, renewable at each price (the winner could not sell a market-1 long that fell
    1,600.00 USDC). Nothing is bound now: trader2 sells market 1 after the first
    deleverage."""
    a_record_then_a_second_round(case)
    case.act(settle_trade("trader6", "trader2", 10, 20 * USDC, market=1))


def test_i19_r9_a_record_leaves_withdrawals_free(case):
    """Issue 19, ninth review (G1): the whole-account bind refused every withdrawal."""
    a_record_then_a_second_round(case)
    case.act("withdraw", "trader1", 100 * USDC)


def without_round_record(monkeypatch) -> None:
    """The design before the round's record: ADL capacity is the open profit alone."""

    def open_profit(position, market):
        return margin.unrealized_pnl(position, market)

    monkeypatch.setattr(margin, "adl_capacity", open_profit)
    monkeypatch.setattr(adl, "adl_capacity", open_profit)


def test_i19_the_replay_sees_a_capped_round(embedded_pair, monkeypatch):
    """``adl_order_free`` now compares capped rounds: without the round's record (the
    design before), replaying trader0's deleverage in both orders fails it."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    two_bankrupt_longs_deep(b)
    adl_rounds.check_round(embedded_pair.state.copy(), b.address("trader0"))  # holds now
    without_round_record(monkeypatch)
    with pytest.raises(InvariantViolation, match=r"adl_order_free: market 0: deleveraging"):
        adl_rounds.check_round(embedded_pair.state.copy(), b.address("trader0"))


def _more_when_second(monkeypatch, second: str, extra: int, keeper_only: bool) -> None:
    """Plant an order effect: ``second``'s deleverage after another of the round (a live
    record) charges each counterparty ``extra`` more, when a keeper calls it only with
    ``keeper_only``."""
    real = engine.process_deleverage

    def skewed(state, caller, address):
        pending = any(
            margin.adl_record_live(p, state.markets[market_id])
            for account in state.accounts.values()
            for market_id, p in account.positions.items()
        )
        real(state, caller, address)
        if address == second and pending and (caller != address or not keeper_only):
            state.events[:] = [
                (n, (*a[:5], a[5] + extra, *a[6:])) if n == "Deleverage" else (n, a)
                for n, a in state.events
            ]

    monkeypatch.setattr(engine, "process_deleverage", skewed)


def test_i19_the_replays_bound_the_order_by_the_rounding(embedded_pair, monkeypatch):
    """``adl_order_free`` replays each call made by the bankrupt account itself, which
    earns no keeper reward (N9), and again by a keeper, both within the rounding alone: an
    order effect of 0.01 USDC fails either. The keeper's replay allowed the round's
    rewards on the design before (19.50 USDC here, which the fund's room paid to the first
    call's keeper: which call came first was the keeper's order); a reward now joins its
    call's deficit, fixed by the position, and moves no charge."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    two_bankrupt_longs_deep(b, top_up=900 * USDC)
    before = embedded_pair.state.copy()
    keeper = before.copy()
    for trader in ("trader0", "trader4"):
        keeper.events.clear()
        engine.process_deleverage(keeper, b.address("outsider"), b.address(trader))
        if trader == "trader0":
            assert [a[2] for n, a in keeper.events if n == "KeeperReward"] == [19_500_000]
    adl_rounds.check_round(before.copy(), b.address("trader0"))  # holds now
    with monkeypatch.context() as patch:
        _more_when_second(patch, b.address("trader4"), 10_000, keeper_only=False)
        with pytest.raises(InvariantViolation, match=r"deleveraging .* each by itself"):
            adl_rounds.check_round(before.copy(), b.address("trader0"))
    with monkeypatch.context() as patch:
        _more_when_second(patch, b.address("trader4"), 10_000, keeper_only=True)
        with pytest.raises(InvariantViolation, match=r"deleveraging .* by a keeper"):
            adl_rounds.check_round(before.copy(), b.address("trader0"))


def test_i19_the_record_property_sees_a_lost_record(embedded_pair, monkeypatch):
    """``adl_round_record`` recomputes each counterparty's capacity after a deleverage: a
    ``_charge`` that writes no record (the design before) fails it."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    two_bankrupt_longs_deep(b)
    before = embedded_pair.state.copy()
    after = before.copy()
    after.events.clear()
    engine.process_deleverage(after, b.address("outsider"), b.address("trader0"))
    adl_record.check("deleverage", before, after, after.events)  # holds now

    def charge_without_record(state, address, market_id, amount, capacity, paid):
        account = state.accounts[address]
        position = account.positions.get(market_id)
        kept = 0
        if position is not None:
            kept = min(amount, max(margin.unrealized_pnl(position, state.markets[market_id]), 0))
            position.entry_notional += kept
        account.collateral -= amount - kept

    monkeypatch.setattr(engine, "_charge", charge_without_record)
    after = before.copy()
    after.events.clear()
    engine.process_deleverage(after, b.address("outsider"), b.address("trader0"))
    with pytest.raises(InvariantViolation, match=r"adl_round_record: .* capacity"):
        adl_record.check("deleverage", before, after, after.events)


def test_i19_r5_the_replay_sees_the_opposite_order(embedded_pair, monkeypatch):
    """``adl_order_free`` replays two bankrupt accounts on opposite sides of a market,
    every position of both: with the completion in holder order again (the design before
    the fifth review), the replay of trader0's deleverage fails it."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    opposite_bankrupt_losers(b)
    monkeypatch.setattr(
        adl_allocator,
        "completion_order",
        lambda holders: [h for h in holders if not adl_allocator.is_eligible(h)],
    )
    with pytest.raises(InvariantViolation, match=r"adl_order_free: market 0: .*\(opposite sides\)"):
        adl_rounds.check_round(embedded_pair.state.copy(), b.address("trader0"))


def three_markets_one_capped_winner(case) -> None:
    """A third market is listed. trader0 (long 10,000 at 1.00 in market 0) and trader1
    (long 400 at 25 in market 1) go bankrupt at 0.70 and 15. trader2 is short in both
    (5,000 and 200 lots) and long 10,000 of market 2 at 1.00, which falls to 0.48, so its
    equity caps what both markets may charge it; trader3 (short 15,000 in market 0) and
    trader4 (short 600 in market 1) are the other winners, trader6 holds solvent longs.
    The fund sits 100 USDC above nothing."""
    case.govern("add_market", listing(), asset_id("market-new"))
    case.price(2, 10**6)
    for trader, amount in (
        ("trader0", 1_010),
        ("trader1", 2_020),
        ("trader2", 2_520),
        ("trader3", 50_000),
        ("trader4", 50_000),
        ("trader5", 50_000),
        ("trader6", 50_000),
    ):
        case("deposit", trader, amount * USDC)
    case(settle_trade("trader0", "trader2", 5_000, 10**6))
    case(settle_trade("trader0", "trader3", 5_000, 10**6))
    case(settle_trade("trader6", "trader3", 10_000, 10**6))
    case(settle_trade("trader1", "trader2", 200, 25 * USDC, market=1))
    case(settle_trade("trader1", "trader4", 200, 25 * USDC, market=1))
    case(settle_trade("trader6", "trader4", 400, 25 * USDC, market=1))
    case(settle_trade("trader2", "trader5", 10_000, 10**6, market=2))
    case.govern("withdraw_insurance", case.state.insurance_fund - 100 * USDC)
    case.price(2, 480_000)
    case.price(0, 700_000)
    case.price(1, 15 * USDC)


def test_i19_r7_a_winners_equity_cap_couples_markets(case):
    """Issue 19, seventh review (stated, not fixed): trader2 wins in markets 0 and 1 but
    loses in market 2, and its equity caps what both may charge it. The keeper's order
    of the two bankrupt accounts, one per market, decides which market's deficit trader2
    pays: trader0 first, trader3 pays 1,421.25 USDC and trader4 1,649.75; trader1 first,
    1,653.50 and 1,417.50 (SPEC.md, "Across markets")."""
    three_markets_one_capped_winner(case)
    actors, winners = case.pair.actors, ("trader2", "trader3", "trader4")
    forward = deleveraged_in_order(case.state, actors, ("trader0", "trader1"), winners)
    backward = deleveraged_in_order(case.state, actors, ("trader1", "trader0"), winners)
    assert (forward["trader3"], forward["trader4"]) == (1_421_250_000, 1_649_750_000), forward
    assert (backward["trader3"], backward["trader4"]) == (1_653_500_000, 1_417_500_000), backward
    case.act("deleverage", "outsider", "trader0")


def test_i19_the_replay_steps_over_a_settling_call(embedded_pair):
    """The opposite-side replay deleverages every position of both accounts; a call on an
    account holding a position in a settled market only settles it and stops, with no
    fill (a million-step campaign crashed there: no ``Deleverage`` event to read a
    budget from). The replay now steps over it and goes on."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    opposite_bankrupt_losers(b)
    state = embedded_pair.state.copy()
    state.markets[1].settled = True  # both longs there settle at its last price first
    adl_rounds.check_round(state, b.address("trader0"))


def test_i19_the_properties_see_a_price_rescue_left_unseen(embedded_pair, monkeypatch):
    """The design before the price's round check (``end_resolved_round`` a no-op in the
    price's module): the price that rescues trader4 leaves the shorts' round open with no
    bankrupt holder opposite, which ``adl_round_ends_at_a_rescuing_price`` reports; with
    the check, the same price passes it."""
    embedded_pair.reset()
    b = Builder(embedded_pair, "adl", "unused", "")
    two_bankrupt_longs_deep(b)
    b("deleverage", "outsider", "trader0")
    actors, before = embedded_pair.actors, embedded_pair.state.copy()
    before.timestamp += 1
    price = Call("engine", "update_price", "oracle", (0, 950_000, before.timestamp))
    after, reason, events = spec_apply(before.copy(), actors, price)
    assert reason is None and after.markets[0].short_adl_round % 2 == 0
    check_properties(actors, [(price, before, after, events)])
    monkeypatch.setattr(governance, "end_resolved_round", lambda state, market, side: None)
    after, reason, events = spec_apply(before.copy(), actors, price)
    assert reason is None and after.markets[0].short_adl_round % 2 == 1
    with pytest.raises(InvariantViolation, match="adl_round_ends_at_a_rescuing_price"):
        check_properties(actors, [(price, before, after, events)])
