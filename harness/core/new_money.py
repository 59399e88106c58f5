"""The loss rule with new money (issue 18), recomputed from raw fields after every call.

While bad debt B is recorded, every old claim is worth (O - B) / O of its face, O being
the claims less the new money: what accounts deposited while B was recorded, since the
last loss, and still hold (a new loss, or B repaid in full, ends the epoch). A
withdrawal takes its new money first, at face, and pays the rest less its pro-rata
haircut (``ORDER_FREE``), so neither the order of withdrawals nor the order of deposits
moves what anyone receives. New money is at most its account's collateral (losses
consume old money first) and sums to the recorded total (``BACKED``): an overstated
total would tax old claims too much, an understated one too little.
"""

from __future__ import annotations

from harness.core.invariants import check
from pyspec.state import State

ORDER_FREE = (
    "while bad debt B is recorded, a withdrawal of a pays its new money x (at most what "
    "the account held) at face and a - x - ceil((a - x) x B / O) of the rest (O: the old "
    "claims, the engine's balance - fund + B - all new money), repaying B with the "
    "haircut, so B / O and every claimant's payout are the same in any order of "
    "withdrawals (the bank run behind N2) and a deposit made while B is recorded leaves "
    "at face (issue 18)"
)
BACKED = (
    "after every call, an account's new money (its deposits while bad debt was recorded, "
    "since the last loss) is at most its collateral, the recorded total F is their sum, "
    "the old claims (the engine's balance - fund + B - F) hold at least the bad debt B, so "
    "no old claim is worth less than nothing, and with no bad debt no new money is "
    "counted: a loss recorded since, or the debt repaid, makes it old money (issue 18)"
)
COUNTED = (
    "a deposit while bad debt is recorded, in a call that records no new loss, leaves "
    "its account at least that much new money, or all its collateral if that is less: a "
    "deposit first pays the account's own realized loss (issue 18)"
)


def held(state: State, address: str) -> int:
    """An account's new money, from its raw fields: counted in its epoch only."""
    account = state.accounts.get(address)
    if account is None or account.fresh_epoch != state.loss_epoch:
        return 0
    return account.fresh


def check_call(
    fn: str, caller: str, args: tuple, before: State, after: State, events: list
) -> None:
    """Every new-money property a successful call ``fn`` by ``caller`` bears on."""
    _check_backed(after)
    if fn == "withdraw":
        _check_withdrawal(args[0], caller, before, after, events)
    elif fn == "deposit" and after.bad_debt > 0 and after.loss_epoch == before.loss_epoch:
        collateral = after.accounts[caller].collateral
        check(
            "new_money_counted",
            held(after, caller) >= min(args[0], max(collateral, 0)),
            f"deposited {args[0]} with bad debt {after.bad_debt}: "
            f"new money {held(after, caller)} of collateral {collateral}",
        )


def _check_backed(after: State) -> None:
    total = 0
    for address, account in after.accounts.items():
        fresh = held(after, address)
        total += fresh
        check(
            "new_money_backed",
            0 <= fresh <= max(account.collateral, 0),
            f"{address}: new money {fresh} of collateral {account.collateral}",
        )
    bad_debt = after.bad_debt
    old = after.token.balance_of(after.address) - after.insurance_fund + bad_debt - total
    check(
        "new_money_backed",
        total == after.fresh_total and bad_debt <= old and (bad_debt > 0 or total == 0),
        f"new money sums to {total}, recorded {after.fresh_total}; old claims {old}, "
        f"bad debt {bad_debt}",
    )


def _check_withdrawal(amount: int, caller: str, before: State, after: State, events: list) -> None:
    """The debt, the claims and the new money at the payout, from the state after the
    call (a settlement earlier in the call may have written a deficit off, or lowered the
    new money) and the call's events: the new money taken is all the account held, up to
    the amount."""
    paid = next(args[1] for name, args in events if name == "Withdrawal")
    exempt = next((args[2] for name, args in events if name == "Haircut"), 0)
    haircut = amount - paid
    debt = after.bad_debt + haircut
    if debt == 0:
        return
    could = held(before, caller)
    took_all = exempt == amount or held(after, caller) == 0
    if after.bad_debt == 0:  # it repaid the whole debt: the epoch ended, F is gone
        fair = haircut == debt
        old = share = None
    else:
        claims = after.token.balance_of(after.address) - after.insurance_fund + debt + paid
        old = claims - (after.fresh_total + exempt)
        share = min(-(-(amount - exempt) * debt // old), debt)
        fair = haircut == share
    check(
        "withdrawal_order_free",
        fair and exempt <= min(amount, could) and took_all,
        f"withdrew {amount} with bad debt {debt}, old claims {old}, new money {exempt} "
        f"(held {could} before, {held(after, caller)} after): paid {paid}, "
        f"pro-rata {None if share is None else amount - share}",
    )
