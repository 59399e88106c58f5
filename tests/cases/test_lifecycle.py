"""A market's end (issue 12, L1): delisting into final settlement, and the escape hatch
that lets a trader out when nobody serves its exit. Each case runs on the spec and on both
chains, then renders or checks ``tests/vectors/lifecycle/<name>.json``."""

import pytest
from scenarios import ALL, ASSET, listing, open_pair

from deployment.config import asset_id
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import DEFAULT_CONFIG, USDC
from harness.core.orders import settle_call
from harness.vectors.builder import Rejection, settle_trade
from pyspec import governance, margin
from pyspec.constants import EXIT_DELAY, EXIT_WINDOW, MAX_MARKETS
from pyspec.settlement import Order

DELAY = DEFAULT_CONFIG.governance_delay
DELIST = Calldata("delist_market", (0,))


def wait(case, seconds: int) -> None:
    case(Call(CLOCK, "wait", "", (seconds,)))


def delisted_at(case, price: int) -> None:
    """trader0 long 9,000 lots (9x) against trader1, then market 0 delisted at ``price``."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(Call("governor", "schedule", "owner", ("engine", DELIST)))
    wait(case, DELAY)
    case.price(0, price)
    case(Call("governor", "execute", "outsider", ("engine", DELIST)))


def request(trader: str, market: int = 0) -> Call:
    return Call("settlement", "request_exit", trader, (market,))


REJECTED = (
    Rejection(
        "cancel_exit_not_requested",
        "Only a standing request can be withdrawn (N1).",
        Call("settlement", "cancel_exit", "trader0", (0,)),
        "exit: not requested",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_delist(case):
    """The Governor delists market 0 at its fresh oracle price: funding stops, no price,
    rate or trade after; positions settle at that price when touched."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(Call("governor", "schedule", "owner", ("engine", DELIST)))
    wait(case, DELAY)
    case.price(0, 1_020_000)
    case.act(Call("governor", "execute", "outsider", ("engine", DELIST)))


def test_settled_position_closes_when_touched(case):
    """After delisting at 1.02, trader0's next call closes its long there: +180 USDC."""
    delisted_at(case, 1_020_000)
    before = case.state.accounts[case.address("trader0")].collateral
    case.act("deposit", "trader0", 1)
    after = case.state.accounts[case.address("trader0")].collateral
    assert after - before == 1 + 9_000 * 20_000


def test_final_settlement_is_zero_sum(case):
    """Both sides settle at the same price: what the long gains the short loses, exactly."""
    delisted_at(case, 1_020_000)
    accounts = case.state.accounts
    before = {t: accounts[case.address(t)].collateral for t in ("trader0", "trader1")}
    case("deposit", "trader0", 1)
    case.act("deposit", "trader1", 1)
    gained = {t: accounts[case.address(t)].collateral - before[t] - 1 for t in before}
    assert gained["trader0"] == -gained["trader1"] == 9_000 * 20_000
    assert not case.state.markets[0].holders and case.state.markets[0].open_interest == 0


def test_withdraw_all_after_settlement(case):
    """A settled market's price never goes stale: hours later, each side withdraws all."""
    delisted_at(case, 1_020_000)
    wait(case, 7_200)
    case("deposit", "trader1", 1)
    case.act("withdraw", "trader1", case.state.accounts[case.address("trader1")].collateral)


def test_n2_no_settlement_over_a_bankruptcy(case):
    """N2: at 0.85 trader0 (9x long) is bankrupt. The Governor's delisting is refused until
    its deficit has gone through the live waterfall: the old design settled the market,
    paid trader1's profit in full and wrote trader0's deficit off to the fund."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(Call("governor", "schedule", "owner", ("engine", DELIST)))
    wait(case, DELAY)
    case.price(0, 850_000)
    assert margin.equity(case.state, case.address("trader0")) < 0
    case.act(
        Call("governor", "execute", "outsider", ("engine", DELIST)),
        reverts="market: bankrupt holder",
    )


def test_n2_settlement_after_the_waterfall(case):
    """N2: the bankrupt long is deleveraged first (the fund, then the market's ADL policy
    charges trader1's profit); then the delisting goes through, and nobody's deficit is
    left for settlement to write off."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(Call("governor", "schedule", "owner", ("engine", DELIST)))
    wait(case, DELAY)
    case.price(0, 850_000)
    case("deleverage", "outsider", "trader0")
    case.act(Call("governor", "execute", "outsider", ("engine", DELIST)))
    assert case.state.bad_debt == 0


def test_n2_no_escape_over_a_bankruptcy(case):
    """N2: a self-dealing pair cannot escape right after a gap: with trader0 bankrupt at
    0.85, the escape is refused until trader0 is deleveraged."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    wait(case, 1)
    case(request("trader1"))
    wait(case, EXIT_DELAY)
    case.price(0, 850_000)
    case.act(escape("trader1"), reverts="market: bankrupt holder")


def test_no_exit_request_in_a_settled_market(case):
    """A settled market needs no exit: its positions settle when touched."""
    delisted_at(case, 1_020_000)
    case.act(
        Call("settlement", "request_exit", "trader0", (0,)),
        reverts="market: settled",
    )


def test_request_exit(case):
    """trader0 asks to leave its 9,000-lot long at the oracle price."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case.act(request("trader0"))


def test_exit_taken_at_the_oracle_price(case):
    """trader2 takes trader0's whole position over at the oracle price (trader2 pays the
    taker fee); the request is cleared."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case.price(0, 1_010_000)
    case(request("trader0"))
    case("deposit", "trader2", 2_000 * USDC)
    case.act(Call("settlement", "take_exit", "trader2", ("trader0", 0)))
    assert case.size("trader0") == 0 and case.size("trader2") == 9_000


def test_exit_void_after_the_position_changed(case):
    """A liquidation shrank trader0's position: its old request no longer names it."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(request("trader0"))
    case.price(0, 930_000)
    case("liquidate", "trader1", "trader0", 0, 1_000)
    case("deposit", "trader2", 2_000 * USDC)
    case.act(
        Call("settlement", "take_exit", "trader2", ("trader0", 0)),
        reverts="exit: position changed",
    )


def test_exit_cleared_by_a_trade(case):
    """A trade of the trader in that market clears its request."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(request("trader0"))
    case(settle_trade("trader1", "trader0", 1_000, 10**6))
    case.act(
        Call("settlement", "escape", "outsider", ("trader0", 0)),
        reverts="exit: not requested",
    )


def operator_gone(case, trader: str = "trader0") -> None:
    """A second after the last match, ``trader`` asks to exit; nobody matches or takes an
    exit for EXIT_DELAY; the oracle still publishes (the escape needs a fresh price)."""
    wait(case, 1)
    case(request(trader))
    wait(case, EXIT_DELAY)
    case.price(0, case.state.markets[0].price)


def escape(trader: str = "trader0") -> Call:
    return Call("settlement", "escape", "outsider", (trader, 0))


def test_l1_escape_when_the_operator_vanishes(case):
    """L1: the operator is gone with trader0's 9x long open (900 USDC of initial margin
    locked behind it). trader0 asks to exit; nobody takes it and nobody trades for
    EXIT_DELAY; anyone then settles the market at its fresh price, and trader0 withdraws
    everything it has."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    operator_gone(case)
    case(escape())
    case("deposit", "trader0", 1)  # touched: the long settles at the final price
    left = case.state.accounts[case.address("trader0")].collateral
    assert left > 900 * USDC
    case.act("withdraw", "trader0", left)


def test_escape(case):
    """Nobody took trader0's exit and nobody traded for EXIT_DELAY: anyone settles market
    0 at its fresh oracle price."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    operator_gone(case)
    case.act(escape())


def test_escape_too_early(case):
    """Until the deadline, only a takeover serves the request."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(request("trader0"))
    wait(case, EXIT_DELAY - 1)
    case.act(escape(), reverts="exit: too early")


def test_cancel_exit(case):
    """N1: a trader withdraws its exit request; nothing can take or escape it after."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    case(request("trader0"))
    case.act(Call("settlement", "cancel_exit", "trader0", (0,)))
    assert not case.state.book.exit_requests


def test_n1_dormant_request_stays_void(case):
    """N1: a liquidation shrank trader0's requested 9,000-lot long to 8,000; trader0 then
    liquidated trader2 for 1,000 lots, back to 9,000. The request named the position by its
    fill stamp, so it stays void: the old design let the restored request settle the
    whole market at a moment of the holder's choosing."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    open_pair(case, "trader2", "trader3", 9_000, 10**6, 1_000)
    wait(case, 1)
    case(request("trader0"))
    case.price(0, 930_000)
    case("liquidate", "trader1", "trader0", 0, 1_000)
    case("deposit", "trader0", 5_000 * USDC)
    case("liquidate", "trader0", "trader2", 0, 1_000)
    assert case.size("trader0") == 9_000
    wait(case, EXIT_DELAY)
    case.price(0, 930_000)
    case.act(escape(), reverts="exit: position changed")


def test_n1_no_escape_while_the_operator_trades(case):
    """N1: the operator still matches orders (trader2 and trader3 trade an hour after
    trader0's request): the market runs, so trader0's way out is a trade or a takeover,
    never the settlement of everyone's positions."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    wait(case, 1)
    case(request("trader0"))
    wait(case, 3_600)
    case.price(0, 10**6)
    case("deposit", "trader2", 1_000 * USDC)
    case("deposit", "trader3", 1_000 * USDC)
    case(settle_trade("trader2", "trader3", 1_000, 10**6))
    wait(case, EXIT_DELAY)
    case.price(0, 10**6)
    case.act(escape(), reverts="exit: operator active")


def test_n1_request_lapses(case):
    """N1: a request unserved and unescaped lapses EXIT_WINDOW after its deadline: a
    stranger cannot settle the market with a forgotten request weeks later."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    wait(case, 1)
    case(request("trader0"))
    wait(case, EXIT_DELAY + EXIT_WINDOW + 1)
    case.price(0, 10**6)
    case.act(escape(), reverts="exit: expired")


def test_n3_no_escape_at_a_stale_price(case):
    """N3: the feed stopped at 1.00 when trader0 asked to exit; a day later the price is a
    day old. The escape is refused: the old design settled the market at the stale price,
    moving value to the side it favoured."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    wait(case, 1)
    case(request("trader0"))
    wait(case, EXIT_DELAY)
    case.act(escape(), reverts="oracle: stale price")


def test_no_liquidation_in_a_settled_market(case):
    """A liquidator's call settles the position first, then finds nothing to liquidate."""
    delisted_at(case, 1_020_000)
    case("deposit", "trader2", 1_000 * USDC)
    case.act("liquidate", "trader2", "trader0", 0, ALL, reverts="liquidate: no position")


def governed(case, fn: str, *args, act: bool = False, reverts: str | None = None) -> None:
    """``fn(*args)`` on the engine through the Governor: scheduled, waited out, executed
    (the execution is the case's action when ``act``)."""
    data = Calldata(fn, args)
    case(Call("governor", "schedule", "owner", ("engine", data)))
    wait(case, DELAY)
    execute = Call("governor", "execute", "outsider", ("engine", data))
    if act:
        case.act(execute, reverts=reverts)
    else:
        case(execute)


def at_max_markets_with_market_0_settled(case) -> None:
    """trader0 long 9,000 lots against trader1 on market 0; six more markets listed
    through the timelock (eight: MAX_MARKETS); market 0 delisted at 1.02, neither holder
    touched since."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    listings = [
        Calldata(
            "add_market",
            (
                listing(min_position_notional=i),
                ASSET,
            ),
        )
        for i in range(6)
    ]
    for data in listings:
        case(Call("governor", "schedule", "owner", ("engine", data)))
    wait(case, DELAY)
    for data in listings:
        case(Call("governor", "execute", "outsider", ("engine", data)))
    assert len(case.state.markets) == MAX_MARKETS
    case(Call("governor", "schedule", "owner", ("engine", DELIST)))
    wait(case, DELAY)
    case.price(0, 1_020_000)
    case(Call("governor", "execute", "outsider", ("engine", DELIST)))


def test_n1_a_settled_market_frees_its_slot(case):
    """N1: six kills used every listing slot up. Once anyone's deleverage has settled the
    positions nobody touched (the call stops after settling them), market 0's slot holds
    nothing, and a listing takes it: a new generation, no price yet. On the old design the
    listing was refused ("market: too many markets")."""
    at_max_markets_with_market_0_settled(case)
    case("deleverage", "outsider", "trader0")
    case("deleverage", "outsider", "trader1")
    assert not case.state.markets[0].holders
    governed(case, "add_market", listing(), ASSET, act=True)
    market = case.state.markets[0]
    generation = governance.next_generation(0, listing(), ASSET)
    assert (market.generation, market.settled, market.price) == (generation, False, 0)


def test_n1_a_slot_is_free_only_once_no_position_holds_it(case):
    """N1: while trader1's settled position is untouched, market 0's slot is not free."""
    at_max_markets_with_market_0_settled(case)
    case("deleverage", "outsider", "trader0")
    governed(case, "add_market", listing(), ASSET, act=True, reverts="market: too many markets")


def relisted(case) -> None:
    """Market 0 settled, emptied and listed again (a new generation), priced at 1.00."""
    at_max_markets_with_market_0_settled(case)
    case("deleverage", "outsider", "trader0")
    case("deleverage", "outsider", "trader1")
    governed(case, "add_market", listing(), ASSET)
    case.price(0, 10**6)


def test_n1_an_order_for_a_settled_listing_never_fills(case):
    """N1: orders name the listing, slot + MAX_MARKETS x generation. Orders trader2 and
    trader3 signed for market 0's first listing (key 0) are refused on the market listed in
    its slot since; the same orders for its key trade."""
    relisted(case)
    case("deposit", "trader2", 1_000 * USDC)
    case("deposit", "trader3", 1_000 * USDC)
    expiry = case.state.timestamp + 3_600
    for key in (0, governance.market_key(case.state, 0)):
        maker = Order(case.address("trader2"), key, True, 10, 10**6, False, 0, expiry)
        taker = Order(case.address("trader3"), key, False, 10, 10**6, False, 0, expiry)
        call = settle_call(case.state, case.pair.actors, maker, taker, 10, 10**6)
        if key == 0:
            case(call, reverts="market: unknown market")
        else:
            case.act(call)
    assert case.size("trader2") == 10


def test_i18_an_order_for_a_listing_not_made_fills_only_on_it(case):
    """Issue 18 residual: the Governor has announced a listing of one asset for market 0's
    freed slot, and trader2 and trader3 sign orders for it, naming the key a trader reads
    off the announcement (listed on a copy of the state). A listing of another asset on
    the same risk tier (the same parameters) is executed first and takes the slot: the
    orders are refused there ("market: unknown market"). On the design before, a key
    named only the slot and its count of listings (8), and the orders filled on whichever
    listing came first; hashing the parameters alone (a review) still let them fill."""
    at_max_markets_with_market_0_settled(case)
    case("deleverage", "outsider", "trader0")
    case("deleverage", "outsider", "trader1")
    preview = case.state.copy()
    governance.process_add_market(preview, preview.governor, listing(), asset_id("announced"))
    key = governance.market_key(preview, 0)
    governed(case, "add_market", listing(), asset_id("another"))
    case.price(0, 10**6)
    case("deposit", "trader2", 1_000 * USDC)
    case("deposit", "trader3", 1_000 * USDC)
    expiry = case.state.timestamp + 3_600
    maker = Order(case.address("trader2"), key, True, 10, 10**6, False, 0, expiry)
    taker = Order(case.address("trader3"), key, False, 10, 10**6, False, 0, expiry)
    call = settle_call(case.state, case.pair.actors, maker, taker, 10, 10**6)
    case.act(call, reverts="market: unknown market")


def test_n1_a_governor_call_for_an_unlisted_key_is_refused(case):
    """N1 residual: a parameter change or a delisting scheduled for a key no market holds
    now (slot 2 is unlisted; key 8, generation 1 of slot 0, is no listing's) would apply
    to whichever market a later listing puts there: the Governor refuses to schedule it ("market:
    unknown market"). For a listed key it schedules."""
    case(Call("governor", "schedule", "owner", ("engine", Calldata("delist_market", (1,)))))
    for key in (2, MAX_MARKETS):
        delist = Call(
            "governor", "schedule", "owner", ("engine", Calldata("delist_market", (key,)))
        )
        case(delist, reverts="market: unknown market")
    params = Calldata("set_market_params", (MAX_MARKETS, listing(taker_fee_ratio=2_000)))
    case.act(
        Call("governor", "schedule", "owner", ("engine", params)), reverts="market: unknown market"
    )


def test_n1_a_governor_call_for_a_settled_listing_never_applies(case):
    """N1: a parameter change scheduled for market 0's first listing, executed after the
    market in its slot changed, is refused ("market: unknown market"); named by the new
    listing's key, it applies."""
    data = Calldata("set_market_params", (0, listing(taker_fee_ratio=2_000)))
    case(Call("governor", "schedule", "owner", ("engine", data)))
    relisted(case)
    execute = Call("governor", "execute", "outsider", ("engine", data))
    case(execute, reverts="market: unknown market")
    key = governance.market_key(case.state, 0)
    governed(case, "set_market_params", key, listing(taker_fee_ratio=2_000), act=True)
    assert case.state.markets[0].taker_fee_ratio == 2_000
