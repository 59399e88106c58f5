"""The loss rule's haircut views on the spec and both chains: their bound on the amount,
and the figure a withdrawal's ``Haircut`` event then shows."""

import pytest

from harness.core import view_queries
from harness.core.call import Call
from harness.core.genesis import USDC
from harness.core.pair import Divergence
from pyspec import views
from pyspec.errors import Revert, require

VIEWS = ("withdrawal_haircut", "deposit_haircut")


def chain_view(pair, fn: str, amount: int):
    codec = pair._codecs["views"][fn]
    result = pair.chain.call(pair._targets["views"], codec.encode((amount,)))
    return codec.decode(result.output)[0] if result.success else result.reason


@pytest.mark.parametrize("fn", VIEWS)
def test_no_haircut_without_bad_debt(pair, fn):
    pair.reset()
    assert pair.state.bad_debt == 0
    assert getattr(views, fn)(pair.state, 10**6 * USDC) == 0
    assert chain_view(pair, fn, 10**6 * USDC) == 0


@pytest.mark.parametrize("fn", VIEWS)
def test_an_amount_beyond_128_bits_is_refused_alike(pair, fn):
    pair.reset()
    assert chain_view(pair, fn, 2**128 - 1) == 0
    with pytest.raises(Revert, match="views: amount too large"):
        getattr(views, fn)(pair.state, 2**128)
    assert chain_view(pair, fn, 2**128) == "views: amount too large"
    assert chain_view(pair, fn, 2**256 - 1) == "views: amount too large"


def test_views_are_compared_for_every_named_account(pair):
    pair.reset()
    assert pair.apply(Call("engine", "deposit", "trader0", (500 * USDC,))).success
    compared = pair.check_views(["trader0"])
    assert compared >= len(view_queries.ACCOUNT_VIEWS) + len(view_queries.AMOUNT_VIEWS)


def test_every_view_check_asks_the_haircuts_at_their_bound(pair, monkeypatch):
    """``check_views`` asks both haircut views for the last amount served and the first
    refused; a spec that refused one unit early diverges there."""
    pair.reset()
    asked = [args for fn, _, args in view_queries.market_queries(pair.state) if fn in VIEWS]
    assert sorted(asked) == sorted((a,) for a in view_queries.AMOUNT_BOUNDS for _ in VIEWS)
    pair.check_views([])  # spec and chain agree on both sides of the bound
    strict = views.withdrawal_haircut

    def one_unit_early(state, amount):
        require(amount < 2**128 - 1, "views: amount too large")
        return strict(state, amount)

    monkeypatch.setitem(view_queries.AMOUNT_VIEWS, "withdrawal_haircut", one_unit_early)
    with pytest.raises(Divergence) as caught:
        pair.check_views([])
    assert caught.value.call.args == (2**128 - 1,)
