"""A protocol instance in use on its own anvil, deployed and driven by a ``Pair`` (whose
spec state is what an import must find): trades on both markets, an order cancelled, a
nonce floor, an exit request, a price move and a queued Governor call; two of its users
(``trader8``, ``trader9``: one long, one with collateral only) are none of an audit's own
actors. Market 0 runs the queue policy, market 1 the configured pro-rata one."""

import json
from dataclasses import replace
from pathlib import Path

from deployment import manifest as manifests
from deployment.onchain import code_hash
from harness.core import genesis, orders
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.pair import Pair
from harness.core.state_import import Deployment
from harness.evm import AnvilChain
from harness.evm.base import CHAIN_ID
from pyspec.constants import ADL_POLICY_QUEUE


def live_pair() -> Pair:
    config = genesis.DEFAULT_CONFIG
    queue = replace(config.markets[0], adl_policy=ADL_POLICY_QUEUE)
    # two users beyond the audit's traders: the audit holds no actor of theirs (residents)
    pair = Pair(
        AnvilChain(),
        replace(config, markets=(queue, *config.markets[1:])),
        n_traders=genesis.N_TRADERS + 2,
    )
    order = orders.make_order(pair.state, pair.address("trader4"), 0, True, 1, 10**6)
    deposits = [Call("engine", "deposit", f"trader{i}", (50_000 * USDC,)) for i in range(4)]
    later = pair.clock + 5
    calls = [
        *deposits,
        Call("engine", "deposit", "trader8", (5_000 * USDC,)),
        Call("engine", "deposit", "trader9", (2_000 * USDC,)),
        Match("trader8", "trader1", 0, 30, 10**6),
        Match("trader0", "trader1", 0, 40, 10**6),
        Match("trader2", "trader3", 0, 10, 990_000),
        Match("trader1", "trader0", 1, 3, 25_000_000),
        Match("trader3", "trader2", 1, 1, 24_000_000),
        Call("settlement", "cancel_order", "trader4", (orders.named_order(order, pair.names),)),
        Call("settlement", "invalidate_nonces", "trader5", (7,)),
        Call("settlement", "request_exit", "trader3", (0,)),
        Call(CLOCK, "wait", "", (5,)),
        Call("engine", "update_price", "oracle", (0, 1_050_000, later)),
        Call("engine", "update_price", "oracle", (1, 26_000_000, later)),
        Call("governor", "schedule", "owner", ("engine", Calldata("set_oracle", ("trader6",)))),
    ]
    for call in calls:
        assert pair.apply(call).success, call
    return pair


def deployment_of(pair: Pair) -> Deployment:
    return Deployment(
        pair.engine_address, pair.settlement_address, pair.governor_address, pair.views_address
    )


def manifest_of(pair: Pair, path) -> str:
    """A manifest of ``pair``'s instance as ``ape run deploy`` writes one: what was asked
    for (its config, roles and the mock token) and each contract's address and runtime
    code hash; written to ``path``."""
    addresses = {
        "MockToken": pair.token_address,
        "AdlAllocator": pair.allocator_address,
        "EngineGovernance": pair.governance_address,
        "PerpEngine": pair.engine_address,
        "Settlement": pair.settlement_address,
        "PerpViews": pair.views_address,
        "Governor": pair.governor_address,
    }
    contracts = {}
    for name, address in addresses.items():
        code = bytes.fromhex(pair.chain.rpc("eth_getCode", [address, "latest"])[2:])
        contracts[name] = {"address": address, "block": 0, "runtime_keccak": code_hash(code)}
    actors = pair.actors
    record = {
        "format": manifests.FORMAT,
        "chain_id": CHAIN_ID,
        "request": manifests.request(
            pair.config, actors["owner"], "mock", actors["oracle"], actors["operator"]
        ),
        "contracts": contracts,
    }
    Path(path).write_text(json.dumps(record))
    return str(path)
