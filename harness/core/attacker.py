"""The attacker contract's gain over its fair market PnL: what the search maximizes and
the property ``attacker_gain_bounded`` bounds.

The attacker (``contracts/testing/Bundler.vy``) cannot sign orders: it gets positions
only by taking over (liquidations, exits, ADL) and bundles its calls in one transaction.
After every call its value (wallet + equity, recomputed from raw fields) moves by

    fair PnL + minted + liquidation and keeper rewards + its own deficit written off + the rest,

where the fair PnL is what the positions it held before the call earned at the prices,
funding and time after it (marked to market, as if it had done nothing). The rest is
value taken from others beyond the stated rules: ``attacker_gain_bounded`` demands it
is never positive. The gain the campaign reports and the search (hypothesis ``target``)
maximizes is value change - fair PnL - minted, summed over a sequence: rewards and
write-offs included, so the search looks for liquidations and bankruptcies that pay.
"""

from __future__ import annotations

import dataclasses

from harness.core import recompute
from harness.core.invariants import check
from pyspec.state import State
from pyspec.token import ZERO_ADDRESS

# What a gain is made of: liquidation and keeper rewards, the attacker's own deficit written
# off by the waterfall (in the calls that wrote it off), and the rest (value taken from
# others beyond the stated rules: ``attacker_gain_bounded`` holds it at or below zero in
# every call).
GAIN_PARTS = ("rewards", "written_off", "rest")


class GainMeter:
    """Follows one address through a sequence: ``step`` after every call."""

    def __init__(self, address: str):
        self.address = address
        self.gain = 0  # over the sequence so far
        self.best = 0  # the highest running gain of the sequence
        # the gain so far by source (``GAIN_PARTS``), and at the best
        self.parts = self.best_parts = (0, 0, 0)
        self.best_at = 0  # the calls of the sequence that reached the best

    def step(self, before: State, after: State, events: list, calls: int = 0) -> None:
        """After a successful call, the sequence's ``calls``-th (views and reverts
        counted)."""
        a = self.address
        moved = value(after, a) - value(before, a)
        fair = fair_pnl(before, after, a)
        minted = sum(x for n, (s, r, x) in _transfers(events) if s == ZERO_ADDRESS and r == a)
        rewards = sum(args[6] for name, args in events if name == "Liquidation" and args[1] == a)
        rewards += sum(args[2] for name, args in events if name == "KeeperReward" and args[0] == a)
        gain = moved - fair - minted
        self.gain += gain
        rewarded, written_off, rest = self.parts
        waterfall = _written_off(events, a)
        if waterfall:
            self.parts = (rewarded + rewards, written_off + gain - rewards, rest)
        else:
            self.parts = (rewarded + rewards, written_off, rest + gain - rewards)
        if self.gain > self.best:
            self.best, self.best_parts, self.best_at = self.gain, self.parts, calls
        if waterfall:
            return  # its deficit went to the fund, ADL or bad debt: the stated waterfall
        check(
            "attacker_gain_bounded",
            gain <= rewards,
            f"attacker gained {gain} over its fair PnL {fair} in one call, "
            f"with liquidation and keeper rewards {rewards}",
        )


def value(state: State, address: str) -> int:
    """Wallet plus equity (negative when bankrupt), from raw fields."""
    return state.token.balance_of(address) + recompute.equity(state, address)


def fair_pnl(before: State, after: State, address: str) -> int:
    """What the account as it was before the call is worth at the markets and time after
    it, minus what it was worth before: the mark-to-market of holding still."""
    account = before.accounts.get(address)
    if account is None or not account.positions:
        return 0
    held = dataclasses.replace(after, accounts={address: account})
    return recompute.equity(held, address) - recompute.equity(before, address)


def _transfers(events: list):
    return ((name, args) for name, args in events if name == "Transfer")


def _written_off(events: list, address: str) -> bool:
    return any(
        name in ("InsuranceCover", "BadDebt", "Deleverage") and args[0] == address
        for name, args in events
    )
