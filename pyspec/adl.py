"""Auto-deleveraging ranking and socialized loss. Contract: ``contracts/engine/adl.vy``.

Ranking follows BitMEX: only profitable positions are candidates, ranked by
PnL% x effective leverage = (upnl / |entry notional|) x (|size x price| / account equity).
Ranks are compared by cross-multiplication (as dYdX ``risk.go`` ``Cmp``), never as a
rounded quotient; equal ranks go to the lower address first.
"""

from pyspec.constants import ADL_QUANTILES
from pyspec.fixed_math import ceil_div, floor_div, sign
from pyspec.margin import equity, unrealized_pnl
from pyspec.state import State


def compute_adl_rank(
    upnl: int, position_value: int, entry_notional: int, account_equity: int
) -> tuple:
    """Return the rank as a fraction (upnl x |position value|, |entry notional| x equity).

    No division, so no rounding. Contract: ``adl.compute_adl_rank``. Anchor: BitMEX ADL
    ranking, PnL% x effective leverage.
    """
    return upnl * abs(position_value), abs(entry_notional) * account_equity


def ranks_before(rank_a: tuple, address_a: str, rank_b: tuple, address_b: str) -> bool:
    """Check a is deleveraged before b: a higher rank, or an equal one and a lower address.

    a/b > c/d  <=>  a x d > c x b for positive denominators (an entry notional of zero
    gives denominator zero, an unbounded rank, and compares the same way).
    Contract: ``adl.ranks_before``. Anchor: dYdX v4 ``risk.go`` ``Cmp``.
    """
    left = rank_a[0] * rank_b[1]
    right = rank_b[0] * rank_a[1]
    if left != right:
        return left > right
    return int(address_a, 16) < int(address_b, 16)


def adl_candidates(state: State, market_id: int, side: int) -> list[tuple[str, tuple]]:
    """Return (address, rank) of profitable positions on ``side`` in rank order.

    A candidate's account must have positive equity (effective leverage is defined).
    Contract: ``adl.adl_candidates``.
    """
    market = state.markets[market_id]
    found = []
    for address in market.holders:
        position = state.accounts[address].positions[market_id]
        if sign(position.size) != side:
            continue
        upnl = unrealized_pnl(position, market)
        account_equity = equity(state, address)
        if upnl <= 0 or account_equity <= 0:
            continue
        rank = compute_adl_rank(
            upnl, position.size * market.price, position.entry_notional, account_equity
        )
        found.append((address, rank))
    ordered = []
    while found:  # selection of the best remaining, exactly as the contract scans
        best = 0
        for i in range(1, len(found)):
            if ranks_before(found[i][1], found[i][0], found[best][1], found[best][0]):
                best = i
        ordered.append(found.pop(best))
    return ordered


def compute_adl_quantile(index: int, count: int) -> int:
    """Return ADL_QUANTILES - floor(ADL_QUANTILES x index / count): 5 = first in line.

    Contract: ``adl.compute_adl_quantile``. Anchor: the BitMEX five-light ADL indicator.
    """
    return ADL_QUANTILES - (ADL_QUANTILES * index) // count


def compute_fill_cash(total_cash: int, filled_before: int, filled_after: int, size: int) -> int:
    """Return this fill's share of the bankruptcy cash: the cumulative share, floored.

    Cumulative rounding makes the fills sum to ``total_cash`` exactly when the whole
    size is filled. Contract: ``adl.compute_fill_cash``. Anchor: dYdX v4 deleveraging fills
    each min(remaining, counterparty size) at the bankruptcy price.
    """
    return floor_div(total_cash * filled_after, size) - floor_div(total_cash * filled_before, size)


def compute_socialized_loss(loss: int, open_interest: int) -> tuple[int, int]:
    """Return (loss per lot, residue): ceil(loss / OI), rounded against the receivers.

    The opposite side pays per_lot x OI >= loss; the residue per_lot x OI - loss goes to
    the insurance fund, so no unit is created or lost. Contract: ``adl.compute_socialized_loss``.
    Anchor: Drift v2 ``resolve_perp_bankruptcy`` spreads the loss per base unit, rounded up.
    """
    per_lot = ceil_div(loss, open_interest)
    return per_lot, per_lot * open_interest - loss
