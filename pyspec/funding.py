"""Funding: a per-market cumulative index settled lazily. Contract: ``contracts/engine/funding.vy``.

The OPERATOR advances a market's index with a funding rate, clamped to the market's
bound. A positive index step is paid by longs to shorts. The index is in
FUNDING_INDEX_SCALE-ths of a collateral unit per lot. An account owes
-size x (index - checkpoint) index units, settled as floor(owed / scale) collateral
units (toward the protocol); the rest is the market's residue, of which every whole unit
goes to the insurance fund, so funding is zero-sum exactly. Equity counts it before
settlement.
"""

from pyspec.constants import FUNDING_INDEX_SCALE, RATIO_PRECISION
from pyspec.fixed_math import floor_div
from pyspec.state import Market, Position


def clamp_funding_rate(rate: int, bound: int) -> int:
    """Return ``rate`` clamped to [-bound, bound]. Contract: ``funding.clamp_funding_rate``."""
    return max(-bound, min(rate, bound))


def compute_funding_delta(rate: int, price: int) -> int:
    """Return the index step rate x price x FUNDING_INDEX_SCALE / RATIO_PRECISION: exact,
    because FUNDING_INDEX_SCALE is a multiple of RATIO_PRECISION (so funding never
    vanishes at a small per-lot price). Contract: ``funding.compute_funding_delta``.
    """
    return rate * price * (FUNDING_INDEX_SCALE // RATIO_PRECISION)


def compute_funding_owed(size: int, funding_index: int, checkpoint: int) -> int:
    """Return -size x (index - checkpoint): what the position received, in index units
    (exact). Contract: ``funding.compute_funding_owed``."""
    return -size * (funding_index - checkpoint)


def pending_funding(position: Position, market: Market) -> int:
    """Return the funding the position received since it was last settled, in collateral
    units, rounded down: toward the protocol on both sides (a payer pays the ceiling, a
    receiver gets the floor). Contract: ``funding.pending_funding``.
    """
    owed = compute_funding_owed(position.size, market.funding_index, position.funding_checkpoint)
    return floor_div(owed, FUNDING_INDEX_SCALE)
