"""The position bound (``MAX_POSITION_SIZE``, 10^12 lots) on the spec and both chains: a
trade takes a position to the bound and not one lot beyond, on the buyer's and on the
seller's side, and a liquidation does not take its liquidator beyond it. A trade is at
most ``MAX_TRADE_SIZE`` lots, so a thousand of them build the bound: no campaign comes
near it, and until 2026-12-05 no test reached these three reasons."""

from harness.core.call import CLOCK, Call
from harness.core.orders import Match
from pyspec.constants import MAX_POSITION_SIZE, MAX_TRADE_SIZE

PRICE = 100  # collateral units per lot: the bound is 10^8 USDC of notional
WHALE = 3 * 10**15  # collateral units: three deposits at the deposit bound


def succeed(pair, call) -> None:
    outcome = pair.apply(call)
    assert outcome.success, (call, outcome.reason)


def fund(pair, trader: str, amount: int) -> None:
    succeed(pair, Call("token", "mint", "owner", (trader, amount)))
    succeed(pair, Call("token", "approve", trader, ("engine", amount)))
    for _ in range(amount // 10**15):
        succeed(pair, Call("engine", "deposit", trader, (10**15,)))
    if amount % 10**15:
        succeed(pair, Call("engine", "deposit", trader, (amount % 10**15,)))


def price(pair, value: int) -> None:
    succeed(pair, Call(CLOCK, "wait", "outsider", (60,)))
    succeed(pair, Call("engine", "update_price", "oracle", (0, value, pair.state.timestamp)))


def refused(pair, call) -> str:
    outcome = pair.apply(call)  # the same reason on the chain, or a Divergence
    assert not outcome.success
    return outcome.reason


def test_a_position_stops_at_the_bound(pair):
    pair.reset()
    for trader, amount in (("trader0", WHALE), ("trader1", WHALE), ("trader3", 10**13)):
        fund(pair, trader, amount)
    fund(pair, "trader2", 12_000 * 10**6)
    price(pair, PRICE)
    for _ in range(MAX_POSITION_SIZE // MAX_TRADE_SIZE):  # to the bound exactly: allowed
        succeed(pair, Match("trader0", "trader1", 0, MAX_TRADE_SIZE, PRICE))
    assert pair.state.accounts[pair.actors["trader0"]].positions[0].size == MAX_POSITION_SIZE
    one_more = Match("trader0", "trader1", 0, 1, PRICE)
    assert refused(pair, one_more) == "trade: buyer position too large"
    sell_more = Match("trader3", "trader1", 0, MAX_TRADE_SIZE, PRICE)
    assert refused(pair, sell_more) == "trade: seller position too large"

    # trader2 short 10^9 lots, liquidatable and solvent after a 7% rise
    succeed(pair, Match("trader3", "trader2", 0, MAX_TRADE_SIZE, PRICE))
    price(pair, PRICE * 107 // 100)
    lot = ("trader2", 0, 1)  # one lot taken over
    assert refused(pair, Call("engine", "liquidate", "trader1", lot)) == (
        "liquidate: position too large"  # trader1's short at the bound, one lot more
    )
    succeed(pair, Match("trader1", "trader3", 0, 1, PRICE * 107 // 100))  # one lot back
    succeed(pair, Call("engine", "liquidate", "trader1", lot))  # to the bound exactly
    assert pair.state.accounts[pair.actors["trader1"]].positions[0].size == -MAX_POSITION_SIZE
    succeed(pair, Call("engine", "liquidate", "trader0", ("trader2", 0, MAX_TRADE_SIZE)))
