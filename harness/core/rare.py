"""Rare states (issue 21, "rare states on purpose") and exact boundary hits, read off one
call: the call, the spec state before and after it, its revert reason and its events.

``observe`` returns three things the statistics count (``branches.Stats``):

- rare branches (``RARE_BRANCHES``): a flip by an account at its initial margin, equal
  ADL ranks and equal water-fill fractions that a tie-break decides, several fills with a
  rounding remainder under each ADL policy, a market at its holder bound and the
  protocol at ``MAX_MARKETS``, every order rejection on the maker's and on the taker's
  side, a market's shortfall booked while the account holds other markets (issue 19),
  an account repaying such a loss from its later equity (M-1),
  equity exactly at a requirement, a notional exactly at the minimum, a trade
  exactly at the size bound, waits across the price age (funding stops), an order's
  expiry and an exit's window, a delisting with open positions;
- boundary hits (``BOUNDARIES``): each comparison of a margin, notional, size, band, age
  or time check met with equality;
- refused privileged calls after every role changed hands, as (function, caller's role):
  ``PRIVILEGED`` says which roles must be seen for each function.

Everything is recomputed here with the plain arithmetic of ``recompute`` (equity,
requirements, PnL, the water-fill), not with the spec's helpers, so a rare state is
counted by what the state shows, whatever the spec computed.
"""

from __future__ import annotations

from fractions import Fraction

from harness.core import adl_apportion, recompute
from harness.core.call import BUNDLE, CLOCK, Call
from pyspec.constants import (
    ADL_POLICY_NAMES,
    EXIT_WINDOW,
    GOVERNANCE_GRACE_PERIOD,
    LIQUIDATOR_RESERVE,
    MAX_ADL_LEVERAGE,
    MAX_DEPOSIT,
    MAX_MARKETS,
    MAX_POSITIONS_PER_MARKET,
    MAX_TRADE_SIZE,
    RATIO_PRECISION,
)
from pyspec.settlement import Order, order_hash
from pyspec.state import State

ORDER_DEFECTS = ("expired", "nonce", "cancelled", "overfilled")
ORDER_REASONS = {
    "order: expired": "expired",
    "order: nonce invalidated": "nonce",
    "order: cancelled": "cancelled",
    "order: overfilled": "overfilled",
}
ROLES = ("owner", "guardian", "oracle", "operator")
# Privileged functions, by (target, function): the role allowed to call it ("governor":
# the Governor contract alone, which no actor holds).
PRIVILEGED = {
    ("engine", "update_price"): "oracle",
    ("engine", "set_funding_rate"): "oracle",
    ("engine", "set_market_paused"): "guardian",
    ("settlement", "settle"): "operator",
    ("governor", "schedule"): "owner",
    ("governor", "cancel"): "owner",
    ("governor", "transfer_ownership"): "owner",
    ("engine", "set_oracle"): "governor",
    ("engine", "set_guardian"): "governor",
    ("engine", "set_market_params"): "governor",
    ("engine", "delist_market"): "governor",
    ("engine", "withdraw_insurance"): "governor",
    ("settlement", "set_operator"): "governor",
}


def callers_required(fn_key: tuple[str, str]) -> tuple[str, ...]:
    """The callers a privileged function must be seen refusing once every role changed
    hands: every other role's holder, and its own role's former holder."""
    own = PRIVILEGED[fn_key]
    if own == "governor":
        return ROLES
    return (*(r for r in ROLES if r != own), "former")


PRIVILEGED_BRANCHES = tuple(f"rare.privileged.{fn}" for _, fn in PRIVILEGED)

RARE_BRANCHES = (
    "rare.flip_near_initial_margin",
    "rare.flip_refused_at_initial_margin",
    "rare.adl.equal_ranks",
    "rare.adl.equal_fractions",
    *(f"rare.adl.fills_and_remainder.{name}" for name in ADL_POLICY_NAMES),
    "rare.adl.shortfall_beside_positions",
    "rare.adl.loss_repaid",
    "rare.adl.bankrupt_counterparty",
    "rare.adl.round_ended_by_a_price",
    "rare.market_at_trade_cap",
    "rare.market_at_holder_bound",
    "rare.protocol_at_max_markets",
    *(f"rare.order_rejected.{d}.{side}" for d in ORDER_DEFECTS for side in ("maker", "taker")),
    "rare.equity_at_initial",
    "rare.equity_at_maintenance",
    "rare.notional_at_min",
    "rare.trade_size_at_max",
    "rare.wait.funding_stops",
    "rare.wait.order_expiry",
    "rare.wait.exit_window",
    "rare.wait.governance_grace",
    "rare.delisted_with_open_positions",
    "rare.market_relisted",
    "rare.order_for_a_settled_listing_refused",
    "rare.governor_call_for_a_settled_listing_refused",
    *PRIVILEGED_BRANCHES,
)
# Rare states a deployment of N_TRADERS traders cannot reach (fewer accounts than a
# market's trade cap and holder bound): the branch test reaches them on a larger one.
NEEDS_MORE_ACCOUNTS = ("rare.market_at_trade_cap", "rare.market_at_holder_bound")

BOUNDARIES = (
    "trade.equity_at_initial",
    "trade.notional_at_min",
    "trade.size_at_max",
    "trade.price_at_band_edge",
    "trade.price_age_at_max",
    "withdraw.equity_at_initial",
    "account.equity_at_maintenance",
    "account.equity_at_zero",
    "liquidate.equity_at_maintenance",
    "deposit.amount_at_max",
    "insurance.fund_at_floor",
    "funding.rate_at_bound",
    "order.expiry_at_now",
    "exit.escape_at_deadline",
    "exit.at_window_end",
    "governor.execute_at_eta",
    "governor.execute_at_grace_end",
    "market.holders_at_trade_cap",
    "market.holders_at_bound",
    "protocol.markets_at_max",
)
# boundary hit -> the rare branch it also counts as
BOUNDARY_BRANCHES = {
    "trade.equity_at_initial": "rare.equity_at_initial",
    "withdraw.equity_at_initial": "rare.equity_at_initial",
    "account.equity_at_maintenance": "rare.equity_at_maintenance",
    "liquidate.equity_at_maintenance": "rare.equity_at_maintenance",
    "trade.notional_at_min": "rare.notional_at_min",
    "trade.size_at_max": "rare.trade_size_at_max",
    "market.holders_at_trade_cap": "rare.market_at_trade_cap",
    "market.holders_at_bound": "rare.market_at_holder_bound",
    "protocol.markets_at_max": "rare.protocol_at_max_markets",
    # an order filled in the very second it expires: signed, then a wait of its lifetime
    "order.expiry_at_now": "rare.wait.order_expiry",
}


class Observation:
    """What one call showed: rare branches, boundary hits, refused privileged calls."""

    def __init__(self) -> None:
        self.rare: list[str] = []
        self.boundaries: list[str] = []
        self.privileged: list[tuple[str, str]] = []  # (function, caller's role)

    def hit(self, boundary: str) -> None:
        self.boundaries.append(boundary)
        if (branch := BOUNDARY_BRANCHES.get(boundary)) and branch not in self.rare:
            self.rare.append(branch)


def observe(actors: dict, call: Call, before: State, after: State, reason, events) -> Observation:
    """The rare states and boundary hits of ``call`` (``before`` and ``after``: the spec
    states around it; after a revert, ``after`` equals ``before``)."""
    seen = Observation()
    if call.target == CLOCK:
        _wait(seen, before, after)
        return seen
    if call.target == BUNDLE:  # the bundle's own calls, on the states between them
        return seen if reason is not None else _bundle(actors, call, before, seen)
    _one(seen, actors, call, before, after, reason, events)
    if reason is None:  # a rejected call leaves the population as it was
        _population(seen, before, after)
    return seen


def _bundle(actors, call, before, seen) -> Observation:
    from harness.core.spec_step import spec_apply

    state = before
    for inner in call.args:
        after, inner_reason, inner_events = spec_apply(state.copy(), actors, inner)
        _one(seen, actors, inner, state, after, inner_reason, inner_events)
        state = after
    _population(seen, before, state)
    return seen


def _one(seen, actors, call, before, after, reason, events) -> None:
    fn = call.fn
    if (call.target, fn) in PRIVILEGED and reason and reason.startswith("auth:"):
        _privileged(seen, actors, call, before)
    if fn == "settle":
        _settle(seen, actors, call, before, after, reason, events)
    elif fn == "withdraw" and reason is None:
        who = actors[call.sender]
        if _positions(after, who) and recompute.equity(after, who) == recompute.initial(after, who):
            seen.hit("withdraw.equity_at_initial")
    elif fn == "liquidate":
        who = _address(actors, call.args[0])
        if _positions(before, who) and recompute.equity(before, who) == recompute.maintenance(
            before, who
        ):
            seen.hit("liquidate.equity_at_maintenance")
    elif fn == "deposit" and call.args and call.args[0] == MAX_DEPOSIT and reason is None:
        seen.hit("deposit.amount_at_max")
    elif fn == "update_price" and reason is None:
        # issue 19: a price that rescued the last bankrupt holder opposite an open round
        rounds = [(m.long_adl_round, m.short_adl_round) for m in before.markets]
        if rounds != [(m.long_adl_round, m.short_adl_round) for m in after.markets]:
            seen.rare.append("rare.adl.round_ended_by_a_price")
    elif fn == "set_funding_rate" and reason is None:
        market_id, rate = call.args
        if abs(rate) == before.markets[market_id].max_funding_rate:
            seen.hit("funding.rate_at_bound")
    elif fn == "escape" and reason is None:
        request = before.book.exit_requests.get((_address(actors, call.args[0]), call.args[1]))
        if request and after.timestamp == request[2]:
            seen.hit("exit.escape_at_deadline")
        if request and after.timestamp == request[2] + EXIT_WINDOW:
            seen.hit("exit.at_window_end")
    elif fn == "execute" and call.target == "governor" and reason is None:
        _execute(seen, before, events)
    elif fn == "execute" and call.target == "governor" and reason == "market: unknown market":
        # scheduled while its listing held the slot (the Governor takes only listed keys)
        seen.rare.append("rare.governor_call_for_a_settled_listing_refused")
    if reason is None and events:
        _deleverages(seen, before, events)
        _delisted(seen, before, events)
        for name, args in events:
            # a listing in the slot of a settled market (a new slot has no market before)
            if name == "MarketAdded" and args[0] < len(before.markets):
                seen.rare.append("rare.market_relisted")
            # M-1: an account that owed repaid from its equity
            if name == "LossRepaid" and args[1] > 0:
                seen.rare.append("rare.adl.loss_repaid")
    if reason is None and before.insurance_fund != after.insurance_fund:
        if after.insurance_fund == after.insurance_floor:
            seen.hit("insurance.fund_at_floor")


# -- trades -----------------------------------------------------------------------------


def _settle(seen, actors, call, before, after, reason, events) -> None:
    maker, taker = _order(actors, call.args[0]), _order(actors, call.args[2])
    if reason == "market: unknown market" and maker.market % MAX_MARKETS < len(before.markets):
        seen.rare.append("rare.order_for_a_settled_listing_refused")
    size, price = call.args[4], call.args[5]
    if (defect := ORDER_REASONS.get(reason)) is not None:
        side = "maker" if _first_defect(before, maker, size) == defect else "taker"
        if side == "maker" or _first_defect(before, taker, size) == defect:
            seen.rare.append(f"rare.order_rejected.{defect}.{side}")
    for order in (maker, taker):
        if reason is None and before.timestamp == order.expiry:
            seen.hit("order.expiry_at_now")
    if reason is not None:
        buyer = taker.trader if taker.is_buy else maker.trader
        seller = maker.trader if taker.is_buy else taker.trader
        for side, who, delta in (("buyer", buyer, size), ("seller", seller, -size)):
            held = recompute.size(before, who, maker.market % MAX_MARKETS)
            if reason == f"trade: {side} below initial margin" and held * (held + delta) < 0:
                seen.rare.append("rare.flip_refused_at_initial_margin")
        return
    trade = next(args for name, args in events if name == "Trade")
    buyer, seller, market_id, size, price = trade[:5]
    market = after.markets[market_id]
    if size == MAX_TRADE_SIZE:
        seen.hit("trade.size_at_max")
    oracle = before.markets[market_id].price
    if abs(price - oracle) * RATIO_PRECISION == oracle * market.price_band_ratio:
        seen.hit("trade.price_at_band_edge")
    if before.timestamp - market.price_timestamp == market.max_price_age:
        seen.hit("trade.price_age_at_max")
    for who in (buyer, seller):
        held_before = recompute.size(before, who, market_id)
        held = recompute.size(after, who, market_id)
        if (
            held
            and market.min_position_notional
            and abs(held) * price == market.min_position_notional
        ):
            seen.hit("trade.notional_at_min")
        slack = recompute.equity(after, who) - recompute.initial(after, who)
        if abs(held) > abs(held_before) or held * held_before < 0:  # risk added: initial margin
            if slack == 0:
                seen.hit("trade.equity_at_initial")
        if held * held_before < 0 and 0 <= slack * 100 <= recompute.initial(after, who):
            seen.rare.append("rare.flip_near_initial_margin")


def _order(actors, fields: tuple) -> Order:
    return Order(_address(actors, fields[0]), *fields[1:])


def _first_defect(state: State, order: Order, size: int) -> str | None:
    """The first of the four order checks ``order`` fails in ``state`` (the Settlement's
    order: expiry, nonce floor, cancel, remaining size)."""
    book = state.book
    if state.timestamp > order.expiry:
        return "expired"
    if order.nonce < book.min_nonce.get(order.trader, 0):
        return "nonce"
    digest = order_hash(book, order)
    if book.cancelled.get(digest, False):
        return "cancelled"
    if size > order.size - book.filled.get(digest, 0):
        return "overfilled"
    return None


# -- the waterfall ----------------------------------------------------------------------


def _deleverages(seen, before: State, events: list) -> None:
    fills = [args for name, args in events if name == "Deleverage"]
    if not fills:
        return
    bankrupt, _, market_id = fills[0][:3]
    fills = [f for f in fills if f[0] == bankrupt and f[2] == market_id]
    market = before.markets[market_id]
    side = 1 if recompute.size(before, bankrupt, market_id) > 0 else -1
    holders = [
        h for h in _side(before, market_id, -side) if h["upnl"] > 0 and h["equity"] > 0
    ]  # eligible: profitable, positive equity
    policy = market.adl_policy
    budget = recompute.adl_budget(before, bankrupt, market_id, events)
    filled = {f[1] for f in fills}
    remainder = False
    if policy == 0:
        if any(
            a["upnl"] * b["entry"] == b["upnl"] * a["entry"]
            and (a["account"] in filled or b["account"] in filled)
            for i, a in enumerate(holders)
            for b in holders[i + 1 :]
        ):
            seen.rare.append("rare.adl.equal_ranks")
        size, cumulative = sum(f[3] for f in fills), 0
        for f in fills[:-1]:
            cumulative += f[3]
            remainder |= size > 0 and budget * cumulative % size != 0
    else:
        sizes = [h["size"] for h in holders]
        lots = sum(f[3] for f in fills)
        keep = [s - 1 for s in sizes]  # pro-rata on profit: a lot each while it can
        pnl = policy == 1 and sum(keep) >= lots
        lots_left, lots_tie = _water_fill(sizes, keep if pnl else sizes, lots)
        if policy == 1:  # the round's apportionment (issue 19)
            terms = adl_apportion.round_terms(before, market_id, -side)
            charge_left, charge_tie = _apportion(list(terms.values()), max(budget, 0))
        else:
            weights = [_weight(policy, h, market.price) for h in holders]
            caps = [min(h["upnl"], h["equity"]) for h in holders]
            charge_left, charge_tie = _water_fill(weights, caps, max(budget, 0))
        if lots_tie or charge_tie:
            seen.rare.append("rare.adl.equal_fractions")
        remainder = lots_left > 0 or charge_left > 0
    if len(fills) > 1 and remainder:
        seen.rare.append(f"rare.adl.fills_and_remainder.{ADL_POLICY_NAMES[policy]}")
    # the closed market's winners could not pay its share, and the account holds others
    if len(before.accounts[bankrupt].positions) > 1 and any(
        name == "BadDebt" and args[0] == bankrupt for name, args in events
    ):
        seen.rare.append("rare.adl.shortfall_beside_positions")
    # the completion reached a bankrupt counterparty (taken after every solvent one)
    if any(recompute.equity(before, f[1]) < 0 for f in fills):
        seen.rare.append("rare.adl.bankrupt_counterparty")


def _side(state: State, market_id: int, side: int) -> list[dict]:
    found = []
    for address in state.markets[market_id].holders:
        size = recompute.size(state, address, market_id)
        if size * side <= 0:
            continue
        entry = state.accounts[address].positions[market_id].entry_notional
        found.append(
            {
                "account": address,
                "size": abs(size),
                "upnl": recompute.capacity(state, address, market_id),
                "entry": abs(entry),
                "equity": recompute.equity_after_repayment(state, address),
            }
        )
    return found


def _weight(policy: int, holder: dict, price: int) -> int:
    if policy == 2:
        leverage = holder["size"] * price * RATIO_PRECISION // holder["equity"]
        return holder["upnl"] * min(max(leverage, 1), MAX_ADL_LEVERAGE)
    return holder["size"]


def _water_fill(weights: list[int], caps: list[int], budget: int) -> tuple[int, bool]:
    """Split ``budget`` by ``weights`` under ``caps``: the units the last pass handed out
    by fractional part, and whether a tie of fractional parts straddled them (two equal
    parts, one given a unit and one not: the tie-break decided)."""
    active, remaining = _last_pass(weights, caps, budget)
    if not active:
        return 0, False
    total = sum(weights[i] for i in active)
    fractions = sorted((remaining * weights[i] % total for i in active), reverse=True)
    left = remaining - sum(remaining * weights[i] // total for i in active)
    return left, 0 < left < len(fractions) and fractions[left - 1] == fractions[left]


def _apportion(terms: list[tuple[int, int, int]], budget: int) -> tuple[int, bool]:
    """The round's apportionment of what the winners paid plus ``budget`` on (base, cap,
    paid) ``terms``: the units its last pass handed out by threshold, and whether a tie of
    thresholds straddled the last one given (equal thresholds: the address decided)."""
    weights, caps = [t[0] for t in terms], [t[1] for t in terms]
    active, remaining = _last_pass(weights, caps, budget + sum(t[2] for t in terms))
    if not active:
        return 0, False
    total = sum(weights[i] for i in active)
    shares = {i: remaining * weights[i] // total for i in active}
    left = remaining - sum(shares.values())
    thresholds = sorted(
        Fraction(shares[i] + k, weights[i])
        for i in active
        for k in range(1, min(left + 1, caps[i] - shares[i]) + 1)
    )
    return left, 0 < left < len(thresholds) and thresholds[left - 1] == thresholds[left]


def _last_pass(weights: list[int], caps: list[int], budget: int) -> tuple[list[int], int]:
    """The accounts the saturating passes leave below their caps, and their budget (none
    when every cap binds or nothing is left)."""
    active = [i for i in range(len(weights)) if weights[i] > 0 and caps[i] > 0]
    remaining = budget
    while active and remaining > 0:
        total = sum(weights[i] for i in active)
        saturated = [i for i in active if remaining * weights[i] >= caps[i] * total]
        if not saturated:
            return active, remaining
        remaining -= sum(caps[i] for i in saturated)
        active = [i for i in active if i not in saturated]
    return [], 0


# -- the population: holders, markets ---------------------------------------------------


def _population(seen, before: State, after: State) -> None:
    cap = MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE
    for market_id, market in enumerate(after.markets):
        was = len(before.markets[market_id].holders) if market_id < len(before.markets) else 0
        now = len(market.holders)
        if now == cap and was != cap:
            seen.hit("market.holders_at_trade_cap")
        if now == MAX_POSITIONS_PER_MARKET and was != now:
            seen.hit("market.holders_at_bound")
    if len(after.markets) == MAX_MARKETS and len(before.markets) != MAX_MARKETS:
        seen.hit("protocol.markets_at_max")
    # an account's margin moves with its own fields, or with the markets' and the clock
    same_marks = before.timestamp == after.timestamp and list(map(_marks, before.markets)) == list(
        map(_marks, after.markets)
    )
    for address, account in after.accounts.items():  # counted once: when a call brings
        if same_marks and before.accounts.get(address) == account:  # an account there
            continue
        now = _margin_boundary(after, address)
        if now is not None and now != _margin_boundary(before, address):
            seen.hit(now)


def _marks(market) -> tuple:
    """What equity and maintenance read of a market (``recompute``)."""
    return (
        market.price, market.price_timestamp, market.max_price_age, market.funding_index,
        market.funding_rate, market.funding_timestamp, market.maintenance_margin_ratio,
        market.settled,
    )  # fmt: skip


def _margin_boundary(state: State, address: str) -> str | None:
    if not _positions(state, address):
        return None
    equity = recompute.equity(state, address)
    if equity == recompute.maintenance(state, address):
        return "account.equity_at_maintenance"
    return "account.equity_at_zero" if equity == 0 else None


def _delisted(seen, before: State, events: list) -> None:
    for name, args in events:
        if name == "MarketSettled" and before.markets[args[0]].holders:
            seen.rare.append("rare.delisted_with_open_positions")


def _execute(seen, before: State, events: list) -> None:
    for name, args in events:
        if name == "CallExecuted":
            eta = before.timelock.eta.get(args[0])
            if eta == before.timestamp:
                seen.hit("governor.execute_at_eta")
            if eta is not None and eta + GOVERNANCE_GRACE_PERIOD == before.timestamp:
                seen.hit("governor.execute_at_grace_end")


# -- time -------------------------------------------------------------------------------


def _wait(seen, before: State, after: State) -> None:
    """A wait across a boundary: a market's price age, while funding runs on open
    interest (funding stops there), an exit request's window, a scheduled call's grace
    period."""
    start, end = before.timestamp, after.timestamp
    for market in before.markets:
        stop = market.price_timestamp + market.max_price_age
        if market.open_interest and market.funding_rate and start < stop < end:
            seen.rare.append("rare.wait.funding_stops")
            break
    for *_, deadline in before.book.exit_requests.values():
        if start <= deadline + EXIT_WINDOW < end:
            seen.rare.append("rare.wait.exit_window")
            break
    for eta in before.timelock.eta.values():
        if start <= eta + GOVERNANCE_GRACE_PERIOD < end:
            seen.rare.append("rare.wait.governance_grace")
            break


# -- shared -----------------------------------------------------------------------------


def _privileged(seen, actors, call, before) -> None:
    """A refused privileged call after every role changed hands: (function, caller's role)."""
    genesis = {
        "owner": actors["owner"],
        "guardian": actors["owner"],
        "oracle": actors["oracle"],
        "operator": actors["operator"],
    }
    holders = {
        "owner": before.timelock.owner,
        "guardian": before.guardian,
        "oracle": before.oracle,
        "operator": before.book.operator,
    }
    if any(holders[r] == genesis[r] for r in ROLES):
        return
    caller = actors[call.sender]
    own = PRIVILEGED[call.target, call.fn]
    roles = [r for r in ROLES if holders[r] == caller]
    if own != "governor" and caller == genesis[own]:
        roles.append("former")
    seen.privileged += [(call.fn, r) for r in roles]


def _positions(state: State, address: str) -> bool:
    account = state.accounts.get(address)
    return bool(account and account.positions)


def _address(actors: dict, name_or_address: str) -> str:
    return actors.get(name_or_address, name_or_address)


def rare_counts(rare, privileged) -> dict[str, int]:
    """Every rare branch's count: the counted ones as counted; a privileged function's,
    the fewest refusals seen from any caller it must refuse (``callers_required``)."""
    counts = {b: rare[b] for b in RARE_BRANCHES if b not in PRIVILEGED_BRANCHES}
    for key, branch in zip(PRIVILEGED, PRIVILEGED_BRANCHES, strict=True):
        counts[branch] = min(privileged[f"{key[1]}|{role}"] for role in callers_required(key))
    return {b: counts[b] for b in RARE_BRANCHES}
