"""Funding: a per-market cumulative index settled lazily. Contract: ``contracts/engine/funding.vy``.

The OPERATOR advances a market's index with a funding rate, clamped to the market's
bound. A positive index step is paid by longs to shorts. An account owes
-size x (index - checkpoint), an exact integer, so funding is zero-sum whatever the
order in which accounts settle; equity views count it before settlement.
"""

from pyspec.constants import RATIO_PRECISION
from pyspec.state import Market, Position


def clamp_funding_rate(rate: int, bound: int) -> int:
    """Return ``rate`` clamped to [-bound, bound]. Contract: ``funding.clamp_funding_rate``."""
    return max(-bound, min(rate, bound))


def compute_funding_delta(rate: int, price: int) -> int:
    """Return the index step rate x price / RATIO_PRECISION, truncated toward zero.

    Truncation never lets the step exceed the rate in either direction; it is the only
    rounding funding has. Contract: ``funding.compute_funding_delta``.
    """
    magnitude = abs(rate) * price // RATIO_PRECISION
    return magnitude if rate >= 0 else -magnitude


def pending_funding(position: Position, market: Market) -> int:
    """Return the funding the position received since it was last settled (signed).

    -size x (index - checkpoint), exact. Contract: ``funding.pending_funding``.
    """
    return -position.size * (market.funding_index - position.funding_checkpoint)
