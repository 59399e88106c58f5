# pragma version ~=0.4.3
"""
@title Trading fees
@notice Spec: `pyspec/fees.py`. Each side of a trade pays the maker or taker fee of the
        market on the trade's notional; fees are credited to the insurance fund.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math


@internal
@pure
def compute_trading_fee(notional: int256, fee_ratio: uint256) -> int256:
    """
    @notice Return ceil(notional x fee / RATIO_PRECISION): a charge rounds up.
            Spec: `fees.compute_trading_fee`.
    """
    return fixed_math.ceil_div(notional * convert(fee_ratio, int256), constants.RATIO_PRECISION)
