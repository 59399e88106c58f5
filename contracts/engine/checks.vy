# pragma version ~=0.4.3
"""
@title The engine's shared checks, round endings and token transfers
@notice The checks, round endings and transfers both the engine's entry points (contracts/PerpEngine.vy)
        and its governance entry points (contracts/EngineGovernance.vy, run in the
        engine's storage) make. Spec: `pyspec/engine.py`.
"""

import engine.storage as storage
import engine.margin as margin

uses: storage
uses: margin


@internal
@view
def require_fresh(market_id: uint256):
    """
    @notice The market's price is at most its max_price_age old, or the market is settled
            (its price is final). Spec: `checks.require_fresh`.
    """
    # three fields, not the whole market: every other field read here would be a cold slot
    assert (
        storage.markets[market_id].settled
        or block.timestamp - storage.markets[market_id].price_timestamp
        <= storage.markets[market_id].max_price_age
    ), "oracle: stale price"


@internal
@view
def require_market(market_id: uint256):
    """
    @notice A listed market. Spec: `checks.require_market`.
    @dev Callers read the fields they use: a whole market is 25 slots, most of them cold.
    """
    assert market_id < storage.market_count, "market: unknown market"


@internal
@view
def require_live(market_id: uint256):
    """
    @notice A listed market that has not been delisted. Spec: `checks.require_live`.
    """
    self.require_market(market_id)
    assert not storage.markets[market_id].settled, "market: settled"


@internal
@view
def solvent_holders(market_id: uint256, side: int256) -> bool:
    """
    @notice Check no holder of the market opposite a position of `side` lots has a deficit
            its deleverage there charges to that side: equity < 0 and a deficit weight in
            this market (a loss that arose elsewhere is charged elsewhere, M-W3). Every
            holder (side 0): no holder has equity < 0. Spec: `checks.solvent_holders`.
    """
    for holder: address in storage.holders[market_id]:
        if storage.positions[holder][market_id].size * side <= 0:
            if margin.equity(holder) < 0:
                if side == 0:
                    return False
                weight: int256 = 0
                total: int256 = 0
                weight, total = margin.deficit_weights(holder, market_id)
                if weight != 0:
                    return False
    return True


@internal
def end_resolved_round(market_id: uint256, side: int256):
    """
    @notice End the round of the winners on `side` once no bankrupt holder is opposite
            them: a deleverage, a fund-covered liquidation, a bankrupt holder's deposit or
            a price may resolve a deficit. Spec: `checks.end_resolved_round`.
    """
    if margin.adl_round(market_id, side) % 2 == 1:
        if self.solvent_holders(market_id, side):
            margin.next_adl_round(market_id, side, False)


@internal
@pure
def covers(balance: int256, amount: uint256) -> bool:
    """
    @notice Check amount <= balance for any uint256 amount and signed balance.
    """
    if balance < 0:
        return False
    return amount <= convert(balance, uint256)


@internal
@view
def token_balance() -> uint256:
    """
    @notice The engine's token balance.
    """
    return staticcall storage.token.balanceOf(self)


@internal
@view
def claims() -> uint256:
    """
    @notice All claims on the engine, E of the loss rule: its token balance less the fund,
            plus the bad debt recorded. Spec: `checks.claims`.
    """
    return self.token_balance() - storage.insurance_fund + storage.bad_debt


@internal
def push(receiver: address, amount: uint256):
    """
    @notice Pay `amount` to `receiver`, after every state change. Spec: `checks.push`.
    """
    assert extcall storage.token.transfer(
        receiver, amount, default_return_value=True
    ), "token: transfer failed"
