"""N9: the reward a deleverage pays its caller, recomputed from raw fields: the
liquidator's share of the fee on the closed lots' notional at the oracle price, at least
one unit, at most MAX_KEEPER_REWARD, out of what the fund holds above its floor and above
what the account still owes after the call; nothing to the bankrupt account deleveraging
itself."""

from __future__ import annotations

from harness.core.invariants import check as holds
from harness.core.recompute import RATIO, equity
from pyspec.constants import MAX_KEEPER_REWARD
from pyspec.state import State


def check(caller: str, account: str, before: State, after: State, events: list) -> None:
    fills = [args for name, args in events if name == "Deleverage"]
    paid = [args for name, args in events if name == "KeeperReward"]
    due = 0
    if fills and caller != account:
        market = before.markets[fills[0][2]]
        notional = sum(f[3] for f in fills) * market.price
        fee = -(-notional * market.liquidation_fee_ratio // RATIO)
        due = min(max(fee * before.liquidator_share_ratio // RATIO, 1), MAX_KEEPER_REWARD)
    # what the fund held above its floor and the account's remaining deficit, before it
    owed = max(-equity(after, account), 0)
    room = after.insurance_fund + sum(p[2] for p in paid) - after.insurance_floor - owed
    expected = [(caller, account, min(due, room))] if min(due, room) > 0 else []
    holds(
        "deleverage_pays_keeper",
        paid == expected,
        f"{caller} deleveraging {account}: paid {paid}, due {due} with {room} above the floor",
    )
