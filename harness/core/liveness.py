"""The liveness properties, checked at the end of every sequence on a copy of the spec's
state with a live oracle: a bounded drain of ``deleverage`` resolves every bankrupt
account (``liveness``), and no solvent account below maintenance is left unliquidatable
for want of insurance (``liquidation_never_stalls``). Written, like ``properties``,
without the spec's helpers."""

from __future__ import annotations

from harness.core.invariants import check
from harness.core.recompute import equity, maintenance
from pyspec.state import State

# An outside liquidator with ample margin, in the drain's copy only.
OUTSIDE_LIQUIDATOR = "0x" + "1d" * 20


def check_liveness(state: State, deleverage, liquidate=None) -> None:
    """Drain: ``deleverage(state, address) -> (state, revert reason)`` (the spec's, on a
    copy) each account holding positions at or below zero equity, or while it owes a
    loss others paid (M-1; one whose shortfall was booked where it arose is left at 0 with
    its other positions, issue 19), at most once per market; every one must end with no
    position, or repaid and solvent. Liveness assumes a live oracle: it
    first republishes every market's last price at the current block time. With
    ``liquidate(state, liquidator, address, market)`` it first liquidates, on its own
    copy, every solvent account below maintenance in each market it holds: none may fail
    for want of insurance."""
    drained = state.copy()
    for market in drained.markets:
        market.price_timestamp = drained.timestamp
    if liquidate is not None:
        _check_liquidation_liveness(drained, liquidate)
    underwater = [a for a in drained.accounts if _unresolved(drained, a)]
    # the bankrupt first: an owing account in profit waits for them (``_require_no_dodge``)
    for address in sorted(underwater, key=lambda a: (equity(drained, a) > 0, a)):
        for _ in range(len(drained.markets)):
            if not _unresolved(drained, address):
                break
            drained, reason = deleverage(drained, address)
            check("liveness", reason is None, f"deleverage of {address} reverted: {reason}")
        check(
            "liveness",
            not _unresolved(drained, address),
            f"{address} keeps positions at equity {equity(drained, address)}, owing "
            f"{drained.accounts[address].booked}, after the drain",
        )


def _unresolved(state: State, address: str) -> bool:
    """Holding positions at or below zero equity, or while it owes (M-1)."""
    account = state.accounts[address]
    return bool(account.positions) and (equity(state, address) <= 0 or account.booked > 0)


def _check_liquidation_liveness(state: State, liquidate) -> None:
    for address, account in sorted(state.accounts.items()):
        if not account.positions or not 0 <= equity(state, address) < maintenance(state, address):
            continue
        for market_id in sorted(account.positions):
            trial = state.copy()
            trial.accounts[OUTSIDE_LIQUIDATOR] = type(account)(collateral=10**18)
            _, reason = liquidate(trial, OUTSIDE_LIQUIDATOR, address, market_id)
            check(
                "liquidation_never_stalls",
                reason != "liquidate: insurance fund insufficient",
                f"{address} (equity {equity(state, address)}) cannot be liquidated in market "
                f"{market_id}: {reason}",
            )
