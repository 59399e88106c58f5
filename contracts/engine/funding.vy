# pragma version ~=0.4.3
"""
@title Funding: a per-market cumulative index, accrued by elapsed time, settled lazily
@notice Spec: `pyspec/funding.py`. The index grows by rate x elapsed seconds x price, so
        the time between touches, not the number of calls, sets what is paid (accrual is
        in `margin.accrue_funding`). A positive index step is paid by longs to shorts. The
        index is in FUNDING_INDEX_SCALE-ths of a collateral unit per lot; an account is
        settled floor(-size x (index - checkpoint) / scale) and the rounding joins the
        market's residue, whose whole units go to the fund: zero-sum exactly.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math


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
def compute_funding_delta(rate: int256, elapsed: uint256, price: uint256) -> int256:
    """
    @notice Return the index step of `elapsed` seconds at `rate`: rate x elapsed x price x
            FUNDING_INDEX_SCALE / FUNDING_RATE_PRECISION, exact (the scale is a multiple
            of the precision). Spec: `funding.compute_funding_delta`.
    """
    return (
        rate
        * convert(elapsed, int256)
        * convert(price, int256)
        * (constants.FUNDING_INDEX_SCALE // constants.FUNDING_RATE_PRECISION)
    )


@internal
@pure
def compute_funding_owed(size: int256, funding_index: int256, checkpoint: int256) -> int256:
    """
    @notice Return -size x (index - checkpoint), in index units (exact).
            Spec: `funding.compute_funding_owed`.
    """
    return -size * (funding_index - checkpoint)


@internal
@pure
def pending_funding(size: int256, checkpoint: int256, funding_index: int256) -> int256:
    """
    @notice Return floor(owed / FUNDING_INDEX_SCALE): the funding received since the last
            settlement, rounded toward the protocol. Spec: `funding.pending_funding`.
    """
    return fixed_math.floor_div(
        self.compute_funding_owed(size, funding_index, checkpoint), constants.FUNDING_INDEX_SCALE
    )
