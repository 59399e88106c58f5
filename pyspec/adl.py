"""Auto-deleveraging: who takes a bankrupt position over, and how much of its deficit each
one absorbs. Contract: ``contracts/engine/adl.vy``.

``allocate_adl`` is the one place that chooses counterparties and their shares; nothing
else in the waterfall depends on the order it uses. The policy here is the queue:
profitable opposite positions ranked by PnL% = upnl / |entry notional| (compared by
cross-multiplication, as dYdX ``risk.go`` ``Cmp``; equal ranks to the lower address), each
filled min(remaining, its size) and charged its pro-rata share of the deficit, capped so
that it never gives up more than the profit of the lots it closes nor more than its own
equity share; then every other opposite position, in holder order, at the oracle price
(no charge), so the bankrupt position always closes completely.

The rank leaves out BitMEX's effective leverage (which divides by account equity): with
it, a counterparty could push its loss onto the next one by depositing just before a
public ``deleverage`` (finding W7). A deposit now changes no rank, and only raises what
the depositor itself can absorb.
"""

from dataclasses import dataclass

from pyspec.constants import ADL_QUANTILES
from pyspec.fixed_math import floor_div, sign
from pyspec.liquidation import compute_equity_share
from pyspec.margin import compute_margin_requirement, equity, maintenance_margin, unrealized_pnl
from pyspec.state import State


@dataclass(frozen=True, slots=True)
class Fill:
    """One counterparty's part of a deleverage: ``size`` lots, ``absorbed`` of the deficit."""

    counterparty: str
    size: int
    absorbed: int


def compute_adl_rank(upnl: int, entry_notional: int) -> tuple[int, int]:
    """Return the rank PnL% as the fraction (upnl, |entry notional|); no rounding.

    Contract: ``adl.compute_adl_rank``. Anchor: BitMEX ranks by PnL% x effective leverage;
    the leverage factor is left out on purpose (module docstring).
    """
    return upnl, abs(entry_notional)


def ranks_before(rank_a: tuple, address_a: str, rank_b: tuple, address_b: str) -> bool:
    """Check a is deleveraged before b: a higher rank, or an equal one and a lower address.

    a/b > c/d  <=>  a x d > c x b for non-negative denominators (an entry notional of zero
    gives an unbounded rank and compares the same way). Contract: ``adl.ranks_before``.
    Anchor: dYdX v4 ``risk.go`` ``Cmp``.
    """
    left = rank_a[0] * rank_b[1]
    right = rank_b[0] * rank_a[1]
    if left != right:
        return left > right
    return int(address_a, 16) < int(address_b, 16)


def adl_candidates(state: State, market_id: int, side: int) -> list[tuple[str, tuple]]:
    """Return (address, rank) of the profitable positions on ``side`` whose account has
    positive equity, in rank order. Contract: ``adl.adl_candidates``.
    """
    market = state.markets[market_id]
    found = []
    for address in market.holders:
        position = state.accounts[address].positions[market_id]
        if sign(position.size) != side:
            continue
        upnl = unrealized_pnl(position, market)
        if upnl <= 0 or equity(state, address) <= 0:
            continue
        found.append((address, compute_adl_rank(upnl, position.entry_notional)))
    ordered = []
    while found:  # selection of the best remaining, exactly as the contract scans
        best = 0
        for i in range(1, len(found)):
            if ranks_before(found[i][1], found[i][0], found[best][1], found[best][0]):
                best = i
        ordered.append(found.pop(best))
    return ordered


def compute_adl_quantile(quantity_before: int, total_quantity: int) -> int:
    """Return ADL_QUANTILES - floor(ADL_QUANTILES x before / total): 5 = first in line.

    ``before`` is the candidates' quantity (lots) ranked ahead; the lights are percentiles
    of cumulative position quantity in the queue. Contract: ``adl.compute_adl_quantile``.
    Anchor: the BitMEX five-light ADL indicator.
    """
    return ADL_QUANTILES - floor_div(ADL_QUANTILES * quantity_before, total_quantity)


def compute_deficit_share(loss: int, filled_before: int, filled_after: int, size: int) -> int:
    """Return a fill's pro-rata share of ``loss``: the cumulative share, floored, so the
    shares of fills covering the whole size sum to ``loss`` exactly.

    Contract: ``adl.compute_deficit_share``. Anchor: dYdX v4 deleveraging fills each
    min(remaining, counterparty size) at the bankruptcy price.
    """
    return floor_div(loss * filled_after, size) - floor_div(loss * filled_before, size)


def compute_absorb_cap(
    upnl: int, fill: int, abs_size: int, account_equity: int, maintenance_delta: int, mm: int
) -> int:
    """Return the most a counterparty absorbs for closing ``fill`` of its ``abs_size`` lots:
    min(floor(upnl x fill / size), floor(equity x DMMR / TMMR)), never negative.

    The first bound gives up at most the profit of the closed lots; the second keeps the
    account at or above zero equity. Contract: ``adl.compute_absorb_cap``.
    """
    profit = floor_div(upnl * fill, abs_size)
    return max(min(profit, compute_equity_share(account_equity, maintenance_delta, mm)), 0)


def allocate_adl(state: State, market_id: int, side: int, size: int, loss: int) -> list[Fill]:
    """Return the fills that close ``size`` lots of a bankrupt position against ``side``'s
    holders, and the part of ``loss`` each absorbs (the queue policy, module docstring).

    The fills sum to ``size`` exactly (the opposite side holds at least that much);
    ``loss`` minus what they absorb is left to the bankrupt account. Contract:
    ``adl.allocate_adl``.
    """
    market = state.markets[market_id]
    fills: list[Fill] = []
    filled = 0
    ranked = adl_candidates(state, market_id, side)
    chosen = {address for address, _ in ranked}
    rest = [
        a for a in market.holders if a not in chosen and sign(_size(state, a, market_id)) == side
    ]
    for address in [a for a, _ in ranked] + rest:
        if filled == size:
            break
        counter_size = abs(_size(state, address, market_id))
        fill = min(size - filled, counter_size)
        absorbed = 0
        if address in chosen:
            position = state.accounts[address].positions[market_id]
            ratio = market.maintenance_margin_ratio
            delta = compute_margin_requirement(
                counter_size, market.price, ratio
            ) - compute_margin_requirement(counter_size - fill, market.price, ratio)
            cap = compute_absorb_cap(
                unrealized_pnl(position, market),
                fill,
                counter_size,
                equity(state, address),
                delta,
                maintenance_margin(state, address),
            )
            absorbed = min(compute_deficit_share(loss, filled, filled + fill, size), cap)
        fills.append(Fill(address, fill, absorbed))
        filled += fill
    return fills


def _size(state: State, address: str, market_id: int) -> int:
    return state.accounts[address].positions[market_id].size
