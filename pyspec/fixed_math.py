"""Integer division with an explicit rounding direction. Contract: ``contracts/lib/fixed_math.vy``.

Python's ``//`` floors and the EVM's signed division truncates toward zero; neither is
used on a signed operand anywhere in the spec. Both sides divide magnitudes (where floor
and truncation agree) and apply the sign themselves.
"""


def floor_div(a: int, b: int) -> int:
    """Return a / b rounded toward -infinity, for b > 0. Contract: ``fixed_math.floor_div``."""
    assert b > 0
    if a >= 0:
        return a // b
    magnitude = -a
    quotient = magnitude // b
    if quotient * b != magnitude:
        quotient += 1
    return -quotient


def ceil_div(a: int, b: int) -> int:
    """Return a / b rounded toward +infinity, for b > 0. Contract: ``fixed_math.ceil_div``."""
    return -floor_div(-a, b)


def sign(a: int) -> int:
    """Return -1, 0 or 1. Contract: ``fixed_math.sign``."""
    return (a > 0) - (a < 0)
