"""Auto-deleveraging: each case runs on the spec and on both chains, then renders or checks
``tests/vectors/adl/<name>.json``."""

import pytest
from scenarios import drained_fund, flash_crash

from harness.core.genesis import USDC
from harness.vectors.builder import Rejection, call, settle_trade
from pyspec import adl

REJECTED = (
    Rejection(
        "unknown_market",
        "Market 2 is not listed.",
        call("deleverage", "outsider", "trader0", 2),
        "market: unknown market",
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def test_several_counterparties(case):
    """Three shorts absorb a bankrupt long in rank order (PnL% x leverage)."""
    drained_fund(case)  # trader0: -2,910 USDC on 1,000; the fund at its floor
    assert case.equity("trader0") < 0
    case("liquidate", "trader1", "trader0", 0, reverts="liquidate: insurance fund insufficient")
    events = case.act(
        "deleverage", "outsider", "trader0", 0, branches=("adl.several_counterparties",)
    )
    fills = [args for name, args in events if name == "Deleverage"]
    # rank = PnL% x leverage: trader3 (small account, sold highest) first, then the larger
    # of the two equal-PnL% shorts (higher leverage)
    assert [case.names[f[1]] for f in fills] == ["trader3", "trader1", "trader2"]
    assert sum(f[3] for f in fills) == 9_700  # exactly the bankrupt size, no overshoot
    assert case.size("trader0") == 0 and case.equity("trader0") == 0


def test_flash_crash_cascade(case):
    """A flash crash: 9x and 8x longs partly liquidated at -10%, the 6x at -15%; at -20%
    the fund covers two deficits and cannot cover the third, which ADL closes."""
    flash_crash(case)
    case.price(0, 900_000)
    for target in ("trader0", "trader1"):
        events = case("liquidate", "trader3", target, 0)
        assert [name for name, _ in events].count("Liquidation") == 1
    case("liquidate", "trader3", "trader2", 0, reverts="liquidate: account healthy")
    case.price(0, 850_000)
    case("liquidate", "trader4", "trader2", 0)
    case.price(0, 800_000)
    fund = case.state.insurance_fund
    for target in ("trader0", "trader2"):
        events = case("liquidate", "trader5", target, 0)
        assert "InsuranceCover" in [name for name, _ in events]
    assert case.state.insurance_fund < fund
    case("liquidate", "trader5", "trader1", 0, reverts="liquidate: insurance fund insufficient")
    case.act("deleverage", "outsider", "trader1", 0, branches=("adl.one_counterparty",))
    for target in ("trader0", "trader1", "trader2"):
        assert case.size(target) == 0 and case.equity(target) == 0


def test_one_counterparty(case):
    """A single profitable short absorbs the whole bankrupt long."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case("withdraw_insurance", "owner", 900 * USDC)
    case.price(0, 800_000)
    case.act("deleverage", "trader4", "trader0", 0, branches=("adl.one_counterparty",))


def test_bankrupt_short(case):
    """A bankrupt short after a spike is closed against the longs."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case(settle_trade("trader1", "trader0", 5_000, 10**6))
    case(settle_trade("trader2", "trader0", 4_000, 990_000, buyer_is_taker=False))
    case("withdraw_insurance", "owner", 900 * USDC)
    case.price(0, 1_300_000)
    case.act("deleverage", "outsider", "trader0", 0, branches=("adl.several_counterparties",))


def test_cascade_after_liquidations(case):
    """The flash crash ends in ADL of the 8x long."""
    flash_crash(case)
    case.price(0, 900_000)
    case("liquidate", "trader3", "trader0", 0)
    case("liquidate", "trader3", "trader1", 0)
    case.price(0, 800_000)
    case("liquidate", "trader5", "trader0", 0)
    case.act("deleverage", "outsider", "trader1", 0)


def test_passes_over_counterparty(case):
    """The top-ranked short is nearly broke from market 1: it cannot absorb its fill and is
    passed over; the next short takes all it holds and the rest is socialized."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 3_000 * USDC)
    case("deposit", "trader2", 20_000 * USDC)
    case("deposit", "trader3", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 5_000, 10**6))
    case(settle_trade("trader0", "trader2", 4_000, 10**6))
    case(settle_trade("trader1", "trader3", 300, 25_000_000, market=1))
    case("withdraw_insurance", "owner", 900 * USDC)
    case.price(0, 850_000)
    case.price(1, 14_000_000)
    ranked = adl.adl_candidates(case.state, 0, -1)
    assert [case.names[a] for a, _ in ranked] == ["trader1", "trader2"]
    events = case.act(
        "deleverage",
        "outsider",
        "trader0",
        0,
        branches=("adl.one_counterparty", "socialized_loss"),
    )
    fills = [case.names[args[1]] for name, args in events if name == "Deleverage"]
    assert fills == ["trader2"], fills


def test_fund_can_cover(case):
    """A bankrupt account the fund can cover must be liquidated."""
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 20_000 * USDC)
    case(settle_trade("trader0", "trader1", 9_000, 10**6))
    case.price(0, 880_000)
    case.act("deleverage", "outsider", "trader0", 0, reverts="adl: insurance fund can cover")


def test_not_bankrupt(case):
    """An account under maintenance but solvent is not deleveraged."""
    flash_crash(case)
    case.price(0, 900_000)
    case.act("deleverage", "outsider", "trader0", 0, reverts="adl: account not bankrupt")


def test_no_position(case):
    """The account holds nothing on market 1."""
    drained_fund(case)
    case.act("deleverage", "outsider", "trader0", 1, reverts="adl: no position")
