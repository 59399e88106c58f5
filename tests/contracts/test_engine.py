"""What only the chain can tell; every rejection by reason is a case in ``tests/cases``."""

import pytest

from harness.evm import artifacts
from harness.evm.base import ChainError


def test_contracts_fit_eip170(anvil_pair):
    # anvil enforces the 24,576-byte limit at deployment; this shows the margin left
    def size(address: str) -> int:
        return (len(anvil_pair.chain.rpc("eth_getCode", [address, "latest"])) - 2) // 2

    assert 20_000 < size(anvil_pair.engine_address) <= 24_576
    for address in (anvil_pair.settlement_address, anvil_pair.views_address):
        assert 0 < size(address) <= 24_576


def test_constructor_bounds(chain):
    """The liquidator share is at most 100%; the insurance floor is never zero (W8)."""
    owner, oracle, operator = chain.accounts[:3]
    token = chain.deploy(artifacts.load("MockToken").initcode(), owner)
    allocator = chain.deploy(artifacts.load("AdlAllocator").initcode(), owner)
    engine = artifacts.load("PerpEngine")
    with pytest.raises(ChainError, match="config: invalid liquidator share"):
        chain.deploy(engine.initcode(token, allocator, oracle, operator, 10**6 + 1, 1), owner)
    with pytest.raises(ChainError, match="config: zero insurance floor"):
        chain.deploy(engine.initcode(token, allocator, oracle, operator, 10**6, 0), owner)
    chain.deploy(
        engine.initcode(token, allocator, oracle, operator, 10**6, 1), owner
    )  # 100%, floor 1
