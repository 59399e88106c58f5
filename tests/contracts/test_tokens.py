"""Hostile collateral tokens (issue 12, L4): what only the chain can tell, on both chains.

The engine pulls tokens before it credits anything, measures what arrived, accepts a token
whose transfers return nothing, refuses one that returns false or takes a fee, and cannot
be re-entered from a token's transfer (``# pragma nonreentrancy on``). The differential
runs use the mock token; these tests deploy the engine on each misbehaving one
(``contracts/testing/HostileToken.vy``, ``NoReturnToken.vy``).
"""

import pytest

from harness.core.genesis import deploy_engine_code
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec

USDC = 10**6
NORMAL, RETURNS_FALSE, FEE_ON_TRANSFER, REENTRANT, BLOCKLIST, REVERTING = range(6)
MAX_UINT256 = 2**256 - 1


class Deployed:
    """An engine whose collateral is ``token_name``; no market is needed for these."""

    def __init__(self, chain, token_name: str):
        self.chain = chain
        self.owner, self.oracle, self.alice, self.bob = chain.accounts[:4]
        token, engine = artifacts.load(token_name), artifacts.load("PerpEngine")
        self.codecs = {
            "token": {f["name"]: FunctionCodec(f) for f in token.abi if f["type"] == "function"},
            "engine": {f["name"]: FunctionCodec(f) for f in engine.abi if f["type"] == "function"},
        }
        self.token = chain.deploy(token.initcode(), self.owner)
        allocator, governance = deploy_engine_code(chain, self.owner)
        self.engine = chain.deploy(
            engine.initcode(
                self.token, allocator, governance, self.oracle, self.owner, self.owner, 500_000, 1
            ),
            self.owner,
        )
        self.address = {"token": self.token, "engine": self.engine}
        for account in (self.alice, self.bob):
            self.send(account, "token", "mint", account, 10_000 * USDC)
            self.send(account, "token", "approve", self.engine, MAX_UINT256)

    def send(self, sender, target, fn, *args):
        data = self.codecs[target][fn].encode(args)
        return self.chain.transact(sender, self.address[target], data)

    def view(self, target, fn, *args):
        codec = self.codecs[target][fn]
        return codec.decode(self.chain.call(self.address[target], codec.encode(args)).output)[0]


def test_a_token_that_returns_nothing_works(chain):
    """USDT-style: deposit and withdraw go through, the books match the balances."""
    d = Deployed(chain, "NoReturnToken")
    assert d.send(d.alice, "engine", "deposit", 2_000 * USDC).success
    assert d.send(d.alice, "engine", "withdraw", 500 * USDC).success
    assert d.view("engine", "collateral", d.alice) == 1_500 * USDC
    assert d.view("token", "balanceOf", d.engine) == 1_500 * USDC


def test_a_token_that_returns_false_is_refused(chain):
    """A transfer that reports failure credits nothing."""
    d = Deployed(chain, "HostileToken")
    d.send(d.owner, "token", "set_mode", RETURNS_FALSE)
    result = d.send(d.alice, "engine", "deposit", 2_000 * USDC)
    assert (result.success, result.reason) == (False, "token: transfer failed")
    assert d.view("engine", "collateral", d.alice) == 0


def test_a_fee_on_transfer_token_is_refused(chain):
    """L4: a 1% fee used to credit 2,000 while the engine held 1,980."""
    d = Deployed(chain, "HostileToken")
    d.send(d.owner, "token", "set_mode", FEE_ON_TRANSFER)
    result = d.send(d.alice, "engine", "deposit", 2_000 * USDC)
    assert (result.success, result.reason) == (False, "token: fee on transfer")
    result = d.send(d.alice, "engine", "top_up_insurance", 2_000 * USDC)
    assert (result.success, result.reason) == (False, "token: fee on transfer")
    assert d.view("engine", "collateral", d.alice) == 0
    assert d.view("token", "balanceOf", d.engine) == 0


def test_a_transfer_hook_cannot_reenter(chain):
    """L4: a token whose transferFrom calls back the engine's withdraw, on its own account,
    in the middle of its own deposit: the call fails (nothing is credited yet, and the
    engine is locked), the deposit completes, nothing else moves."""
    d = Deployed(chain, "HostileToken")
    d.send(d.bob, "engine", "deposit", 5_000 * USDC)  # the funds a re-entry could reach
    withdraw = d.codecs["engine"]["withdraw"].encode((1_000 * USDC,))
    d.send(d.owner, "token", "mint", d.token, 1_000 * USDC)
    d.send(d.owner, "token", "set_hook", d.engine, withdraw)
    d.send(d.owner, "token", "set_mode", REENTRANT)
    assert d.send(d.owner, "token", "deposit_as_self", d.engine, 1_000 * USDC).success
    assert d.view("token", "hook_ok") is False
    assert d.view("engine", "collateral", d.token) == 1_000 * USDC
    assert d.view("token", "balanceOf", d.engine) == 6_000 * USDC


def test_a_blocked_account_locks_no_one_else(chain):
    """A blocklisted account cannot withdraw; every other account still can."""
    d = Deployed(chain, "HostileToken")
    d.send(d.owner, "token", "set_mode", BLOCKLIST)
    for account in (d.alice, d.bob):
        assert d.send(account, "engine", "deposit", 1_000 * USDC).success
    d.send(d.owner, "token", "set_blocked", d.alice, True)
    result = d.send(d.alice, "engine", "withdraw", 100 * USDC)
    assert (result.success, result.reason) == (False, "token: blocked")
    assert d.view("engine", "collateral", d.alice) == 1_000 * USDC
    assert d.send(d.bob, "engine", "withdraw", 1_000 * USDC).success


@pytest.mark.parametrize("fn", ["deposit", "top_up_insurance"])
def test_a_reverting_token_reverts_with_its_reason(chain, fn):
    """A token that reverts every transfer: the call fails with the token's reason."""
    d = Deployed(chain, "HostileToken")
    d.send(d.owner, "token", "set_mode", REVERTING)
    result = d.send(d.alice, "engine", fn, 1_000 * USDC)
    assert (result.success, result.reason) == (False, "token: paused")
