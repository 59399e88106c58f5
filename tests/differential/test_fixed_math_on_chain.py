"""fixed_math on chain against the spec, including where truncation and floor differ."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
from harness.evm.revm import RevmChain
from pyspec.fixed_math import ceil_div, floor_div


@pytest.fixture(scope="module")
def mock():
    chain = RevmChain()
    art = artifacts.load("FixedMathMock")
    address = chain.deploy(art.initcode(), chain.accounts[0])
    codecs = {f["name"]: FunctionCodec(f) for f in art.abi if f["type"] == "function"}

    def call(fn, a, b):
        return codecs[fn].decode(chain.call(address, codecs[fn].encode((a, b))).output)[0]

    return call


@settings(max_examples=300)
@given(st.integers(-(2**200), 2**200), st.integers(1, 2**100))
def test_helpers_match_spec(mock, a, b):
    assert mock("floor_div", a, b) == floor_div(a, b)
    assert mock("ceil_div", a, b) == ceil_div(a, b)


def test_evm_division_truncates(mock):
    assert mock("truncating_div", -7, 2) == -3
    assert mock("floor_div", -7, 2) == -4
