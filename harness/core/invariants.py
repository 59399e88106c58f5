"""The invariant catalogue, and the state checks run after every differential step.

Each invariant has a name (``INVARIANTS``); violations, reports and comments use it.
State invariants read a parsed state dump (``dump.parse``), so the same check runs on the
spec's dump and on the chain's. The economic properties of each call (who bears a loss,
liveness) are in ``properties``, which adds its entries to the catalogue.
"""

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from harness.core.dump import ACCOUNT_HEAD, POSITION_FIELDS
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


class AccountBooks(NamedTuple):
    """What one account adds to the books (collateral units, unless said)."""

    collateral: int
    unsettled: int  # PnL and funding not yet settled, the funding rounded down
    kept: int  # the protocol's rounding of the pending funding, in index units
    sizes: tuple[int, ...]  # per market
    owed: tuple[int, ...]  # funding received since its last settlement, per market, exact


_SIZE, _ENTRY, _CHECKPOINT = (
    POSITION_FIELDS.index(f) for f in ("size", "entry_notional", "funding_checkpoint")
)


@lru_cache(maxsize=1 << 14)
def account_books(marks: tuple[tuple[int, int], ...], account: tuple[int, ...]) -> AccountBooks:
    """``account`` (a ``dump.parse`` account) at ``marks`` (each market's price and funding
    index). Remembered: between two calls most accounts and prices do not change, so each
    step computes only what changed, on either side."""
    unsettled = kept = 0
    sizes, owed = [], []
    for market_id, (price, index) in enumerate(marks):
        at = ACCOUNT_HEAD - 1 + market_id * len(POSITION_FIELDS)
        size = account[at + _SIZE]
        received = -size * (index - account[at + _CHECKPOINT])  # 0 with no position
        if size:
            unsettled += size * price - account[at + _ENTRY] + received // FUNDING_INDEX_SCALE
            kept += received % FUNDING_INDEX_SCALE
        sizes.append(size)
        owed.append(received)
    return AccountBooks(account[0], unsettled, kept, tuple(sizes), tuple(owed))


def books_of(parsed: dict) -> list[AccountBooks]:
    """Every account's ``AccountBooks`` (computed once per parsed dump)."""
    if "books" not in parsed:
        marks = tuple((m["price"], m["funding_index"]) for m in parsed["markets"])
        parsed["books"] = [account_books(marks, account) for account in parsed["accounts"]]
    return parsed["books"]


class Totals:
    """``AccountBooks`` summed over accounts: the sums, the accounts with a deficit and no
    position, and per market the sizes, the long sizes, the positions open and the funding
    owed. ``add`` and ``remove`` keep it up to date account by account (``KeptBooks``
    swaps only the accounts a call changed); ``totals_of`` sums a whole dump."""

    __slots__ = ("collateral", "unsettled", "kept", "orphans", "sizes", "longs", "held", "owed")

    def __init__(self, markets: int) -> None:
        self.collateral = self.unsettled = self.kept = self.orphans = 0
        self.sizes, self.longs, self.held, self.owed = ([0] * markets for _ in range(4))

    def add(self, books: AccountBooks, sign: int = 1) -> None:
        self.collateral += sign * books.collateral
        self.unsettled += sign * books.unsettled
        self.kept += sign * books.kept
        if books.collateral < 0 and not any(books.sizes):  # a deficit with no position
            self.orphans += sign
        for market_id, size in enumerate(books.sizes):
            if size:  # no position: no size, no holder, no funding owed
                self.sizes[market_id] += sign * size
                self.held[market_id] += sign
                self.owed[market_id] += sign * books.owed[market_id]
                if size > 0:
                    self.longs[market_id] += sign * size

    def remove(self, books: AccountBooks) -> None:
        self.add(books, -1)

    def copy(self) -> "Totals":
        out = Totals(0)
        for name in self.__slots__:
            value = getattr(self, name)
            setattr(out, name, list(value) if isinstance(value, list) else value)
        return out

    def __eq__(self, other) -> bool:
        return all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    def __repr__(self) -> str:
        return f"Totals({', '.join(f'{f}={getattr(self, f)}' for f in self.__slots__)})"


class KeptBooks:
    """Each account's parsed words and ``AccountBooks``, and their ``Totals``, kept while
    its words are the same object (a comparison keeps an unchanged account's words) at the
    same prices and funding indexes: a step computes only the accounts it changed."""

    def __init__(self) -> None:
        self.marks: tuple | None = None
        self.kept: list[tuple] = []  # per account: (its words, parsed, its books)
        self.totals = Totals(0)

    def read(self, parsed: dict, words: list) -> tuple[list, list[AccountBooks], Totals]:
        """The parsed accounts, their books and totals for ``parsed``'s markets, from each
        account's dump words (``Pair._observe``)."""
        marks = tuple((m["price"], m["funding_index"]) for m in parsed["markets"])
        kept, totals = self.kept, self.totals
        if self.marks is None or len(marks) != len(self.marks) or len(words) != len(kept):
            kept = self.kept = [None] * len(words)
            totals = self.totals = Totals(len(marks))
        elif marks != self.marks:  # a flat account's books do not read the marks
            for i, entry in enumerate(kept):
                if entry is not None and any(entry[2].sizes):
                    totals.remove(entry[2])
                    kept[i] = None
        self.marks = marks
        for i, mine in enumerate(words):
            entry = kept[i]
            if entry is None or entry[0] is not mine:
                if entry is not None:
                    totals.remove(entry[2])
                account = mine[0][1:]
                entry = kept[i] = (mine, account, account_books(marks, account))
                totals.add(entry[2])
        return [e[1] for e in kept], [e[2] for e in kept], totals.copy()


def totals_of(parsed: dict) -> Totals:
    """The ``Totals`` of a parsed dump: kept up to date in ``parsed["totals"]``, or summed."""
    if "totals" not in parsed:
        totals = Totals(len(parsed["markets"]))
        for books in books_of(parsed):
            assert len(books.sizes) == len(totals.sizes), "an account's markets"
            totals.add(books)
        parsed["totals"] = totals
    return parsed["totals"]


def books(parsed: dict) -> tuple[int, int, int]:
    """Return (sum of collateral, sum of unsettled PnL and funding, funding kept by the
    protocol and not yet booked to the fund) over all accounts: the last is the markets'
    residues plus the rounding of every pending payment, a whole number of units."""
    totals = totals_of(parsed)
    kept = sum(m["funding_residue"] for m in parsed["markets"]) + totals.kept
    check(
        "custody",
        kept % FUNDING_INDEX_SCALE == 0,
        lambda: f"funding kept {kept} is not whole units",
    )
    return totals.collateral, totals.unsettled, kept // FUNDING_INDEX_SCALE


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
    totals = totals_of(parsed)
    markets = parsed["markets"]
    # three checks per market, counted at once: a call per check costs more than the check
    CHECKS["balanced_sides"] += 3 * len(markets)
    for market_id, market in enumerate(markets):
        total, long = totals.sizes[market_id], totals.longs[market_id]
        held = totals.held[market_id]
        if market["settled"] or total == 0:
            if market["open_interest"] == long and len(market["holders"]) == held:
                continue
        CHECKS["balanced_sides"] -= 3  # the failing market's checks count as they run
        check(
            "balanced_sides",
            market["settled"] or total == 0,
            lambda market_id=market_id, total=total: (
                f"[{side}] market {market_id}: sizes sum to {total}"
            ),
        )
        check(
            "balanced_sides",
            market["open_interest"] == long,
            lambda market_id=market_id, market=market: (
                f"[{side}] market {market_id}: open interest {market['open_interest']}"
            ),
        )
        check(
            "balanced_sides",
            len(market["holders"]) == held,
            lambda market_id=market_id: f"[{side}] market {market_id}: holder list out of step",
        )
    check(
        "no_orphan_deficit",
        totals.orphans == 0,
        lambda: f"[{side}] accounts {_orphans(parsed)} (by index): deficit with no position",
    )
    return collateral + unsettled + kept + fund - bad_debt


def _orphans(parsed: dict) -> list[int]:
    return [i for i, a in enumerate(books_of(parsed)) if a.collateral < 0 and not any(a.sizes)]


def settled_funding(events: list, totals: dict[int, int]) -> None:
    """Add each PositionSettled amount and the residue it booked to the fund to its
    market's running total (collateral units)."""
    for name, args in events:
        if name == "PositionSettled":
            totals[args[1]] = totals.get(args[1], 0) + args[2] + args[3]


def check_funding_zero_sum(parsed: dict, settled: dict[int, int], side: str) -> None:
    """Funding is zero-sum, exactly: settled to accounts, booked to the fund, kept as the
    market's residue and pending on open positions add up to zero (in index units)."""
    owed, markets = totals_of(parsed).owed, parsed["markets"]
    CHECKS["funding_zero_sum"] += len(markets)  # counted at once, as balanced_sides
    for market_id, (market, pending) in enumerate(zip(markets, owed, strict=True)):
        done = settled.get(market_id, 0) * FUNDING_INDEX_SCALE
        residue = market["funding_residue"]
        if done + residue + pending == 0:
            continue
        CHECKS["funding_zero_sum"] -= 1
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
