import pytest

from harness.protocol import Protocol
from harness.revm_chain import RevmChain


@pytest.fixture(scope="session")
def embedded_protocol():
    return Protocol(RevmChain())


@pytest.fixture(scope="session")
def anvil_protocol(anvil_chain):
    return Protocol(anvil_chain)


@pytest.fixture(params=["embedded", "anvil"])
def protocol(request):
    """A deployed protocol on each chain, reset to its post-setup snapshot."""
    deployed = request.getfixturevalue(f"{request.param}_protocol")
    deployed.reset()
    return deployed
