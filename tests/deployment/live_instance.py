"""A protocol instance in use on its own anvil, deployed and driven by a ``Pair`` (whose
spec state is what an import must find): trades on both markets, an order cancelled, a
nonce floor, an exit request, a price move and a queued Governor call. Market 0 runs the
queue policy, market 1 the configured pro-rata one."""

from dataclasses import replace

from harness.core import genesis, orders
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.pair import Pair
from harness.core.state_import import Deployment
from harness.evm import AnvilChain
from pyspec.constants import ADL_POLICY_QUEUE


def live_pair() -> Pair:
    config = genesis.DEFAULT_CONFIG
    queue = replace(config.markets[0], adl_policy=ADL_POLICY_QUEUE)
    pair = Pair(AnvilChain(), replace(config, markets=(queue, *config.markets[1:])))
    order = orders.make_order(pair.state, pair.address("trader4"), 0, True, 1, 10**6)
    deposits = [Call("engine", "deposit", f"trader{i}", (50_000 * USDC,)) for i in range(4)]
    later = pair.clock + 5
    calls = [
        *deposits,
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
