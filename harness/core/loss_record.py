"""M-1: the loss record. An account whose deficit others paid (the fund, ADL winners, bad
debt) while it kept positions owes them its later equity. Checked from raw fields and
events: who acted, what each account owed before the call and its equity then
(recomputed), never the spec's helpers. ``repaid_first`` gives the other properties the
state each call's core ran from: its repayments applied."""

from __future__ import annotations

from harness.core.invariants import check
from harness.core.recompute import equity
from pyspec.state import State

SENTENCE = (
    "an account whose deficit others paid while it kept positions owes them: before it "
    "withdraws, trades, liquidates, is liquidated or deleveraged (or deposits with "
    "nothing open) it repays min(what it owes, its equity), recomputed; a withdrawal "
    "takes only equity above what it owes, and it deposits nothing while it holds "
    "positions; the record grows only in a deleverage or a liquidation that leaves it "
    "positions, by exactly what the fund, the winners and bad debt paid for it, and is "
    "forgiven only once nothing is left open (M-1)"
)


def _repayments(events: list) -> dict[str, list[tuple[int, int]]]:
    """Each account's LossRepaid (repaid, forgiven) amounts, in order."""
    out: dict[str, list[tuple[int, int]]] = {}
    for name, a in events:
        if name == "LossRepaid":
            out.setdefault(a[0], []).append((a[1], a[2]))
    return out


def _owed(state: State, address: str) -> int:
    account = state.accounts.get(address)
    return account.booked if account else 0


def _repaying(
    fn: str, args: tuple, caller: str, before: State, after: State, events: list
) -> set[str]:
    """The accounts the call repays first: the withdrawer, both sides of a trade, the
    liquidated account and its liquidator, the deleveraged one (unless the call only
    closed its positions in settled markets), a deleverage's keeper that holds nothing
    at all (a position in a settled market, not yet settled, keeps its record open) and
    a depositor holding nothing in a live market."""
    out = {side for name, a in events if name == "Liquidation" for side in a[:2]}
    out |= {side for name, a in events if name == "Trade" for side in a[:2]}
    settled = {a[0] for name, a in events if name == "PositionSettledAtPrice"}
    if fn == "withdraw":
        out.add(caller)
    elif fn == "deleverage" and args[0] not in settled:
        out.add(args[0])
        closed = any(name == "Deleverage" for name, _ in events)
        holds = bool(after.accounts.get(caller) and after.accounts[caller].positions)
        if closed and caller != args[0] and not _live(before, caller) and not holds:
            out.add(caller)  # a keeper holding nothing ends its record before its reward
    elif fn == "deposit" and not _live(before, caller):
        out.add(caller)
    return out


def _live(state: State, address: str) -> bool:
    """Whether the account holds a position in a market not settled (a call closes those
    in settled markets at their final price first)."""
    account = state.accounts.get(address)
    return bool(account) and any(not state.markets[m].settled for m in account.positions)


def check_call(fn: str, args: tuple, caller: str, before: State, after: State, events: list):
    check(
        "owed_repaid_first",
        fn != "deposit" or not _owed(before, caller) or not _live(before, caller),
        lambda: f"{caller} deposited while it owed {_owed(before, caller)} and held positions",
    )
    repayments = _repayments(events)
    for address in _repaying(fn, args, caller, before, after, events):
        owed = _owed(before, address)
        if owed == 0:
            continue
        due = min(owed, max(equity(before, address), 0))
        first = repayments.get(address, [(0, 0)])[0][0]
        check(
            "owed_repaid_first",
            first == due,
            f"{fn}: {address} owed {owed} at equity {equity(before, address)}; it repaid "
            f"{first} first, not {due}",
        )
        if fn == "withdraw" and address == caller:
            check(
                "owed_repaid_first",
                args[0] <= max(equity(before, address) - owed, 0),
                f"{address} owed {owed} and withdrew {args[0]} at equity {equity(before, address)}",
            )
    owing = {a for state in (before, after) for a, acc in state.accounts.items() if acc.booked}
    for address in owing | set(repayments):  # any other account owed nothing either side
        change = _owed(after, address) - _owed(before, address)
        repaid = repayments.get(address, [])
        if change == 0 and not repaid:
            continue
        account = after.accounts.get(address)
        held = bool(account and account.positions)
        closed = fn == "deleverage" and address == args[0]
        liquidated = any(name == "Liquidation" and a[0] == address for name, a in events)
        paid_for = 0
        if (closed or liquidated) and held:
            paid_for = sum(
                a[-1]
                for name, a in events
                if name in ("InsuranceCover", "BadDebt") and a[0] == address
            ) + sum(a[5] for name, a in events if name == "Deleverage" and a[0] == address)
        check(
            "owed_repaid_first",
            change == paid_for - sum(r + f for r, f in repaid)
            # forgiven only with nothing open: held nothing live before, or the call closed
            # the last position (of the deleveraged account, or of a keeper that was its
            # counterparty and ends its record before its reward)
            and (not any(f for _, f in repaid) or not _live(before, address) or not held),
            f"{fn}: {address}'s record moved by {change}; others paid {paid_for} for it, "
            f"it repaid and was forgiven {repaid}, positions left: {held}",
        )


def repaid_first(before: State, events: list) -> State:
    """``before`` with the call's repayments applied (collateral into the fund, bad debt
    first), as the call's core saw it; ``before`` itself when it repaid nothing."""
    repaid = [a for name, a in events if name == "LossRepaid" and a[1] > 0]
    if not repaid:
        return before
    state = before.copy()
    for address, amount, forgiven in repaid:
        account = state.accounts[address]
        account.collateral -= amount
        account.booked -= amount + forgiven
        to_debt = min(amount, state.bad_debt)
        state.bad_debt -= to_debt
        state.insurance_fund += amount - to_debt
    return state
