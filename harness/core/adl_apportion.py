"""The round's apportionment under pro-rata on profit (issue 19), checked from raw fields.

Under pro-rata on profit a round's charges so far are one apportionment of their total by
the highest averages (D'Hondt) on the profit each eligible winner held at the round's
start (its capacity plus what it paid: the base) under its round cap (paid plus min(capacity,
equity)). That is checked here without the allocator, by the classic characterization:
an allocation summing to its total is the highest-averages one exactly when no account
holding a unit has a threshold share / base after any uncapped account's next threshold
(share + 1) / base (cross-multiplied, equal thresholds to the lower address). Since that
allocation is unique, a round in which it holds charges every winner the same whatever the
keeper's order of the bankrupt accounts or the split of the work into calls.

``adl_round_apportioned``: after every deleverage in a market under pro-rata on profit
whose round's charges were the apportionment of the bases before it (the price has not
moved within the round since), they still are, with this call's charges added.
"""

from __future__ import annotations

from harness.core import invariants
from harness.core.recompute import capacity, equity_after_repayment, round_paid, size
from pyspec.state import State

PNL_PRO_RATA = 1
SENTENCE = (
    "under pro-rata on profit, a round's charges so far are the highest-averages "
    "(D'Hondt) apportionment of their total on the profit each winner held at the round's "
    "start, under its cap, and a deleverage keeps them so (checked by the min-max "
    "characterization, not the allocator): no keeper's order or split moves a unit "
    "(issue 19)"
)


def round_terms(state: State, market_id: int, side: int) -> dict[str, tuple[int, int, int]]:
    """(base, cap, paid) of each eligible winner holding ``side`` in the market: capacity
    and equity above what it owes positive (raw fields)."""
    terms = {}
    for holder in state.markets[market_id].holders:
        cap, equity = capacity(state, holder, market_id), equity_after_repayment(state, holder)
        if size(state, holder, market_id) * side > 0 and cap > 0 and equity > 0:
            paid = round_paid(state, holder, market_id)
            terms[holder] = (cap + paid, paid + min(cap, equity), paid)
    return terms


def is_apportionment(terms: dict[str, tuple[int, int, int]], shares: dict[str, int]) -> bool:
    """``shares`` (within 0 and each cap) is the highest-averages apportionment of its
    total on the bases under the caps of ``terms``."""
    if not all(0 <= shares[a] <= cap for a, (_, cap, _) in terms.items()):
        return False
    for a, (base_a, _, _) in terms.items():
        if shares[a] == 0:
            continue
        for b, (base_b, cap_b, _) in terms.items():
            if b == a or shares[b] == cap_b:
                continue
            # a's last unit's threshold shares_a / base_a must come before b's next one
            left, right = shares[a] * base_b, (shares[b] + 1) * base_a
            if left > right or (left == right and int(a, 16) > int(b, 16)):
                return False
    return True


def check(before: State, events: list) -> None:
    """``adl_round_apportioned`` after a successful deleverage (``before``: the state the
    call started from, its loss repayments applied)."""
    fills = [args for name, args in events if name == "Deleverage"]
    if not fills:
        return
    bankrupt, _, market_id = fills[0][:3]
    market = before.markets[market_id]
    if market.adl_policy != PNL_PRO_RATA or market.settled:
        return
    side = -1 if size(before, bankrupt, market_id) > 0 else 1
    terms = round_terms(before, market_id, side)
    if not is_apportionment(terms, {a: t[2] for a, t in terms.items()}):
        return  # the price moved within the round: the call apportions the increment
    charged = {f[1]: f[5] for f in fills}
    after = {a: paid + charged.get(a, 0) for a, (_, _, paid) in terms.items()}
    invariants.check(
        "adl_round_apportioned",
        all(a in terms for a, amount in charged.items() if amount)
        and is_apportionment(terms, after),
        lambda: (
            f"market {market_id}: the round's charges {after} (this call {charged}) are not "
            f"the highest-averages apportionment of their total on (base, cap, paid) {terms}"
        ),
    )
