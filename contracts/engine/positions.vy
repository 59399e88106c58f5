# pragma version ~=0.4.3
"""
@title Fills against a position: open, increase, reduce, close, flip
@notice Spec: `pyspec/positions.py`.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage

uses: storage


@internal
def apply_fill(account: address, market_id: uint256, delta: int256, cash: int256):
    """
    @notice Add `delta` lots to the position for `cash` received by the account (signed).
    @dev Cost basis: opening adds -cash to the entry notional; closing removes
         ceil(entry x closed / |size|) and realizes cash_close - removed, so a realized
         profit rounds down; on a flip the closing share of the cash is
         floor(cash x closed / |delta|). Every fill stamps the position with the next
         fill number, which an exit request names (N1), and ends the round's ADL record.
         Spec: `positions.apply_fill`.
    """
    position: storage.Position = storage.positions[account][market_id]
    old_size: int256 = position.size
    if old_size == 0:
        assert (
            len(storage.holders[market_id]) < constants.MAX_POSITIONS_PER_MARKET
        ), "market: position limit reached"
        storage.holders[market_id].append(account)
        position.funding_checkpoint = storage.markets[market_id].funding_index

    if old_size == 0 or fixed_math.sign(old_size) == fixed_math.sign(delta):
        position.entry_notional -= cash
        position.size += delta
    else:
        closed: int256 = min(abs(delta), abs(old_size))
        cash_close: int256 = cash
        if closed != abs(delta):
            cash_close = fixed_math.floor_div(cash * closed, abs(delta))
        removed: int256 = fixed_math.ceil_div(position.entry_notional * closed, abs(old_size))
        storage.collateral[account] += cash_close - removed
        position.entry_notional -= removed + (cash - cash_close)
        position.size += delta

    fill: uint256 = storage.fill_count + 1
    storage.fill_count = fill
    # every fill ends the round's ADL record (ADL writes its own) and keeps its number
    position.stamp = fill << constants.LAST_FILL_SHIFT
    new_size: int256 = position.size
    if new_size > 0 or old_size > 0:  # open interest counts the longs
        open_interest: int256 = convert(storage.markets[market_id].open_interest, int256)
        storage.markets[market_id].open_interest = convert(
            open_interest + max(new_size, 0) - max(old_size, 0), uint256
        )
    if new_size == 0:
        storage.positions[account][market_id] = empty(storage.Position)
        self._remove_holder(market_id, account)
        return
    storage.positions[account][market_id] = position


@internal
def _remove_holder(market_id: uint256, account: address):
    """
    @notice Swap-and-pop `account` out of the market's holders. Spec: `positions._remove_holder`.
    """
    count: uint256 = len(storage.holders[market_id])
    for i: uint256 in range(count, bound=constants.MAX_POSITIONS_PER_MARKET):
        if storage.holders[market_id][i] == account:
            storage.holders[market_id][i] = storage.holders[market_id][count - 1]
            storage.holders[market_id].pop()
            return


@internal
@pure
def reduces_risk(old_size: int256, new_size: int256) -> bool:
    """
    @notice Check the position shrank without changing side. Spec: `positions.reduces_risk`.
    """
    return abs(new_size) < abs(old_size) and fixed_math.sign(new_size) != -fixed_math.sign(
        old_size
    )
