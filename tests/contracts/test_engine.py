"""What only the chain can tell; every rejection by reason is a case in ``tests/cases``."""

import pytest

from harness.evm import artifacts
from harness.evm.base import ChainError
from pyspec.constants import MAX_GOVERNANCE_DELAY, MIN_GOVERNANCE_DELAY


def test_contracts_fit_eip170(anvil_pair):
    """anvil enforces the 24,576-byte limit at deployment; README and SPEC.md state these sizes."""
    import re

    from harness import REPO_ROOT

    def size(address: str) -> int:
        return (len(anvil_pair.chain.rpc("eth_getCode", [address, "latest"])) - 2) // 2

    sizes = {
        name: size(getattr(anvil_pair, f"{attr}_address"))
        for name, attr in (
            ("PerpEngine", "engine"),
            ("PerpViews", "views"),
            ("Settlement", "settlement"),
            ("Governor", "governor"),
            ("AdlAllocator", "allocator"),
        )
    }
    assert 20_000 < sizes["PerpEngine"] <= 24_576
    assert all(0 < n <= 24_576 for n in sizes.values())
    readme = (REPO_ROOT / "README.md").read_text()
    stated = re.search(r"EIP-170 limit 24,576 bytes\): (.*?)\.\n", readme, re.S).group(1)
    said = {name: int(n.replace(",", "")) for name, n in re.findall(r"(\w+) ([\d,]+)", stated)}
    spare = int(re.search(r"\(([\d,]+) to spare\)", stated).group(1))
    assert said == sizes and spare == 24_576 - sizes["PerpEngine"], (said, spare, sizes)
    spec = " ".join((REPO_ROOT / "SPEC.md").read_text().split())
    now = re.findall(r"(?:has|PerpEngine has|\() ?([\d,]+) (?:bytes left|now\))", spec)
    assert now and {int(n.replace(",", "")) for n in now} == {spare}, now


def test_constructor_bounds(chain):
    """The liquidator share is at most 100%; the insurance floor is never zero (W8); the
    governance delay lies within [MIN_GOVERNANCE_DELAY, MAX_GOVERNANCE_DELAY]."""
    owner, oracle, operator, governor = chain.accounts[:4]
    token = chain.deploy(artifacts.load("MockToken").initcode(), owner)
    allocator = chain.deploy(artifacts.load("AdlAllocator").initcode(), owner)
    engine = artifacts.load("PerpEngine")

    def deploy(share: int, floor: int) -> str:
        return chain.deploy(
            engine.initcode(token, allocator, oracle, operator, governor, share, floor), owner
        )

    with pytest.raises(ChainError, match="config: invalid liquidator share"):
        deploy(10**6 + 1, 1)
    with pytest.raises(ChainError, match="config: zero insurance floor"):
        deploy(10**6, 0)
    address = deploy(10**6, 1)  # 100%, floor 1
    timelock = artifacts.load("Governor")
    for delay in (MIN_GOVERNANCE_DELAY - 1, MAX_GOVERNANCE_DELAY + 1):
        with pytest.raises(ChainError, match="config: invalid governance delay"):
            chain.deploy(timelock.initcode(address, operator, delay), owner)
    for delay in (MIN_GOVERNANCE_DELAY, MAX_GOVERNANCE_DELAY):
        chain.deploy(timelock.initcode(address, operator, delay), owner)
