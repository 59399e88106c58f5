"""The trader views the harness compares on spec and chain (``Pair.check_views``, the ape
baseline, SARIF's rules): each view's name with its spec function, by what it is asked
for, and the queries of one comparison."""

from collections.abc import Callable

from pyspec import margin, views
from pyspec.errors import Revert
from pyspec.state import State

ACCOUNT_VIEWS = {
    "equity": margin.equity,
    "initial_margin": margin.initial_margin,
    "maintenance_margin": margin.maintenance_margin,
    "free_collateral": views.free_collateral,
    "health": views.health,
    "new_money": views.new_money,
}
POSITION_VIEWS = {
    "liquidation_price": views.liquidation_price,
    "bankruptcy_price": views.bankruptcy_price,
    "adl_rank": views.adl_rank,
    "adl_quantile": views.adl_quantile,
    "adl_exposure": views.adl_exposure,
}
MARKET_VIEWS = {"price_age": views.price_age}
# the loss rule's haircut, asked for each named account with the amount of its collateral
AMOUNT_VIEWS = {"withdrawal_haircut": views.withdrawal_haircut}
# and, once per comparison, at their bound: the last amount served and the first refused
# (``views: amount too large``: amount x bad debt stays inside int256), for an account
# with no new money
AMOUNT_BOUNDS = (2**128 - 1, 2**128)
NOBODY = "0x" + "00" * 20
# Served by contracts/PerpViews.vy, outside the engine's size budget: every view.
PERP_VIEWS = frozenset({*ACCOUNT_VIEWS, *POSITION_VIEWS, *MARKET_VIEWS, *AMOUNT_VIEWS})

Query = tuple[str, Callable, tuple]


def market_queries(state: State) -> list[Query]:
    """Every market view of every market, and the haircut views at their bound."""
    queries = [
        (fn, spec, (m,)) for m in range(len(state.markets)) for fn, spec in MARKET_VIEWS.items()
    ]
    return queries + [
        (fn, spec, (NOBODY, a)) for a in AMOUNT_BOUNDS for fn, spec in AMOUNT_VIEWS.items()
    ]


def account_queries(state: State, address: str) -> list[Query]:
    """Every account and position view of ``address``, and the haircut views of an amount
    of its collateral (at least 1)."""
    queries = [(fn, spec, (address,)) for fn, spec in ACCOUNT_VIEWS.items()]
    queries += [
        (fn, spec, (address, market_id))
        for market_id in range(len(state.markets))
        for fn, spec in POSITION_VIEWS.items()
    ]
    account = state.accounts.get(address)
    amount = max(account.collateral if account else 0, 1)
    return queries + [(fn, spec, (address, amount)) for fn, spec in AMOUNT_VIEWS.items()]


def expected(spec_view: Callable, state: State, args: tuple) -> tuple | str:
    """What the chain must answer: the spec view's words, or its revert reason."""
    try:
        value = spec_view(state, *args)
    except Revert as revert:
        return revert.reason
    return tuple(value) if isinstance(value, tuple) else (value,)
