"""apply_fill: open, increase, reduce, close and flip, with exact zero-sum books."""

import pytest

from pyspec import positions
from pyspec.constants import MAX_POSITIONS_PER_MARKET
from pyspec.errors import Revert
from pyspec.state import Market, State, get_account
from pyspec.token import Token

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20


def fresh() -> State:
    state = State("0x" + "ee" * 20, Token("0x" + "dd" * 20), A, A, A, 500_000, 0)
    state.markets.append(
        Market(100_000, 50_000, 10_000, 50_000, 5_000, 0, 0, 0, 3_600, 0, price=100)
    )
    return state


def fill(state, buyer, seller, size, price):
    positions.apply_fill(state, buyer, 0, size, -size * price)
    positions.apply_fill(state, seller, 0, -size, size * price)


def books(state):
    return sum(
        a.collateral - sum(p.entry_notional for p in a.positions.values())
        for a in state.accounts.values()
    )


def test_open_reduce_close_realizes_pnl():
    state = fresh()
    fill(state, A, B, 10, 100)
    assert state.accounts[A].positions[0].entry_notional == 1000
    assert state.markets[0].open_interest == 10
    fill(state, B, A, 4, 110)  # A sells 4 at 110: +40 realized
    assert state.accounts[A].collateral == 40
    assert state.accounts[A].positions[0].size == 6
    assert state.accounts[A].positions[0].entry_notional == 600
    fill(state, B, A, 6, 90)  # A closes at 90: -60
    assert state.accounts[A].collateral == -20
    assert 0 not in state.accounts[A].positions
    assert state.markets[0].holders == []
    assert books(state) == 0


def test_flip_splits_cash_between_close_and_open():
    state = fresh()
    fill(state, A, B, 10, 100)
    fill(state, B, A, 15, 110)  # A: closes 10 (+100), opens short 5 at 110
    position = state.accounts[A].positions[0]
    assert state.accounts[A].collateral == 100
    assert (position.size, position.entry_notional) == (-5, -550)
    assert state.markets[0].open_interest == 5
    assert books(state) == 0


def test_realized_profit_rounds_down():
    state = fresh()
    fill(state, A, B, 3, 100)  # entry 300
    fill(state, B, A, 1, 100)  # removed ceil(300/3) = 100, exact
    get_account(state, A).positions[0].entry_notional = 301  # an odd cost basis
    fill(state, B, A, 1, 100)  # removed ceil(301/2) = 151: realized -51, not -50
    assert state.accounts[A].collateral == -51


def test_holder_limit():
    state = fresh()
    state.markets[0].holders = [f"0x{i:040x}" for i in range(MAX_POSITIONS_PER_MARKET)]
    with pytest.raises(Revert, match="market: position limit reached"):
        positions.apply_fill(state, A, 0, 1, -100)


def test_reduces_risk():
    assert positions.reduces_risk(10, 4)
    assert positions.reduces_risk(-10, 0)
    assert not positions.reduces_risk(10, -4)
    assert not positions.reduces_risk(0, 1)
    assert not positions.reduces_risk(5, 6)
