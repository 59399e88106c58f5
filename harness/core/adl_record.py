"""The round's ADL record (issue 19), recomputed from raw fields after every call.

A deleverage's counterparty that keeps its position keeps its capacity less its charge:
what its closed lots realized and no charge took stays chargeable for the rest of the
round (``margin.adl_capacity``). Nothing else ever raises a record, and a record counts
only until the next price of any market (``recompute.round_profit``): a later round's
winners are charged by their open profit.
"""

from __future__ import annotations

from harness.core import invariants
from harness.core.recompute import capacity, pnl, round_profit
from pyspec.state import State

SENTENCE = (
    "a deleverage's counterparty that keeps its position ends with capacity (PnL plus the "
    "round's ADL record, counted only until the next price of any market) equal to its "
    "capacity before less its charge, or its PnL if that is larger (a loser records "
    "nothing); no other call raises a record (issue 19)"
)


def check(fn: str, before: State, after: State, events: list) -> None:
    charged = {}
    if fn == "deleverage":
        fills = [args for name, args in events if name == "Deleverage"]
        charged = {(f[1], f[2]): f[5] for f in fills}
    for address, account in after.accounts.items():
        for market_id in account.positions:
            now = round_profit(after, address, market_id)
            key = (address, market_id)
            if key in charged:
                expected = max(
                    capacity(before, address, market_id) - charged[key],
                    pnl(after, address, market_id),
                )
                _check(
                    capacity(after, address, market_id) == expected,
                    f"{address} in market {market_id}: capacity "
                    f"{capacity(before, address, market_id)} charged {charged[key]} left "
                    f"{capacity(after, address, market_id)}, expected {expected}",
                )
            elif now:
                _check(
                    now == round_profit(before, address, market_id),
                    f"{address} in market {market_id}: {fn} raised the ADL record from "
                    f"{round_profit(before, address, market_id)} to {now}",
                )


def _check(holds: bool, message: str) -> None:
    invariants.check("adl_round_record", holds, message)
