"""Exported tests sign their orders when they run (issue 20): a trace exported on the
standard deployment still trades on a deployment at other addresses, where the frozen
signatures of the old export would be refused on both sides (and pass vacuously)."""

from harness.campaign.trace import signed_at_run_time
from harness.core import genesis
from harness.core.call import Call, Signed
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.pair import Pair
from harness.core.sequence import CheckedSequence
from harness.evm import artifacts
from harness.evm.revm import RevmChain


def recorded_trade(pair: Pair) -> list[Call]:
    """A deposit pair and a trade as a campaign records them: signatures as bytes."""
    sequence = CheckedSequence(pair)
    calls = [Call("engine", "deposit", t, (1_000 * USDC,)) for t in ("trader0", "trader1")]
    for call in calls:
        sequence.call(call)
    trade = Match("trader0", "trader1", 0, 100, 10**6).call(pair.state, pair.actors)
    return [*calls, trade]


def test_valid_signatures_become_signed_defective_ones_stay():
    pair = Pair(RevmChain())
    *_, trade = recorded_trade(pair)
    exported = signed_at_run_time(trade)
    assert exported.args[1] == Signed(trade.args[0]) and exported.args[3] == Signed(trade.args[2])
    forged = Call(
        trade.target, trade.fn, trade.sender, (*trade.args[:3], b"\x01" * 65, *trade.args[4:])
    )
    assert signed_at_run_time(forged).args[3] == b"\x01" * 65


def test_an_exported_trade_still_trades_on_another_deployment():
    calls = recorded_trade(Pair(RevmChain()))
    elsewhere = RevmChain()
    # a contract the owner deployed first moves every later address: another deployment
    elsewhere.deploy(artifacts.load("MockToken").initcode(), elsewhere.accounts[0])
    pair = Pair(elsewhere)
    assert pair.actors["settlement"] != genesis.SETTLEMENT_ADDRESS
    frozen = CheckedSequence(pair)
    for call in calls:
        outcome = frozen.call(call)
    assert outcome.reason == "order: invalid signature"  # bytes made for the other domain
    fresh = CheckedSequence(pair)
    for call in map(signed_at_run_time, calls):
        outcome = fresh.call(call)
    assert outcome.success


def test_the_standard_deployments_addresses_are_known_before_it_runs():
    """``genesis``'s addresses (the lab's actors, the export's standard domain) are where a
    fresh ``Pair`` deploys: a contract added to the deployment moves them all."""
    pair = Pair(RevmChain())
    assert (
        pair.token_address,
        pair.allocator_address,
        pair.governance_address,
        pair.engine_address,
        pair.settlement_address,
        pair.views_address,
        pair.governor_address,
        pair.actors[genesis.ATTACKER],
    ) == (
        genesis.TOKEN_ADDRESS,
        genesis.ALLOCATOR_ADDRESS,
        genesis.GOVERNANCE_ADDRESS,
        genesis.ENGINE_ADDRESS,
        genesis.SETTLEMENT_ADDRESS,
        genesis.VIEWS_ADDRESS,
        genesis.GOVERNOR_ADDRESS,
        genesis.ATTACKER_ADDRESS,
    )
