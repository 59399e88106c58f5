from fractions import Fraction
from math import ceil, floor

from hypothesis import given
from hypothesis import strategies as st

from pyspec.fixed_math import ceil_div, floor_div, sign

signed = st.integers(-(2**200), 2**200)
positive = st.integers(1, 2**100)


@given(signed, positive)
def test_floor_div_rounds_toward_minus_infinity(a, b):
    assert floor_div(a, b) == floor(Fraction(a, b))


@given(signed, positive)
def test_ceil_div_rounds_toward_plus_infinity(a, b):
    assert ceil_div(a, b) == ceil(Fraction(a, b))


def test_negative_examples_differ_from_truncation():
    assert floor_div(-7, 2) == -4
    assert ceil_div(-7, 2) == -3
    assert floor_div(7, 2) == 3
    assert ceil_div(7, 2) == 4


def test_sign():
    assert [sign(-5), sign(0), sign(9)] == [-1, 0, 1]
