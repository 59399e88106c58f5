# pragma version ~=0.4.3
"""
@title Auto-deleveraging ranking and socialized loss
@notice Spec: `pyspec/adl.py`. BitMEX ranking: profitable positions only, rank =
        (upnl / |entry notional|) x (|size x price| / account equity), compared by
        cross-multiplication; equal ranks go to the lower address first.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.margin as margin

uses: storage
uses: margin


struct Candidate:
    account: address
    rank_numerator: uint256
    rank_denominator: uint256


@internal
@pure
def compute_adl_rank(
    upnl: int256, position_value: int256, entry_notional: int256, account_equity: int256
) -> (uint256, uint256):
    """
    @notice Return the rank as (upnl x |position value|, |entry notional| x equity).
            Spec: `adl.compute_adl_rank`.
    """
    return (
        convert(upnl * abs(position_value), uint256),
        convert(abs(entry_notional) * account_equity, uint256),
    )


@internal
@pure
def ranks_before(a: Candidate, b: Candidate) -> bool:
    """
    @notice Check a is deleveraged before b: higher rank, or equal rank and lower address.
            Spec: `adl.ranks_before`.
    """
    left: uint256 = a.rank_numerator * b.rank_denominator
    right: uint256 = b.rank_numerator * a.rank_denominator
    if left != right:
        return left > right
    return convert(a.account, uint256) < convert(b.account, uint256)


@internal
@view
def adl_candidates(
    market_id: uint256, side: int256
) -> DynArray[Candidate, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice Return the profitable positions on `side` with positive account equity, in
            rank order (selection of the best remaining). Spec: `adl.adl_candidates`.
    """
    price: uint256 = storage.markets[market_id].price
    found: DynArray[Candidate, constants.MAX_POSITIONS_PER_MARKET] = []
    for account: address in storage.holders[market_id]:
        position: storage.Position = storage.positions[account][market_id]
        if fixed_math.sign(position.size) != side:
            continue
        upnl: int256 = margin.unrealized_pnl(position, price)
        if upnl <= 0:
            continue
        account_equity: int256 = margin.equity(account)
        if account_equity <= 0:
            continue
        numerator: uint256 = 0
        denominator: uint256 = 0
        numerator, denominator = self.compute_adl_rank(
            upnl, position.size * convert(price, int256), position.entry_notional, account_equity
        )
        found.append(
            Candidate(account=account, rank_numerator=numerator, rank_denominator=denominator)
        )

    ordered: DynArray[Candidate, constants.MAX_POSITIONS_PER_MARKET] = []
    taken: bool[constants.MAX_POSITIONS_PER_MARKET] = empty(bool[constants.MAX_POSITIONS_PER_MARKET])
    count: uint256 = len(found)
    for _: uint256 in range(count, bound=constants.MAX_POSITIONS_PER_MARKET):
        best: uint256 = max_value(uint256)
        for i: uint256 in range(count, bound=constants.MAX_POSITIONS_PER_MARKET):
            if taken[i]:
                continue
            if best == max_value(uint256):
                best = i
            elif self.ranks_before(found[i], found[best]):
                best = i
        taken[best] = True
        ordered.append(found[best])
    return ordered


@internal
@pure
def compute_adl_quantile(index: uint256, count: uint256) -> uint256:
    """
    @notice Return ADL_QUANTILES - floor(ADL_QUANTILES x index / count): 5 = first in line.
            Spec: `adl.compute_adl_quantile`.
    """
    return constants.ADL_QUANTILES - (constants.ADL_QUANTILES * index) // count


@internal
@pure
def compute_fill_cash(
    total_cash: int256, filled_before: int256, filled_after: int256, size: int256
) -> int256:
    """
    @notice Return this fill's share of the bankruptcy cash: the cumulative share, floored,
            so that fills of the whole size sum to `total_cash`. Spec: `adl.compute_fill_cash`.
    """
    return fixed_math.floor_div(total_cash * filled_after, size) - fixed_math.floor_div(
        total_cash * filled_before, size
    )


@internal
@pure
def compute_socialized_loss(loss: int256, open_interest: int256) -> (int256, int256):
    """
    @notice Return (loss per lot, residue): ceil(loss / OI), rounded against the receivers;
            the residue goes to the insurance fund. Spec: `adl.compute_socialized_loss`.
    """
    per_lot: int256 = fixed_math.ceil_div(loss, open_interest)
    return per_lot, per_lot * open_interest - loss
