"""The state import reads a live instance from the chain alone (views and events) into a
spec state equal to the one the harness kept beside it, and to the chain's own dump."""

from dataclasses import replace

import pytest
from live_instance import deployment_of

from harness.core.call import Call
from harness.core.dump import first_difference, spec_dump
from harness.core.state_import import (
    Deployment,
    chain_dump_of,
    import_state,
    latest_block,
)
from harness.evm.base import ChainError


def test_the_imported_state_equals_the_harness_spec_state(live):
    imported = import_state(live.chain.rpc, deployment_of(live))
    state = imported.state
    assert state.book.exit_requests and state.book.cancelled and state.timelock.eta
    assert state.book.min_nonce and state.timelock.latest == live.state.timelock.latest
    # every account with protocol state is found; the others differ in token balance only
    assert set(live.state.accounts) <= set(imported.accounts)
    expected = spec_dump(live.state, imported.accounts)
    got = spec_dump(state, imported.accounts)
    assert first_difference(got, expected, imported.accounts, live.names) is None
    assert state.token.allowances == {
        key: value
        for key, value in live.state.token.allowances.items()
        if key[0] in imported.accounts and key[1] == live.engine_address
    }


def test_the_imported_state_equals_the_chains_dump(live):
    deployment = deployment_of(live)
    imported = import_state(live.chain.rpc, deployment)
    spec = spec_dump(imported.state, imported.accounts)
    chain = chain_dump_of(live.chain.rpc, deployment, imported)
    assert first_difference(spec, chain, imported.accounts, live.names) is None


def test_a_change_after_the_import_shows_in_the_comparison(live):
    deployment = deployment_of(live)
    imported = import_state(live.chain.rpc, deployment)
    snapshot = live.chain.snapshot()
    try:
        live.send(Call("engine", "deposit", "trader0", (1,)))
        later = replace(imported, block=latest_block(live.chain.rpc))
        chain = chain_dump_of(live.chain.rpc, deployment, later)
    finally:
        live.chain.revert(snapshot)
    difference = first_difference(
        spec_dump(imported.state, imported.accounts), chain, imported.accounts, live.names
    )
    assert difference is not None


def test_a_node_without_the_contracts_is_an_error(live):
    nowhere = Deployment(*("0x" + "00" * 19 + "01",) * 4)
    with pytest.raises(ChainError, match="no code at"):
        import_state(live.chain.rpc, nowhere)
