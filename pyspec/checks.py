"""Checks, round endings and the payout shared by the engine's entry points and its governance.

Contract: ``contracts/engine/checks.vy``.
"""

from pyspec import margin, token
from pyspec.errors import require
from pyspec.state import Market, State, get_position


def require_fresh(state: State, market_id: int) -> None:
    """A risk-relevant action needs the market's price no older than its max_price_age;
    a settled market's price is final and never goes stale.

    Contract: ``checks.require_fresh``. Anchor: GMX v2 ``Oracle.sol``
    (``MaxPriceAgeExceeded``).
    """
    market = state.markets[market_id]
    require(
        market.settled or state.timestamp - market.price_timestamp <= market.max_price_age,
        "oracle: stale price",
    )


def require_market(state: State, market_id: int) -> Market:
    """A listed market. Contract: ``checks.require_market``."""
    require(market_id < len(state.markets), "market: unknown market")
    return state.markets[market_id]


def require_live(state: State, market_id: int) -> Market:
    """A listed market that has not been delisted. Contract: ``checks.require_live``."""
    market = require_market(state, market_id)
    require(not market.settled, "market: settled")
    return market


def solvent_holders(state: State, market_id: int, side: int) -> bool:
    """Check no holder of the market opposite a position of ``side`` lots has a deficit
    its deleverage there charges to that side: equity < 0 and a deficit weight in this
    market (a loss that arose elsewhere is charged elsewhere, M-W3). Every holder (side
    0): no holder has equity < 0, wherever its loss arose.

    Contract: ``checks.solvent_holders``."""
    return all(
        margin.equity(state, h) >= 0
        or (side != 0 and margin.deficit_weights(state, h, market_id)[0] == 0)
        for h in state.markets[market_id].holders
        if get_position(state, h, market_id).size * side <= 0
    )


def end_resolved_round(state: State, market_id: int, side: int) -> None:
    """End the round of the winners on ``side`` of the market once no bankrupt holder is
    opposite them (issue 19). A deficit is resolved by a deleverage, but also by a
    liquidation the fund covers, the bankrupt holder's own deposit, or a price that
    rescues it, and a record that outlives it is another bankruptcy's to draw on: a second
    review's attacker bankrupted its own long against its own short and drew on passive
    winners' records (130.19 to 239.27 USDC at 20,000 lots after a top-up, 208.37 after a
    price rescue). The scan runs only while the round is open.
    Contract: ``checks.end_resolved_round``."""
    market = state.markets[market_id]
    if margin.adl_round(market, side) % 2 and solvent_holders(state, market_id, side):
        margin.end_adl_round(market, side)


def claims(state: State) -> int:
    """All claims on the engine, E of the loss rule: its token balance less the fund, plus
    the bad debt recorded (the sum of collateral, unsettled PnL and funding, and the
    funding units the protocol keeps). Contract: ``checks.claims``."""
    return state.token.balance_of(state.address) - state.insurance_fund + state.bad_debt


def push(state: State, receiver: str, amount: int) -> None:
    """Pay ``amount`` to ``receiver``, after every state change. Contract: ``checks.push``."""
    require(token.transfer(state.token, state.address, receiver, amount), "token: transfer failed")
