# pragma version ~=0.4.3
"""
@title Expose `lib/fixed_math.vy` for differential tests against `pyspec/fixed_math.py`
"""

import lib.fixed_math as fixed_math


@external
@pure
def floor_div(a: int256, b: int256) -> int256:
    return fixed_math.floor_div(a, b)


@external
@pure
def ceil_div(a: int256, b: int256) -> int256:
    return fixed_math.ceil_div(a, b)


@external
@pure
def truncating_div(a: int256, b: int256) -> int256:
    # The EVM's native signed division, kept to show the helpers do not rely on it.
    return a // b
