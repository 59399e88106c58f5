"""The harness on a node it did not start (``--chain ape:<network>``) works on a private
fork of it: the node keeps its mining mode, balances and clock, the fork keeps the node's
base fee (every transaction priced at its block's), and a live network is refused."""

import subprocess
import time
from pathlib import Path

import pytest

from deployment import anvil_process
from harness.core.pair import Pair
from harness.evm.anvil import ForkChain, RpcChain, anvil_binary, ape_network_chain
from harness.evm.base import ACCOUNTS, ChainError


@pytest.fixture
def node():
    """Someone's anvil: automine on, a base fee, its own chain id."""
    port = anvil_process.free_port()
    argv = [anvil_binary(), "--silent", "--port", str(port), "--chain-id", "424242"]
    process = anvil_process.start(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chain = RpcChain("127.0.0.1", port)
    for _ in range(600):
        try:
            chain.rpc("eth_chainId", [])
            break
        except OSError:
            chain._conn = None
            time.sleep(0.05)
    chain.process = process
    yield chain
    chain.close()
    anvil_process.stop(process, timeout=10)


def test_an_anvil_leaves_no_chain_state_behind(node):
    """anvil spills old states to $HOME/.foundry/anvil/tmp and keeps them when stopped
    (79 GB of them filled the disk): every anvil the project starts has a HOME of its own,
    removed when it stops."""
    home = Path(anvil_process.home_of(node.process))
    assert home != Path.home() and home.exists()
    for _ in range(30):
        node.rpc("anvil_mine", ["0x64"])
    assert list((home / ".foundry" / "anvil" / "tmp").iterdir())  # it spilled states
    anvil_process.stop(node.process)
    assert not home.exists()


def state(node: RpcChain) -> tuple:
    block = node.rpc("eth_getBlockByNumber", ["latest", False])
    balance = node.rpc("eth_getBalance", [ACCOUNTS[0], "latest"])
    return node.rpc("anvil_getAutomine", []), block["number"], block["timestamp"], balance


def test_the_harness_leaves_a_node_it_did_not_start_as_it_was(node):
    before = state(node)
    assert before[0] is True and int(node.rpc("eth_gasPrice", []), 16) > 0
    fork = ForkChain(f"http://127.0.0.1:{node.port}")
    try:
        pair = Pair(fork)  # the whole deployment, every transaction paying the base fee
        pair.chain.set_time(pair.chain.now() + 3_600)
        assert pair.chain.now() > int(before[2], 16)
        top = int(fork.rpc("eth_blockNumber", []), 16)
        blocks = [fork.rpc("eth_getBlockByNumber", [hex(n), True]) for n in range(top - 9, top + 1)]
        paid = [(int(b["baseFeePerGas"], 16), tx) for b in blocks for tx in b["transactions"]]
        assert paid and all(fee > 0 and int(tx["gasPrice"], 16) >= fee for fee, tx in paid)
    finally:
        fork.close()
    assert state(node) == before


@pytest.mark.parametrize("choice", ["ethereum:sepolia:node", "http://127.0.0.1:8545"])
def test_a_live_network_is_refused_before_connecting(choice):
    with pytest.raises(ChainError, match="fork"):
        ape_network_chain(choice)
