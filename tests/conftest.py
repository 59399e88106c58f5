"""Shared fixtures: chain backends (anvil is started once per session and stopped)."""

from __future__ import annotations

import pytest

from harness.chains import AnvilChain, make_chain
from harness.protocol import Protocol

BACKENDS = ("embedded", "anvil")


@pytest.fixture(scope="session")
def anvil_chain():
    chain = AnvilChain()
    yield chain
    chain.close()


@pytest.fixture(params=BACKENDS)
def chain(request):
    """Each backend in turn, at a clean state for every test.

    The embedded chain is created fresh per test (cheap); the session anvil is
    snapshotted before the test and reverted after it.
    """
    if request.param == "embedded":
        c = make_chain("embedded")
        yield c
        c.close()
        return
    c = request.getfixturevalue("anvil_chain")
    snap = c.snapshot()
    yield c
    c.revert(snap)


@pytest.fixture(scope="session")
def embedded_protocol():
    return Protocol(make_chain("embedded"))


@pytest.fixture(scope="session")
def anvil_protocol(anvil_chain):
    return Protocol(anvil_chain)


@pytest.fixture(params=["embedded", "anvil"])
def protocol(request):
    """A deployed protocol on each chain, reset to its post-setup snapshot."""
    deployed = request.getfixturevalue(f"{request.param}_protocol")
    deployed.reset()
    return deployed
