"""What only the chain can tell; every rejection by reason is a case in ``tests/cases``."""

import pytest

from harness.core.genesis import deploy_engine_code
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
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
            ("EngineGovernance", "governance"),
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
    said = {name: int(n.replace(",", "")) for name, n in re.findall(r"(\w+) ([\d,]+)\b", stated)}
    spare = int(re.search(r"\(([\d,]+) to spare\)", stated).group(1).replace(",", ""))
    assert said == sizes and spare == 24_576 - sizes["PerpEngine"], (said, spare, sizes)
    spec = " ".join((REPO_ROOT / "SPEC.md").read_text().split())
    now = re.findall(r"(?:has|PerpEngine has|\() ?([\d,]+) (?:bytes left|now\))", spec)
    assert now and {int(n.replace(",", "")) for n in now} == {spare}, now


def test_constructor_bounds(chain):
    """The liquidator share is at most 100%; the insurance floor is never zero (W8); the
    governance delay lies within [MIN_GOVERNANCE_DELAY, MAX_GOVERNANCE_DELAY]."""
    owner, oracle, operator, governor = chain.accounts[:4]
    token = chain.deploy(artifacts.load("MockToken").initcode(), owner)
    allocator, governance = deploy_engine_code(chain, owner)
    engine = artifacts.load("PerpEngine")

    def deploy(share: int, floor: int, code: str = governance) -> str:
        return chain.deploy(
            engine.initcode(token, allocator, code, oracle, operator, governor, share, floor),
            owner,
        )

    other, elsewhere = deploy_engine_code(chain, owner)
    with pytest.raises(ChainError, match="config: governance on another allocator"):
        deploy(10**6, 1, elsewhere)
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


def _layout(name: str) -> dict:
    import vyper
    from vyper.compiler.input_bundle import FilesystemInputBundle

    from harness import REPO_ROOT

    bundle = FilesystemInputBundle([REPO_ROOT / "contracts", REPO_ROOT])
    source = bundle.load_file(f"{name}.vy")
    layout = vyper.compile_from_file_input(source, input_bundle=bundle, output_formats=["layout"])[
        "layout"
    ]
    return {k: v for k, v in layout.items() if k != "code_layout"}  # immutables differ


def test_the_governance_code_lays_out_storage_as_the_engine():
    """The engine runs EngineGovernance's code in its own storage (delegatecall): every
    slot, and the transient reentrancy lock, must mean the same to both."""
    engine, governance = _layout("PerpEngine"), _layout("EngineGovernance")
    assert engine == governance
    assert engine["storage_layout"]["storage"]["positions"]["slot"] == 14  # all of it


def test_the_engine_forwards_only_its_governance_calls(chain):
    """A governance call runs at the engine and fails with its reason (the differential
    cases run every governance call through the Governor); a selector neither contract
    has is refused."""
    from harness.core.pair import Pair

    pair = Pair(chain)
    outsider = pair.actors["outsider"]
    codec = artifacts.load("PerpEngine")
    data = FunctionCodec(codec.fn("set_oracle")).encode((outsider,))
    refused = chain.transact(outsider, pair.engine_address, data)
    assert (refused.success, refused.reason) == (False, "auth: not governor")
    unknown = chain.transact(outsider, pair.engine_address, bytes.fromhex("deadbeef"))
    assert (unknown.success, unknown.reason) == (False, None)
