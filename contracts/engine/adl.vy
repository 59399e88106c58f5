# pragma version ~=0.4.3
"""
@title Auto-deleveraging: counterparties of a bankrupt position and their shares
@notice Spec: `pyspec/adl.py`. `allocate_adl` is the one place that chooses counterparties
        and what each absorbs (the queue: profitable opposite positions ranked by PnL% =
        upnl / |entry notional|, compared by cross-multiplication, equal ranks to the
        lower address; each charged its pro-rata share of the deficit within its caps;
        then the other opposite positions, in holder order, at the oracle price).
"""

import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.margin as margin
import engine.liquidation as liquidation

uses: storage
uses: margin


struct Candidate:
    account: address
    rank_numerator: uint256
    rank_denominator: uint256


struct Fill:
    counterparty: address
    size: int256
    absorbed: int256


@internal
@pure
def compute_adl_rank(upnl: int256, entry_notional: int256) -> (uint256, uint256):
    """
    @notice Return the rank PnL% as (upnl, |entry notional|). Spec: `adl.compute_adl_rank`.
    """
    return convert(upnl, uint256), convert(abs(entry_notional), uint256)


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
        if upnl <= 0 or margin.equity(account) <= 0:
            continue
        numerator: uint256 = 0
        denominator: uint256 = 0
        numerator, denominator = self.compute_adl_rank(upnl, position.entry_notional)
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
def compute_adl_quantile(quantity_before: int256, total_quantity: int256) -> uint256:
    """
    @notice Return ADL_QUANTILES - floor(ADL_QUANTILES x before / total): percentiles of
            the candidates' cumulative quantity ahead in the queue; 5 = first in line.
            Spec: `adl.compute_adl_quantile`.
    """
    return constants.ADL_QUANTILES - convert(
        fixed_math.floor_div(
            convert(constants.ADL_QUANTILES, int256) * quantity_before, total_quantity
        ),
        uint256,
    )


@internal
@pure
def compute_deficit_share(loss: int256, filled_before: int256, filled_after: int256, size: int256) -> int256:
    """
    @notice Return a fill's pro-rata share of `loss`: the cumulative share, floored, so the
            shares of fills covering the whole size sum to `loss`.
            Spec: `adl.compute_deficit_share`.
    """
    return fixed_math.floor_div(loss * filled_after, size) - fixed_math.floor_div(
        loss * filled_before, size
    )


@internal
@pure
def compute_absorb_cap(
    upnl: int256,
    fill: int256,
    abs_size: int256,
    account_equity: int256,
    maintenance_delta: int256,
    maintenance: int256,
) -> int256:
    """
    @notice Return max(min(floor(upnl x fill / size), floor(equity x DMMR / TMMR)), 0): at
            most the profit of the closed lots, and never below zero equity.
            Spec: `adl.compute_absorb_cap`.
    """
    profit: int256 = fixed_math.floor_div(upnl * fill, abs_size)
    return max(
        min(profit, liquidation.compute_equity_share(account_equity, maintenance_delta, maintenance)),
        0,
    )


@internal
@view
def allocate_adl(
    market_id: uint256, side: int256, size: int256, loss: int256
) -> DynArray[Fill, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice Return the fills that close `size` lots of a bankrupt position against `side`'s
            holders and the part of `loss` each absorbs (the queue). Spec: `adl.allocate_adl`.
    """
    market: storage.Market = storage.markets[market_id]
    ranked: DynArray[Candidate, constants.MAX_POSITIONS_PER_MARKET] = self.adl_candidates(
        market_id, side
    )
    fills: DynArray[Fill, constants.MAX_POSITIONS_PER_MARKET] = []
    filled: int256 = 0
    for candidate: Candidate in ranked:
        if filled == size:
            break
        position: storage.Position = storage.positions[candidate.account][market_id]
        counter_size: int256 = abs(position.size)
        fill: int256 = min(size - filled, counter_size)
        delta: int256 = margin.compute_margin_requirement(
            counter_size, market.price, market.maintenance_margin_ratio
        ) - margin.compute_margin_requirement(
            counter_size - fill, market.price, market.maintenance_margin_ratio
        )
        cap: int256 = self.compute_absorb_cap(
            margin.unrealized_pnl(position, market.price),
            fill,
            counter_size,
            margin.equity(candidate.account),
            delta,
            margin.requirement(candidate.account, False),
        )
        absorbed: int256 = min(self.compute_deficit_share(loss, filled, filled + fill, size), cap)
        fills.append(Fill(counterparty=candidate.account, size=fill, absorbed=absorbed))
        filled += fill
    for account: address in storage.holders[market_id]:
        if filled == size:
            break
        counter: int256 = storage.positions[account][market_id].size
        if fixed_math.sign(counter) != side or self._is_ranked(ranked, account):
            continue
        fill: int256 = min(size - filled, abs(counter))
        fills.append(Fill(counterparty=account, size=fill, absorbed=0))
        filled += fill
    return fills


@internal
@pure
def _is_ranked(ranked: DynArray[Candidate, constants.MAX_POSITIONS_PER_MARKET], account: address) -> bool:
    for candidate: Candidate in ranked:
        if candidate.account == account:
            return True
    return False
