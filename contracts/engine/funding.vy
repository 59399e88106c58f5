# pragma version ~=0.4.3
"""
@title Funding: a per-market cumulative index settled lazily
@notice Spec: `pyspec/funding.py`. A positive index step is paid by longs to shorts; an
        account owes -size x (index - checkpoint), an exact integer, so funding is
        zero-sum whatever the order in which accounts settle.
"""

import lib.constants as constants


@internal
@pure
def clamp_funding_rate(rate: int256, bound: uint256) -> int256:
    """
    @notice Return `rate` clamped to [-bound, bound]. Spec: `funding.clamp_funding_rate`.
    """
    limit: int256 = convert(bound, int256)
    return max(-limit, min(rate, limit))


@internal
@pure
def compute_funding_delta(rate: int256, price: uint256) -> int256:
    """
    @notice Return the index step rate x price / RATIO_PRECISION, truncated toward zero
            (computed on the magnitude). Spec: `funding.compute_funding_delta`.
    """
    magnitude: int256 = abs(rate) * convert(price, int256) // constants.RATIO_PRECISION
    if rate >= 0:
        return magnitude
    return -magnitude


@internal
@pure
def pending_funding(size: int256, checkpoint: int256, funding_index: int256) -> int256:
    """
    @notice Return -size x (index - checkpoint): the funding received since the last
            settlement (signed, exact). Spec: `funding.pending_funding`.
    """
    return -size * (funding_index - checkpoint)
