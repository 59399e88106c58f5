"""The invariant catalogue, and the state checks run after every differential step.

Each invariant has a name (``INVARIANTS``); violations, reports and comments use it.
State invariants read a parsed state dump (``dump.parse``), so the same check runs on the
spec's dump and on the chain's. The economic properties of each call (who bears a loss,
liveness) are in ``properties``, which adds its entries to the catalogue.
"""

from collections import Counter
from collections.abc import Callable

from pyspec.constants import FUNDING_INDEX_SCALE

# name -> statement. The first four are the differential comparison itself (``Pair``).
INVARIANTS = {
    "state": "spec and chain states equal, field by field (after every call)",
    "reverts": "same success or revert reason (after every call)",
    "events": "same events, names and arguments, in order (after every call)",
    "views": "trader views equal on both sides (when the machine checks them)",
    "custody": "token balance = collateral + fund - bad debt + unsettled PnL and funding",
    "balanced_sides": "every live market's sizes sum to zero (a settled one's close one by"
    " one at its final price); open interest and holders in step",
    "fund_non_negative": "the insurance fund and the bad debt are never negative",
    "fund_before_bad_debt": "bad debt is recorded only while the fund is empty",
    "no_orphan_deficit": "no account holds a deficit with no position",
    "conservation": "equity + fund - bad debt move only by deposits, withdrawals and top-ups",
    "funding_zero_sum": "settled plus pending funding is exactly zero per market",
}


# How often each invariant and property was checked in this process, counted where the
# check runs (one dict increment: negligible next to the check). A campaign worker runs
# in its own process, or alone in the parent, and clears it when it starts.
CHECKS: Counter = Counter()


class InvariantViolation(AssertionError):
    """``name`` is the violated entry of ``INVARIANTS``."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"invariant {name}: {detail}")
        self.name = name


def check(name: str, condition: bool, detail: str | Callable[[], str]) -> None:
    """Count the check; raise when ``condition`` fails, with ``detail`` (a callable: made
    only then, for a detail that costs to write)."""
    assert name in INVARIANTS, name
    CHECKS[name] += 1
    if not condition:
        raise InvariantViolation(name, detail() if callable(detail) else detail)


def _open_positions(parsed: dict):
    """Yield (market_id, market, position) for every open position."""
    for account in parsed["accounts"]:
        for market_id, (market, position) in enumerate(
            zip(parsed["markets"], account["positions"], strict=True)
        ):
            if position["size"]:
                yield market_id, market, position


def owed_funding(market: dict, position: dict) -> int:
    """What the position received since its last settlement, in index units (exact)."""
    return -position["size"] * (market["funding_index"] - position["funding_checkpoint"])


def pending_funding(market: dict, position: dict) -> int:
    """The same in collateral units, rounded down (the protocol keeps the rest)."""
    return owed_funding(market, position) // FUNDING_INDEX_SCALE


def books(parsed: dict) -> tuple[int, int, int]:
    """Return (sum of collateral, sum of unsettled PnL and funding, funding kept by the
    protocol and not yet booked to the fund) over all accounts: the last is the markets'
    residues plus the rounding of every pending payment, a whole number of units."""
    collateral = sum(account["collateral"] for account in parsed["accounts"])
    unsettled = 0
    kept = sum(market["funding_residue"] for market in parsed["markets"])
    for _, market, position in _open_positions(parsed):
        unsettled += position["size"] * market["price"] - position["entry_notional"]
        unsettled += pending_funding(market, position)
        kept += owed_funding(market, position) % FUNDING_INDEX_SCALE
    check(
        "custody",
        kept % FUNDING_INDEX_SCALE == 0,
        lambda: f"funding kept {kept} is not whole units",
    )
    return collateral, unsettled, kept // FUNDING_INDEX_SCALE


def pending_funding_by_market(parsed: dict) -> list[int]:
    """Return, per market, the funding accrued to open positions and not yet settled, in
    index units (exact)."""
    totals = [0] * len(parsed["markets"])
    for market_id, market, position in _open_positions(parsed):
        totals[market_id] += owed_funding(market, position)
    return totals


def check_state(parsed: dict, side: str) -> int:
    """Check the state invariants; return sum(equity) + fund - bad debt (conservation).
    The failure details are written only on a failure."""
    collateral, unsettled, kept = books(parsed)
    fund, bad_debt = parsed["fund"], parsed["bad_debt"]
    check(
        "custody",
        parsed["engine_balance"] == collateral + fund - bad_debt + unsettled + kept,
        lambda: (
            f"[{side}] balance {parsed['engine_balance']} != collateral {collateral}"
            f" + fund {fund} - bad debt {bad_debt} + unsettled {unsettled} + funding kept {kept}"
        ),
    )
    check(
        "fund_non_negative",
        fund >= 0 and bad_debt >= 0,
        lambda: f"[{side}] insurance fund {fund}, bad debt {bad_debt}",
    )
    check(
        "fund_before_bad_debt",
        bad_debt == 0 or fund == 0,
        lambda: f"[{side}] bad debt {bad_debt} recorded while the fund holds {fund}",
    )
    for market_id, market in enumerate(parsed["markets"]):
        sizes = [account["positions"][market_id]["size"] for account in parsed["accounts"]]
        check(
            "balanced_sides",
            market["settled"] or sum(sizes) == 0,
            lambda market_id=market_id, sizes=sizes: (
                f"[{side}] market {market_id}: sizes sum to {sum(sizes)}"
            ),
        )
        check(
            "balanced_sides",
            market["open_interest"] == sum(s for s in sizes if s > 0),
            lambda market_id=market_id, market=market: (
                f"[{side}] market {market_id}: open interest {market['open_interest']}"
            ),
        )
        check(
            "balanced_sides",
            len(market["holders"]) == sum(1 for s in sizes if s),
            lambda market_id=market_id: f"[{side}] market {market_id}: holder list out of step",
        )
    for i, account in enumerate(parsed["accounts"]):
        if not any(position["size"] for position in account["positions"]):
            check(
                "no_orphan_deficit",
                account["collateral"] >= 0,
                lambda i=i: f"[{side}] account #{i}: deficit with no position",
            )
    return collateral + unsettled + kept + fund - bad_debt


def settled_funding(events: list, totals: dict[int, int]) -> None:
    """Add each PositionSettled amount and the residue it booked to the fund to its
    market's running total (collateral units)."""
    for name, args in events:
        if name == "PositionSettled":
            totals[args[1]] = totals.get(args[1], 0) + args[2] + args[3]


def check_funding_zero_sum(parsed: dict, settled: dict[int, int], side: str) -> None:
    """Funding is zero-sum, exactly: settled to accounts, booked to the fund, kept as the
    market's residue and pending on open positions add up to zero (in index units)."""
    for market_id, pending in enumerate(pending_funding_by_market(parsed)):
        done = settled.get(market_id, 0) * FUNDING_INDEX_SCALE
        residue = parsed["markets"][market_id]["funding_residue"]
        check(
            "funding_zero_sum",
            done + residue + pending == 0,
            lambda market_id=market_id, done=done, residue=residue, pending=pending: (
                f"[{side}] market {market_id}: settled and booked {done} + residue {residue}"
                f" + pending {pending} != 0 (index units)"
            ),
        )


def external_flow(events: list) -> int:
    """Return deposits + top-ups - withdrawals: the only changes allowed to equity + fund."""
    flow = 0
    for name, args in events:
        if name in ("Deposit", "InsuranceTopUp"):
            flow += args[1]
        elif name in ("Withdrawal", "InsuranceWithdrawal"):
            flow -= args[1]
    return flow
