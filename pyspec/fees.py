"""Trading fees. Contract: ``contracts/engine/fees.vy``.

Each side of a trade pays its fee (maker or taker rate of the market) on the trade's
notional; fees are credited to the insurance fund, which they replenish.
"""

from pyspec.constants import RATIO_PRECISION
from pyspec.fixed_math import ceil_div


def compute_trading_fee(notional: int, fee_ratio: int) -> int:
    """Return ceil(notional x fee / RATIO_PRECISION): a charge rounds up.

    Contract: ``fees.compute_trading_fee``.
    """
    return ceil_div(notional * fee_ratio, RATIO_PRECISION)
