"""ADL allocation policies: given the opposite positions of one market, which lots of a
bankrupt position each takes over and how much of its deficit each absorbs.
Contract: ``contracts/AdlAllocator.vy`` (a stateless contract the engine calls).

Every policy closes ``size`` lots exactly: first against the eligible positions (profitable,
on an account with positive equity), then against every other opposite position at the
oracle price, uncharged: solvent accounts' in holder order, then bankrupt ones'. Charges
never exceed a counterparty's cap, so the sum of charges may fall short of ``loss`` (an
undershoot, which the engine writes off to the fund or to bad debt) but never exceeds it.
The policies (a market parameter):

- ``ADL_POLICY_QUEUE``: BitMEX-style. Eligible positions ranked by PnL% = upnl / |entry
  notional| (cross-multiplied; equal ranks to the lower address), each filled min(remaining,
  its size) and charged the pro-rata share of ``loss`` of the lots it takes, capped at the
  profit of those lots and at its equity share of them.
- ``ADL_POLICY_PNL_PRO_RATA``: every winner gives up the same fraction of its profit: the
  round's charges apportioned by the highest averages on the profit each held at the
  round's start (upnl plus what it paid since), capped at min(upnl, equity) more than it
  paid; a call charges what the round's apportionment adds (``round_charges``).
- ``ADL_POLICY_LEVERAGE_PRO_RATA``: as above with weights upnl x leverage, leverage = notional
  / equity in RATIO_PRECISION units, floored, clamped to [1, MAX_ADL_LEVERAGE].
- ``ADL_POLICY_CONTRACT_PRO_RATA``: the same fraction of every eligible position: weights
  |size|, charges capped at min(upnl, equity).

Under the pro-rata policies the lots and the charges are two separate water-fills: the
lots by size (every eligible position closes the same fraction, issue 19), the charges by
the policy's weights under the caps, so a counterparty may absorb a charge without
closing a lot; the bankrupt position as a whole closes at its bankruptcy price when
nothing is capped. Closing lots by profit instead (before issue 19) closed the most
profitable positions first, so the next call of the same round found them smaller and
charged the others more: a larger winner paid a smaller share of its profit.
"""

from dataclasses import dataclass

from pyspec.constants import (
    ADL_POLICY_CONTRACT_PRO_RATA,
    ADL_POLICY_LEVERAGE_PRO_RATA,
    ADL_POLICY_PNL_PRO_RATA,
    ADL_POLICY_QUEUE,
    ADL_QUANTILES,
    MAX_ADL_LEVERAGE,
    RATIO_PRECISION,
)
from pyspec.fixed_math import floor_div
from pyspec.liquidation import compute_equity_share
from pyspec.margin import compute_margin_requirement


@dataclass(frozen=True, slots=True)
class Holder:
    """One opposite position as the engine reads it (the contract's ``Holder`` struct)."""

    account: str
    size: int  # |size| in lots
    upnl: int  # unrealized PnL at the oracle price
    entry: int  # |entry notional|
    equity: int  # the account's equity (all markets)
    maintenance: int  # the account's maintenance requirement (all markets)
    paid: int = 0  # what ADL charged the position in its side's round so far (issue 19)


@dataclass(frozen=True, slots=True)
class Fill:
    """One counterparty's part of a deleverage: ``size`` lots, ``absorbed`` of the deficit."""

    counterparty: str
    size: int
    absorbed: int


def is_eligible(holder: Holder) -> bool:
    """Check a position may be charged: profitable, on an account with positive equity.

    Contract: ``AdlAllocator._is_eligible``.
    """
    return holder.upnl > 0 and holder.equity > 0


def ranks_before(a: Holder, b: Holder) -> bool:
    """Check a is deleveraged before b by the queue: a higher PnL% = upnl / |entry notional|,
    or an equal one and a lower address.

    a/b > c/d  <=>  a x d > c x b for non-negative denominators (an entry notional of zero
    gives an unbounded rank and compares the same way). Contract: inline in
    ``AdlAllocator._queue_order``, on the fields as words.
    Anchor: dYdX v4 ``risk.go`` ``Cmp``.
    """
    left = a.upnl * b.entry
    right = b.upnl * a.entry
    if left != right:
        return left > right
    return _address_before(a.account, b.account)


def queue_order(holders: list[Holder]) -> list[Holder]:
    """Return the eligible holders in queue order (selection of the best remaining; the
    contract scans the candidates in another order, and ``ranks_before`` is a strict order
    on distinct accounts, so it picks the same). Contract: ``AdlAllocator._queue_order``.
    """
    found = [h for h in holders if is_eligible(h)]
    ordered = []
    while found:
        best = 0
        for i in range(1, len(found)):
            if ranks_before(found[i], found[best]):
                best = i
        ordered.append(found.pop(best))
    return ordered


def compute_adl_quantile(quantity_before: int, total_quantity: int) -> int:
    """Return ADL_QUANTILES - floor(ADL_QUANTILES x before / total): 5 = first in line.

    ``before`` is the eligible quantity (lots) ranked ahead; the lights are percentiles of
    cumulative position quantity in the queue. Contract: ``AdlAllocator.compute_adl_quantile``.
    Anchor: the BitMEX five-light ADL indicator (its display; its rule rounds the
    cumulative quantity including the position up, SPEC.md "ADL quantile").
    """
    return ADL_QUANTILES - floor_div(ADL_QUANTILES * quantity_before, total_quantity)


def queue_quantile(holders: list[Holder], account: str) -> int:
    """Return the queue light of ``account`` among ``holders`` (one side of a market): 5 to 1
    for an eligible position, 1 for any other. Contract: ``AdlAllocator.queue_quantile``.
    """
    ordered = queue_order(holders)
    total = sum(h.size for h in ordered)
    ahead = 0
    for holder in ordered:
        if holder.account == account:
            return compute_adl_quantile(ahead, total)
        ahead += holder.size
    return 1


def compute_deficit_share(loss: int, filled_before: int, filled_after: int, size: int) -> int:
    """Return a fill's pro-rata share of ``loss``: the cumulative share, floored, so the
    shares of fills covering the whole size sum to ``loss`` exactly.

    Contract: ``AdlAllocator.compute_deficit_share``. Anchor: dYdX v4 deleveraging fills
    each min(remaining, counterparty size) at the bankruptcy price.
    """
    return floor_div(loss * filled_after, size) - floor_div(loss * filled_before, size)


def compute_absorb_cap(
    upnl: int, fill: int, abs_size: int, account_equity: int, maintenance_delta: int, mm: int
) -> int:
    """Return the most a queue counterparty absorbs for closing ``fill`` of its ``abs_size``
    lots: min(floor(upnl x fill / size), floor(equity x DMMR / TMMR)), never negative.

    The first bound gives up at most the profit of the closed lots; the second keeps the
    account at or above zero equity. Contract: ``AdlAllocator.compute_absorb_cap``.
    """
    profit = floor_div(upnl * fill, abs_size)
    return max(min(profit, compute_equity_share(account_equity, maintenance_delta, mm)), 0)


def compute_capacity(holder: Holder) -> int:
    """Return what a pro-rata policy may charge an eligible holder: min(upnl, equity), its
    profit and never below zero equity. Contract: ``AdlAllocator.compute_capacity``."""
    return min(holder.upnl, holder.equity)


def compute_weight(policy: int, holder: Holder, price: int) -> int:
    """Return an eligible holder's weight under leverage or contract pro-rata (always
    positive); pro-rata on profit weighs by the round's bases (``round_charges``).

    Leverage = floor(|size| x price x RATIO_PRECISION / equity), clamped to [1,
    MAX_ADL_LEVERAGE] so that weight x budget stays far inside 256 bits.
    Contract: ``AdlAllocator.compute_weight``.
    """
    if policy == ADL_POLICY_LEVERAGE_PRO_RATA:
        leverage = floor_div(holder.size * price * RATIO_PRECISION, holder.equity)
        return holder.upnl * min(max(leverage, 1), MAX_ADL_LEVERAGE)
    assert policy == ADL_POLICY_CONTRACT_PRO_RATA
    return holder.size


def water_fill(weights: list[int], caps: list[int], accounts: list[str], budget: int) -> list[int]:
    """Split ``budget`` in proportion to ``weights`` under ``caps``: the integer allocation
    of min(cap_i, level x weight_i) summing to min(budget, sum caps) exactly.

    Each pass saturates every share that reaches its cap at the current level (budget x
    w_i >= cap_i x W, cross-multiplied) and repeats without them; a pass that saturates
    nothing floors every share and hands the remainder out one unit each, largest
    fractional part first, equal parts to the lower address. A floored share is below its
    cap, so the extra unit never breaks it. The contract selects among the positive parts
    only (the parts sum to ``left`` x total, each below total, so when a unit is left more
    than ``left`` parts are positive and a zero part never gets one) and, when more than
    half get a unit, picks out the others instead: the same shares
    (``tests/differential/test_allocator_on_chain.py``). Contract: ``AdlAllocator.water_fill``.
    """
    shares, active, remaining, total = _saturate(weights, caps, budget)
    fractions = {}
    for i in active:
        shares[i] = floor_div(remaining * weights[i], total)
        fractions[i] = remaining * weights[i] - shares[i] * total
    for _ in range(remaining - sum(shares[i] for i in active)):
        best = None
        for i in fractions:
            if best is None or _fraction_before(
                fractions[i], accounts[i], fractions[best], accounts[best]
            ):
                best = i
        shares[best] += 1
        del fractions[best]
    return shares


def _saturate(
    weights: list[int], caps: list[int], budget: int
) -> tuple[list[int], list[int], int, int]:
    """The passes ``water_fill`` and ``apportion`` share: each gives every share that
    reaches its cap at the current level (budget x w_i >= cap_i x W, cross-multiplied) its
    cap, and repeats without them until none does. Return the shares, the accounts left
    (each below its cap at the level), the budget left for them and their total weight
    (the budget left is 0 when no account is left)."""
    shares = [0] * len(weights)
    active = [i for i in range(len(weights)) if weights[i] > 0 and caps[i] > 0]
    remaining = budget
    while active and remaining > 0:
        total = sum(weights[i] for i in active)
        saturated = [i for i in active if remaining * weights[i] >= caps[i] * total]
        if not saturated:
            return shares, active, remaining, total
        for i in saturated:
            shares[i] = caps[i]
        remaining -= sum(caps[i] for i in saturated)
        active = [i for i in active if i not in saturated]
    return shares, [], 0, 1


def apportion(weights: list[int], caps: list[int], accounts: list[str], budget: int) -> list[int]:
    """Split ``budget`` in proportion to ``weights`` under ``caps`` by the highest averages
    (D'Hondt, Jefferson): the shares count, per account, the first min(budget, sum caps)
    terms of the sequence of thresholds k / weight_i (k = 1 .. cap_i) in increasing order,
    equal thresholds to the lower address.

    Shares of a prefix never fall when the budget grows (house monotone), so charging each
    call of a round what the round's apportionment adds makes the calls add up to one
    apportionment of the round's total, whatever their order or split (issue 19); the
    largest remainders (``water_fill``) can take a unit back when the budget grows (the
    Alabama paradox). Every share is at least floor(budget x w_i / W) of the accounts left
    uncapped and less than budget x w_i / W + (accounts) x w_i / W.

    Computed as ``water_fill`` saturates caps, then floors every share at the level
    (the thresholds up to it) and hands the rest out one unit at a time to the smallest
    next threshold (shares_i + 1) / w_i, cross-multiplied. Contract:
    ``AdlAllocator.apportion``."""
    shares, active, remaining, total = _saturate(weights, caps, budget)
    for i in active:
        shares[i] = floor_div(remaining * weights[i], total)
    for _ in range(remaining - sum(shares[i] for i in active)):
        best = None
        for i in active:
            if shares[i] < caps[i] and (
                best is None
                or _threshold_before(
                    shares[i] + 1,
                    weights[i],
                    accounts[i],
                    shares[best] + 1,
                    weights[best],
                    accounts[best],
                )
            ):
                best = i
        shares[best] += 1
    return shares


def round_charges(holders: list[Holder], loss: int) -> list[int]:
    """Return what one call charges the eligible ``holders`` under pro-rata on profit.

    The round's deficit so far is what its calls charged (the holders' ``paid``); each
    holder's base is the profit it held at the round's start (capacity plus paid: the
    price has not moved) and its cap there is paid plus min(capacity, equity). A call
    charges each holder what the apportionment of the round's total with this ``loss``
    (``apportion``) adds to what it paid, so the calls of one round add up to the
    apportionment of their total, whatever the keeper's order or split (issue 19; per call,
    the largest remainders left up to a unit per call). When the price moved within the
    round, a holder may have paid more than its apportionment at the new price: then the
    call charges what the apportionment adds between the round's total before and after
    it, at most the holder's cap, and what a cap cut is water-filled by base over the
    others' room left. Contract: ``AdlAllocator._round_charges``.
    """
    accounts = [h.account for h in holders]
    bases = [h.upnl + h.paid for h in holders]
    caps = [h.paid + compute_capacity(h) for h in holders]
    before = sum(h.paid for h in holders)
    after = apportion(bases, caps, accounts, before + loss)
    if all(a >= h.paid for a, h in zip(after, holders, strict=True)):
        return [a - h.paid for a, h in zip(after, holders, strict=True)]
    earlier = apportion(bases, caps, accounts, before)
    room = [compute_capacity(h) for h in holders]
    charges = [min(a - e, r) for a, e, r in zip(after, earlier, room, strict=True)]
    # what a winner's cap cut goes to the others' room left, by base (a review: else it
    # became bad debt while they held profit)
    left = [r - c for r, c in zip(room, charges, strict=True)]
    extra = water_fill(bases, left, accounts, loss - sum(charges))
    return [c + x for c, x in zip(charges, extra, strict=True)]


def allocate(
    policy: int, price: int, mmr: int, holders: list[Holder], size: int, loss: int
) -> list[Fill]:
    """Return the fills closing ``size`` lots against ``holders`` (one side of a market, in
    holder order; they hold at least ``size``) and the part of ``loss`` each absorbs.

    Contract: ``AdlAllocator.allocate``.
    """
    if policy == ADL_POLICY_QUEUE:
        fills = _allocate_queue(price, mmr, holders, size, loss)
    else:
        fills = _allocate_pro_rata(policy, price, holders, size, loss)
    filled = sum(f.size for f in fills)
    for holder in completion_order(holders):  # the rest at the oracle price, uncharged
        if filled == size:
            break
        fill = min(size - filled, holder.size)
        fills.append(Fill(holder.account, fill, 0))
        filled += fill
    return fills


def completion_order(holders: list[Holder]) -> list[Holder]:
    """Return the holders an allocation closes uncharged, in the order it takes them: the
    ineligible ones of solvent accounts in holder order, then those of bankrupt accounts.

    A bankrupt counterparty closed here realizes its loss in this market, and its own
    deficit then goes to its other markets: taking it last (a fifth review of issue 19)
    keeps the order in which a keeper deleverages two bankrupt accounts from moving a
    market's loss to another market's winners, as long as solvent positions cover the
    size (SPEC.md states what happens when they do not). Contract:
    ``AdlAllocator.allocate``.
    """
    rest = [h for h in holders if not is_eligible(h)]
    return [h for h in rest if h.equity >= 0] + [h for h in rest if h.equity < 0]


def lot_caps(sizes: list[int], size: int) -> list[int]:
    """Return the most lots each eligible position closes under pro-rata on profit: all
    but one while the others hold the bankrupt ``size`` (its whole size otherwise). A
    position whose share of the lots rounded up to all of them left the round with its
    record, so the keeper's order decided which small winner escaped the rest (a review: a
    1-lot short paid 21,586 or 32,484 units by the order). By size the lots are the next
    call's weights, which a kept lot would move beyond the lot a rounding does (a
    campaign: 13 units past the round's unit), so that policy closes them as they fall.
    Contract: ``AdlAllocator._allocate_pro_rata``."""
    keep = [s - 1 for s in sizes]
    return keep if sum(keep) >= size else sizes


def _allocate_queue(
    price: int, mmr: int, holders: list[Holder], size: int, loss: int
) -> list[Fill]:
    fills = []
    filled = 0
    for holder in queue_order(holders):
        if filled == size:
            break
        fill = min(size - filled, holder.size)
        delta = compute_margin_requirement(holder.size, price, mmr) - compute_margin_requirement(
            holder.size - fill, price, mmr
        )
        cap = compute_absorb_cap(
            holder.upnl, fill, holder.size, holder.equity, delta, holder.maintenance
        )
        absorbed = min(compute_deficit_share(loss, filled, filled + fill, size), cap)
        fills.append(Fill(holder.account, fill, absorbed))
        filled += fill
    return fills


def _allocate_pro_rata(
    policy: int, price: int, holders: list[Holder], size: int, loss: int
) -> list[Fill]:
    eligible = [h for h in holders if is_eligible(h)]
    accounts = [h.account for h in eligible]
    sizes = [h.size for h in eligible]
    # lots by size, charges by the policy's weights (issue 19): every eligible position
    # closes the same fraction, so what each keeps stays in proportion to what it held,
    # and the next call of the same round weighs it exactly as this one did
    caps = lot_caps(sizes, size) if policy == ADL_POLICY_PNL_PRO_RATA else sizes
    lots = water_fill(sizes, caps, accounts, size)
    if policy == ADL_POLICY_PNL_PRO_RATA:
        charges = round_charges(eligible, loss)  # the round's apportionment (issue 19)
    else:
        weights = [compute_weight(policy, h, price) for h in eligible]
        charges = water_fill(weights, [compute_capacity(h) for h in eligible], accounts, loss)
    return [
        Fill(h.account, lot, charge)
        for h, lot, charge in zip(eligible, lots, charges, strict=True)
        if lot > 0 or charge > 0
    ]


def _fraction_before(fraction_a: int, account_a: str, fraction_b: int, account_b: str) -> bool:
    if fraction_a != fraction_b:
        return fraction_a > fraction_b
    return _address_before(account_a, account_b)


def _threshold_before(
    share_a: int, weight_a: int, account_a: str, share_b: int, weight_b: int, account_b: str
) -> bool:
    """share_a / weight_a < share_b / weight_b, or equal and a lower address."""
    left, right = share_a * weight_b, share_b * weight_a
    if left != right:
        return left < right
    return _address_before(account_a, account_b)


def _address_before(a: str, b: str) -> bool:
    return int(a, 16) < int(b, 16)
