"""Funding: a per-market cumulative index accrued by elapsed time and settled lazily.
Contract: ``contracts/engine/funding.vy``.

The ORACLE sets a market's funding rate per second, clamped to the market's bound; the
index grows by rate x elapsed seconds x price (``margin.accrue_funding``), so what is paid
depends on the time between touches, never on how many calls were made. A positive
index step is paid by longs to shorts. The index is in
FUNDING_INDEX_SCALE-ths of a collateral unit per lot. An account owes
-size x (index - checkpoint) index units, settled as floor(owed / scale) collateral
units (toward the protocol); the rest is the market's residue, of which every whole unit
goes to the insurance fund, so funding is zero-sum exactly. Equity counts it before
settlement.
"""

from pyspec.constants import FUNDING_INDEX_SCALE, FUNDING_RATE_PRECISION
from pyspec.fixed_math import floor_div
from pyspec.state import Position


def clamp_funding_rate(rate: int, bound: int) -> int:
    """Return ``rate`` clamped to [-bound, bound]. Contract: ``funding.clamp_funding_rate``."""
    return max(-bound, min(rate, bound))


def compute_funding_delta(rate: int, elapsed: int, price: int) -> int:
    """Return the index step of ``elapsed`` seconds at ``rate``: rate x elapsed x price x
    FUNDING_INDEX_SCALE / FUNDING_RATE_PRECISION, exact because the scale is a multiple of
    the precision (so funding never vanishes at a small per-lot price).
    Contract: ``funding.compute_funding_delta``.
    """
    return rate * elapsed * price * (FUNDING_INDEX_SCALE // FUNDING_RATE_PRECISION)


def compute_funding_owed(size: int, funding_index: int, checkpoint: int) -> int:
    """Return -size x (index - checkpoint): what the position received, in index units
    (exact). Contract: ``funding.compute_funding_owed``."""
    return -size * (funding_index - checkpoint)


def pending_funding(position: Position, funding_index: int) -> int:
    """Return the funding the position received since it was last settled, up to
    ``funding_index``, in collateral units, rounded down: toward the protocol on both sides
    (a payer pays the ceiling, a receiver gets the floor). Contract: ``funding.pending_funding``.
    """
    owed = compute_funding_owed(position.size, funding_index, position.funding_checkpoint)
    return floor_div(owed, FUNDING_INDEX_SCALE)
