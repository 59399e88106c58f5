"""W11: the five-light ADL indicator is a percentile of cumulative quantity in the queue,
equal on the spec and on both chains."""

from harness.core.call import CLOCK, Call
from harness.core.genesis import USDC
from harness.evm.base import GENESIS_TIME
from harness.vectors.builder import settle_trade
from pyspec import views


def test_a_whale_ahead_pushes_a_small_position_to_the_last_light(pair):
    calls = [
        Call("engine", "deposit", "trader0", (50_000 * USDC,)),
        Call("engine", "deposit", "trader1", (50_000 * USDC,)),
        Call("engine", "deposit", "trader2", (50_000 * USDC,)),
        settle_trade("trader0", "trader1", 9_000, 10**6),  # the whale short, first in line
        settle_trade("trader0", "trader2", 1_000, 995_000),  # a small short, second
        Call(CLOCK, "wait", "", (1,)),
        Call("engine", "update_price", "oracle", (0, 900_000, GENESIS_TIME + 1)),
    ]
    for call in calls:
        assert pair.apply(call).success
    assert pair.check_views(["trader1", "trader2"]) > 0  # spec == chain, every view
    quantile = views.adl_quantile
    assert quantile(pair.state, pair.address("trader1"), 0) == 5
    # counting positions would give 3 (second of two); 9,000 of 10,000 lots are ahead
    assert quantile(pair.state, pair.address("trader2"), 0) == 1
