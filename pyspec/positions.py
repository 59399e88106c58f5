"""Fills against a position: open, increase, reduce, close, flip.

Contract: ``contracts/engine/positions.vy``.
"""

from pyspec.constants import MAX_POSITIONS_PER_MARKET
from pyspec.errors import require
from pyspec.fixed_math import ceil_div, floor_div, sign
from pyspec.state import Position, State, get_account


def apply_fill(state: State, address: str, market_id: int, delta: int, cash: int) -> None:
    """Add ``delta`` lots to a position for ``cash`` received by the account (signed).

    Cost-basis accounting: opening adds -cash to the entry notional; closing removes
    ceil(entry x closed / |size|) of it and realizes cash_close - removed into collateral,
    so a realized profit rounds down. When a fill flips the position, the closing share of
    the cash is floor(cash x closed / |delta|) (a payout, rounded down) and the rest opens
    the new side. Both counterparties of a fill see the same cash with opposite signs, so
    sum(collateral - entry notional) is unchanged exactly. Every fill stamps the position
    with the engine's next fill number: an exit request names the position by it, so any
    change voids the request for good, wherever it happens (N1). Every fill ends the
    round's ADL record (``margin.adl_capacity``): a deleverage writes its own after. Contract:
    ``positions.apply_fill``.
    """
    account = get_account(state, address)
    market = state.markets[market_id]
    position = account.positions.get(market_id)
    old_size = position.size if position else 0
    if position is None:
        require(len(market.holders) < MAX_POSITIONS_PER_MARKET, "market: position limit reached")
        position = Position(funding_checkpoint=market.funding_index)
        account.positions[market_id] = position
        market.holders.append(address)

    if old_size == 0 or sign(old_size) == sign(delta):
        position.entry_notional -= cash
        position.size += delta
    else:
        closed = min(abs(delta), abs(old_size))
        cash_close = cash if closed == abs(delta) else floor_div(cash * closed, abs(delta))
        removed = ceil_div(position.entry_notional * closed, abs(old_size))
        account.collateral += cash_close - removed
        position.entry_notional -= removed + (cash - cash_close)
        position.size += delta

    state.fill_count += 1
    position.last_fill = state.fill_count
    position.adl_round = position.adl_paid = position.adl_profit = (
        0  # an ADL fill records its own (``_charge``)
    )
    new_size = position.size
    market.open_interest += max(new_size, 0) - max(old_size, 0)
    if new_size == 0:
        del account.positions[market_id]
        _remove_holder(market.holders, address)


def _remove_holder(holders: list[str], address: str) -> None:
    """Swap-and-pop ``address`` out of the holder list. Contract: ``positions._remove_holder``."""
    index = holders.index(address)
    holders[index] = holders[-1]
    holders.pop()


def reduces_risk(old_size: int, new_size: int) -> bool:
    """Check the position shrank without changing side. Contract: ``positions.reduces_risk``."""
    return abs(new_size) < abs(old_size) and sign(new_size) != -sign(old_size)
