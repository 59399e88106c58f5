"""N9: the reward a deleverage pays its caller, recomputed from raw fields: the
liquidator's share of the fee on the closed lots' notional at the oracle price, at least
one unit, at most MAX_KEEPER_REWARD, whatever the fund holds (the reward joins the
account's deficit: the fund, then the winners pay it), and at most that deficit share,
for closing a position that holds part of the deficit (a share that is not zero,
recomputed); nothing to the bankrupt account deleveraging itself."""

from __future__ import annotations

from harness.core.invariants import check as holds
from harness.core.recompute import RATIO, deficit_share
from pyspec.constants import MAX_KEEPER_REWARD
from pyspec.state import State


def check(caller: str, account: str, before: State, after: State, events: list) -> None:
    fills = [args for name, args in events if name == "Deleverage"]
    paid = [args for name, args in events if name == "KeeperReward"]
    due = 0
    share = deficit_share(before, account, fills[0][2]) if fills else 0
    if caller != account and share < 0:
        market = before.markets[fills[0][2]]
        notional = sum(f[3] for f in fills) * market.price
        fee = -(-notional * market.liquidation_fee_ratio // RATIO)
        due = min(max(fee * before.liquidator_share_ratio // RATIO, 1), MAX_KEEPER_REWARD, -share)
    expected = [(caller, account, due)] if due else []
    holds(
        "deleverage_pays_keeper",
        paid == expected,
        f"{caller} deleveraging {account}: paid {paid}, due {due}",
    )
