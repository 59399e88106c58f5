"""The loss rule with new money (issue 18), recomputed from raw fields after every call.

While bad debt B is recorded, the claims E (the engine's balance - fund + B) are of two
kinds. New money F is what accounts deposited while B was recorded, since B was last 0,
and still hold; it bears D, its share by face of the losses recorded since it was
deposited. The old claims O = E - F bear the rest, B - D: the loss recorded before the
new money came, and their share of the later ones. A withdrawal takes its new money
first, at D / F, and the rest at (B - D) / O, each ratio staying as it was
(``ORDER_FREE``), so the order of withdrawals moves nobody's payout and a deposit bears
none of the loss recorded before it. New money is at most its account's collateral
(realized losses consume old money first) and sums to the recorded total; D fits in B,
and each ratio is at most one (``BACKED``).
"""

from __future__ import annotations

from harness.core.invariants import check
from pyspec.state import State

ORDER_FREE = (
    "while bad debt B is recorded, a withdrawal of a takes its new money x (at most what "
    "the account held, and all of it up to a) at the new money's ratio D / F and the rest "
    "at the old claims' (B - D) / O (O: the engine's balance - fund + B - F), each haircut "
    "rounded up and repaying B, so both ratios and every claimant's payout are the same in "
    "any order of withdrawals (the bank run behind N2) and a deposit made while B is "
    "recorded bears none of the loss recorded before it (issue 18)"
)
BACKED = (
    "after every call, an account's new money (its deposits while bad debt was recorded, "
    "since it was last 0) is at most its collateral, the recorded total is their sum, the "
    "new money's debt D is at most the bad debt B, and neither ratio, D / F nor (B - D) / "
    "O, exceeds one; with no bad debt there is no new money (issue 18)"
)
COUNTED = (
    "a deposit while bad debt is recorded leaves its account at least that much new money, "
    "or all its collateral if that is less: a deposit first pays the account's own "
    "realized loss (issue 18)"
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
    elif fn == "deposit" and after.bad_debt > 0:
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
    debt, bad_debt = after.fresh_debt, after.bad_debt
    old = after.token.balance_of(after.address) - after.insurance_fund + bad_debt - total
    check(
        "new_money_backed",
        total == after.fresh_total
        and 0 <= debt <= min(bad_debt, total)
        and bad_debt - debt <= max(old, 0)
        and (bad_debt > 0 or total == 0),
        f"new money sums to {total}, recorded {after.fresh_total}; its debt {debt}, "
        f"bad debt {bad_debt}, old claims {old}",
    )


def _check_withdrawal(amount: int, caller: str, before: State, after: State, events: list):
    """The debt, the claims and the new money at the payout, from the state after the
    call (a settlement earlier in the call may have written a deficit off, or lowered the
    new money) and the call's events."""
    paid = next(args[1] for name, args in events if name == "Withdrawal")
    haircut = amount - paid
    cut = next((args[1:] for name, args in events if name == "Haircut"), None)
    if cut is None:  # no bad debt at the payout: all at face
        check("withdrawal_order_free", haircut == 0, f"withdrew {amount}, paid {paid}")
        return
    total, exempt, on_new = cut
    lapsed = after.bad_debt == 0  # repaid in full by this haircut: the epoch ended
    debt = after.bad_debt + haircut
    new_debt = (0 if lapsed else after.fresh_debt) + on_new
    new_claims = (0 if lapsed else after.fresh_total) + exempt
    claims = after.token.balance_of(after.address) - after.insurance_fund + debt + paid
    old_part = amount - exempt
    old_debt = debt - new_debt
    on_old = min(-(-old_part * old_debt // (claims - new_claims)), old_debt) if old_debt else 0
    fair_new = min(-(-exempt * new_debt // new_claims), new_debt) if new_debt else 0
    could = held(before, caller)
    took_all = exempt == amount or lapsed or held(after, caller) == 0
    check(
        "withdrawal_order_free",
        total == haircut == on_old + on_new
        and on_new == fair_new
        and exempt <= min(amount, could)
        and took_all,
        f"withdrew {amount} with bad debt {debt} (new money's {new_debt} of {new_claims}), "
        f"claims {claims}: new money taken {exempt} (held {could} before), haircut "
        f"{haircut} = {on_new} on it + old part's, pro rata {fair_new} + {on_old}",
    )
