"""The loss rule's haircut view on the spec and both chains: its bound on the amount, and
the new money it exempts (issue 18)."""

import pytest

from harness.core import view_queries
from harness.core.call import Call
from harness.core.genesis import USDC
from harness.core.pair import Divergence
from harness.core.view_queries import NOBODY
from pyspec import views
from pyspec.errors import Revert, require


def chain_view(pair, fn: str, *args):
    codec = pair._codecs["views"][fn]
    result = pair.chain.call(pair._targets["views"], codec.encode(args))
    return codec.decode(result.output)[0] if result.success else result.reason


def test_no_haircut_without_bad_debt(pair):
    pair.reset()
    assert pair.state.bad_debt == 0
    trader0 = pair.address("trader0")
    assert views.withdrawal_haircut(pair.state, trader0, 10**6 * USDC) == 0
    assert chain_view(pair, "withdrawal_haircut", trader0, 10**6 * USDC) == 0
    assert chain_view(pair, "new_money", trader0) == 0


def test_an_amount_beyond_128_bits_is_refused_alike(pair):
    pair.reset()
    assert chain_view(pair, "withdrawal_haircut", NOBODY, 2**128 - 1) == 0
    with pytest.raises(Revert, match="views: amount too large"):
        views.withdrawal_haircut(pair.state, NOBODY, 2**128)
    for amount in (2**128, 2**256 - 1):
        assert chain_view(pair, "withdrawal_haircut", NOBODY, amount) == "views: amount too large"


def test_views_are_compared_for_every_named_account(pair):
    pair.reset()
    assert pair.apply(Call("engine", "deposit", "trader0", (500 * USDC,))).success
    compared = pair.check_views(["trader0"])
    assert compared >= len(view_queries.ACCOUNT_VIEWS) + len(view_queries.AMOUNT_VIEWS)


def test_every_view_check_asks_the_haircut_at_its_bound(pair, monkeypatch):
    """``check_views`` asks the haircut view for the last amount served and the first
    refused; a spec that refused one unit early diverges there."""
    pair.reset()
    asked = [
        args
        for fn, _, args in view_queries.market_queries(pair.state)
        if fn in view_queries.AMOUNT_VIEWS
    ]
    assert sorted(asked) == sorted((NOBODY, a) for a in view_queries.AMOUNT_BOUNDS)
    pair.check_views([])  # spec and chain agree on both sides of the bound
    strict = views.withdrawal_haircut

    def one_unit_early(state, address, amount):
        require(amount < 2**128 - 1, "views: amount too large")
        return strict(state, address, amount)

    monkeypatch.setitem(view_queries.AMOUNT_VIEWS, "withdrawal_haircut", one_unit_early)
    with pytest.raises(Divergence) as caught:
        pair.check_views([])
    assert caught.value.call.args == (NOBODY, 2**128 - 1)
