"""The round's ADL record (issue 19), recomputed from raw fields after every call.

A deleverage's counterparty that keeps its position keeps its capacity less its charge:
what its closed lots realized and no charge took stays chargeable for the rest of the
round (``margin.adl_capacity``). Nothing else ever raises a record, and while the
market's price stays the stamped one nothing but a deleverage (or the market's
settlement) ends it, and a withdrawal leaves the profit behind it (the eighth review: a
1-lot trade or a withdrawal between two deleverages of the round moved the second one's
charges; the ninth: freezing the whole account for it let a dust bankruptcy lock a
winner out of every market).
"""

from __future__ import annotations

from harness.core import invariants
from harness.core.recompute import capacity, equity, initial, pnl, round_profit
from pyspec.state import State

SENTENCE = (
    "a deleverage's counterparty that keeps its position ends with capacity (PnL plus the "
    "round's ADL record) equal to its capacity before less its charge, or its PnL if that "
    "is larger (a loser records nothing); no other call raises a record, none but a "
    "deleverage, a new price or the market's settlement ends a live one, and a withdrawal "
    "leaves equity at or above the initial requirement plus the live records (issue 19)"
)


def check(fn: str, caller: str, before: State, after: State, events: list) -> None:
    _check_live(fn, caller, before, after)
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


def _check_live(fn: str, caller: str, before: State, after: State) -> None:
    """A live record stays as it was through every call but a deleverage, while its
    market's price time stands and the market is live; a withdrawal keeps the initial
    requirement and every live record of its account in equity."""
    if fn == "withdraw":
        reserved = sum(round_profit(after, caller, m) for m in after.accounts[caller].positions)
        _check(
            equity(after, caller) >= initial(after, caller) + reserved,
            f"{caller} withdrew to equity {equity(after, caller)} with initial "
            f"{initial(after, caller)} and live records {reserved}",
        )
    if fn == "deleverage":
        return
    for address, account in before.accounts.items():
        for market_id in account.positions:
            live = round_profit(before, address, market_id)
            market = after.markets[market_id]
            if not live or market.settled:
                continue
            if market.price_timestamp != before.markets[market_id].price_timestamp:
                continue  # a new price: the round is over
            _check(
                round_profit(after, address, market_id) == live,
                f"{fn} by {caller}: {address}'s live record of {live} in market {market_id} "
                f"became {round_profit(after, address, market_id)}",
            )


def _check(holds: bool, message: str) -> None:
    invariants.check("adl_round_record", holds, message)
