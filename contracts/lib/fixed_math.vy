# pragma version ~=0.4.3
"""
@title Integer division with an explicit rounding direction
@notice Spec: `pyspec/fixed_math.py`. The EVM's signed division truncates toward zero;
        these helpers divide magnitudes (where truncation equals floor) and apply the
        sign themselves, exactly as the spec does.
"""


@internal
@pure
def floor_div(a: int256, b: int256) -> int256:
    """
    @notice Return a / b rounded toward -infinity, for b > 0. Spec: `fixed_math.floor_div`.
    """
    if a >= 0:
        return a // b
    magnitude: int256 = -a
    quotient: int256 = magnitude // b
    if quotient * b != magnitude:
        quotient += 1
    return -quotient


@internal
@pure
def ceil_div(a: int256, b: int256) -> int256:
    """
    @notice Return a / b rounded toward +infinity, for b > 0. Spec: `fixed_math.ceil_div`.
    """
    return -self.floor_div(-a, b)


@internal
@pure
def sign(a: int256) -> int256:
    """
    @notice Return -1, 0 or 1. Spec: `fixed_math.sign`.
    """
    if a > 0:
        return 1
    if a < 0:
        return -1
    return 0
