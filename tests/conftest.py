"""Shared fixtures: chain backends and deployed pairs (anvil is started once per session
and stopped), and the ``--write-vectors`` option of ``make vectors``."""

from __future__ import annotations

import pytest

from harness.core.pair import Pair
from harness.evm import AnvilChain, make_chain

BACKENDS = ("embedded", "anvil")


def pytest_addoption(parser):
    parser.addoption(
        "--write-vectors",
        action="store_true",
        help="write tests/vectors from the cases instead of checking them (make vectors)",
    )


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
def embedded_pair():
    return Pair(make_chain("embedded"))


@pytest.fixture(scope="session")
def anvil_pair(anvil_chain):
    return Pair(anvil_chain)


@pytest.fixture(params=BACKENDS)
def pair(request):
    """A deployed pair on each chain, reset to its post-setup snapshot."""
    deployed = request.getfixturevalue(f"{request.param}_pair")
    deployed.reset()
    return deployed
