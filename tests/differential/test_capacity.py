"""L3 (issue 12): one-lot sybil positions cannot lock a market against liquidators.

Trades may fill a market's holder list only up to MAX_POSITIONS_PER_MARKET -
LIQUIDATOR_RESERVE; the reserved slots are for liquidators taking positions over. On the
old design thirty 1-lot sybils (3.03 USDC) filled the market and an outside liquidator with
100,000 USDC got "market: position limit reached". Runs on the spec and on both chains.
"""

from deployment.config import LISTING_FIELDS
from harness.core.actions import price_stamp
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.pair import Pair
from harness.core.sequence import CheckedSequence
from pyspec.constants import LIQUIDATOR_RESERVE, MAX_POSITION_SIZE, MAX_POSITIONS_PER_MARKET

TRADERS = MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE + 2  # one pair beyond the trade cap


def engine(fn: str, sender: str, *args) -> Call:
    return Call("engine", fn, sender, args)


def test_l3_outside_liquidator_enters_a_market_sybils_filled(chain):
    chain.add_accounts(max(4 + TRADERS - len(chain.accounts), 0))
    pair = Pair(chain, n_traders=TRADERS)
    sequence = CheckedSequence(pair)

    def run(call):
        return sequence.call(call)

    for trader in ("trader0", "trader1"):  # the victim, 9x long, and its counterparty
        run(engine("deposit", trader, 1_000 * USDC))
    assert run(Match("trader0", "trader1", 0, 9_000, 10**6)).success
    refused = None
    for i in range(2, TRADERS, 2):  # sybil pairs: one lot each, 10 USDC of collateral
        for trader in (f"trader{i}", f"trader{i + 1}"):
            run(engine("deposit", trader, 10 * USDC))
        outcome = run(Match(f"trader{i}", f"trader{i + 1}", 0, 1, 10**6))
        if not outcome.success:
            refused = outcome.reason
            break
    holders = pair.state.markets[0].holders
    assert refused == "market: position limit reached"
    assert len(holders) == MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE

    run(engine("deposit", "outsider", 100_000 * USDC))
    waits, timestamp = price_stamp(pair.state, 0)
    for wait in waits:
        run(wait)
    run(engine("update_price", "oracle", 0, 930_000, timestamp))
    outcome = run(engine("liquidate", "outsider", "trader0", 0, MAX_POSITION_SIZE))
    assert outcome.success, outcome.reason
    outsider, victim = pair.address("outsider"), pair.address("trader0")
    assert outsider in holders and victim in holders  # a partial takeover, a reserved slot


def test_l3_a_holder_slot_costs_the_minimum_notional(pair):
    """With a 100 USDC minimum notional (set through the Governor), a one-lot sybil is
    refused and each slot takes 100 lots: 10 USDC of initial margin at 10% (and fees), so the 28
    tradable slots of a market cost 280 USDC of margin and their price risk, where thirty
    one-lot sybils cost 3.03 USDC on the old design."""
    sequence = CheckedSequence(pair)
    params = list(pair.config.markets[0].listing())
    params[LISTING_FIELDS.index("min_position_notional")] = 100 * USDC
    data = Calldata("set_market_params", (0, tuple(params)))
    assert sequence.call(Call("governor", "schedule", "owner", ("engine", data))).success
    sequence.call(Call(CLOCK, "wait", "", (pair.config.governance_delay,)))
    assert sequence.call(Call("governor", "execute", "outsider", ("engine", data))).success
    sequence.call(engine("update_price", "oracle", 0, 10**6, pair.state.timestamp))
    for trader in ("trader2", "trader3"):
        sequence.call(engine("deposit", trader, 11 * USDC))
    refused = sequence.call(Match("trader2", "trader3", 0, 1, 10**6))
    assert refused.reason == "trade: buyer position too small"
    assert sequence.call(Match("trader2", "trader3", 0, 100, 10**6)).success
