"""The round's ADL record (issue 19), recomputed from raw fields after every call.

A deleverage's counterparty that keeps its position keeps its capacity less its charge:
what its closed lots realized and no charge took stays chargeable for the rest of the
round (``margin.adl_capacity``). Nothing else ever raises a record, and a record counts
while its side's round lasts (``recompute.round_profit``, from the raw round fields).

A round ends for every record of its side at once, and only so outside a deleverage
(``TOGETHER``): else a winner could end its own record and leave its share to the others
(the eighth review's 1-lot trade moved 297.91 USDC). And it ends once its holder acts
(``HOLDER_ACTS``): else a holder could withdraw what its record counts and be charged it
from its deposit (the eighth review's 411.07 USDC).
"""

from __future__ import annotations

from harness.core import invariants
from harness.core.recompute import capacity, equity, pnl, round_paid, round_profit
from pyspec.state import State

PNL_PRO_RATA = 1
SENTENCE = (
    "a deleverage's counterparty that keeps its position ends with capacity (PnL plus the "
    "round's ADL record, counted while its side's round lasts) equal to its capacity "
    "before less its charge, or its PnL if that is larger (a loser records nothing), and "
    "under pro-rata on profit with the round's charges in its record raised by exactly "
    "its charge (none recorded otherwise); no other call "
    "raises a record (issue 19)"
)
TOGETHER = (
    "outside a deleverage, a call that ends a live ADL record of one side of a live market "
    "ends every live record of that side: no winner ends its own record alone and leaves "
    "its share to the others (issue 19, eighth review)"
)
AFTER_A_PRICE = (
    "after a price, no side of a live market has its ADL round open unless a holder opposite "
    "is bankrupt with a loss there (or none anywhere): a price that rescues the last one "
    "ends the round, so its records never meet a later bankruptcy (issue 19)"
)
HOLDER_ACTS = (
    "an account that withdraws, trades or liquidates holds no live ADL record in a live "
    "market after the call: what a record counts is never withdrawn or traded away while "
    "it may still be charged (issue 19, eighth review)"
)


def check(fn: str, before: State, after: State, events: list) -> None:
    charged = {}
    if fn == "deleverage":
        fills = [args for name, args in events if name == "Deleverage"]
        charged = {(f[1], f[2]): f[5] for f in fills}
    for address, account in after.accounts.items():
        for market_id, position in account.positions.items():
            key = (address, market_id)
            if not position.adl_round and key not in charged:
                continue  # no record now: nothing raised one
            if key in charged:
                expected = max(
                    capacity(before, address, market_id) - charged[key],
                    pnl(after, address, market_id),
                )
                # pro-rata on profit's apportionment continues from it; no other policy's
                paid = (
                    round_paid(before, address, market_id) + charged[key]
                    if before.markets[market_id].adl_policy == PNL_PRO_RATA
                    else 0
                )
                # the record this call wrote, live or ended by the call's last step
                left = pnl(after, address, market_id) + position.adl_profit
                _check(
                    left == expected and position.adl_paid == paid,
                    f"{address} in market {market_id}: capacity "
                    f"{capacity(before, address, market_id)} charged {charged[key]} left "
                    f"{left}, expected {expected}; paid in the round {position.adl_paid}, "
                    f"expected {paid}",
                )
                continue
            for field in (round_profit, round_paid):
                now, then = field(after, address, market_id), field(before, address, market_id)
                _check(
                    not now or now == then,
                    f"{address} in market {market_id}: {fn} raised the ADL record's "
                    f"{field.__name__} from {then} to {now}",
                )


def _check(holds: bool, message: str) -> None:
    invariants.check("adl_round_record", holds, message)


def check_lifetime(fn: str, caller: str, before: State, after: State, events: list) -> None:
    """``TOGETHER``, ``HOLDER_ACTS`` and ``AFTER_A_PRICE`` for a successful call ``fn`` by
    ``caller``."""
    if fn == "update_price":
        open_without = sorted(_rounds_open_without_a_deficit(after))
        invariants.check(
            "adl_round_ends_at_a_rescuing_price",
            not open_without,
            lambda: (
                f"after a price, rounds (market, side) {open_without} are open "
                "with no bankrupt holder opposite"
            ),
        )
    live_before, live_after = live_records(before), live_records(after)
    if fn != "deleverage":
        for key, holders in live_before.items():
            _check_together(fn, key, holders, holders - live_after.get(key, set()))
    acting = set()
    if fn in ("withdraw", "liquidate"):
        acting.add(caller)
    acting.update(a for name, args in events if name == "Trade" for a in args[:2])
    holding = {a for holders in live_after.values() for a in holders} & acting
    invariants.check(
        "adl_record_ends_when_its_holder_acts",
        not holding,
        lambda: f"{fn}: {sorted(holding)} acted and still hold a live ADL record",
    )


def _check_together(fn: str, key: tuple[int, int], holders: set, ended: set) -> None:
    invariants.check(
        "adl_records_end_together",
        not ended or ended == holders,
        lambda: (
            f"{fn} ended the ADL records of {sorted(ended)} in market {key[0]} (side "
            f"{key[1]}) and left those of {sorted(holders - ended)}"
        ),
    )


def live_records(state: State) -> dict[tuple[int, int], set[str]]:
    """The holders of a live record, by (market id, side), in live markets."""
    found: dict[tuple[int, int], set[str]] = {}
    for address, account in state.accounts.items():
        for market_id, position in account.positions.items():
            if state.markets[market_id].settled or not (
                round_profit(state, address, market_id) or round_paid(state, address, market_id)
            ):
                continue
            side = 1 if position.size > 0 else -1
            found.setdefault((market_id, side), set()).add(address)
    return found


def _rounds_open_without_a_deficit(state: State):
    """(market id, side) of each live market's open round with no holder opposite that is
    bankrupt (equity < 0, raw fields) with a loss in that market or at a loss nowhere."""
    for market_id, market in enumerate(state.markets):
        for side, current in ((1, market.long_adl_round), (-1, market.short_adl_round)):
            if market.settled or current % 2 == 0:
                continue
            if not any(_bankrupt_here(state, h, market_id, side) for h in market.holders):
                yield market_id, side


def _bankrupt_here(state: State, holder: str, market_id: int, side: int) -> bool:
    positions = state.accounts[holder].positions
    if positions[market_id].size * side >= 0 or equity(state, holder) >= 0:
        return False
    return pnl(state, holder, market_id) < 0 or all(pnl(state, holder, m) >= 0 for m in positions)
