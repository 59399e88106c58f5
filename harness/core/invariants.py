"""The invariant catalogue, and the checks run after every differential step.

Each invariant has a name (``INVARIANTS``); violations, reports and comments use it.
State invariants read a parsed state dump (``dump.parse``), so the same check runs on the
spec's dump and on the chain's. Transition invariants compare the spec state before and
after a waterfall call with an independent oracle (exact fractions, plain sorting)
rather than with the spec's own helpers.
"""

from fractions import Fraction

from pyspec import margin
from pyspec.state import State

# name -> statement. The first four are the differential comparison itself (``Pair``).
INVARIANTS = {
    "state": "spec and chain states equal, field by field (after every call)",
    "reverts": "same success or revert reason (after every call)",
    "events": "same events, names and arguments, in order (after every call)",
    "views": "trader views equal on both sides (when the machine checks them)",
    "custody": "token balance = collateral + fund + unsettled PnL of open positions",
    "balanced_sides": "every market's sizes sum to zero; open interest and holders in step",
    "fund_non_negative": "the insurance fund is never negative",
    "no_orphan_deficit": "no account holds a deficit with no position",
    "conservation": "equity + fund move only by deposits, withdrawals and top-ups",
    "funding_zero_sum": "settled plus pending funding is exactly zero per market",
    "liquidation": "only under-maintenance accounts liquidated, never pushed below zero",
    "adl_order": "ADL fills only profitable opposite positions, in rank order, never more "
    "than the bankrupt size, and leaves no counterparty below zero",
    "adl_trigger": "ADL runs only when the insurance fund cannot cover the deficit share",
}


class InvariantViolation(AssertionError):
    """``name`` is the violated entry of ``INVARIANTS``."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"invariant {name}: {detail}")
        self.name = name


def check(name: str, condition: bool, detail: str) -> None:
    assert name in INVARIANTS, name
    if not condition:
        raise InvariantViolation(name, detail)


def _open_positions(parsed: dict):
    """Yield (market_id, market, position) for every open position."""
    for account in parsed["accounts"]:
        for market_id, (market, position) in enumerate(
            zip(parsed["markets"], account["positions"], strict=True)
        ):
            if position["size"]:
                yield market_id, market, position


def pending_funding(market: dict, position: dict) -> int:
    return -position["size"] * (market["funding_index"] - position["funding_checkpoint"])


def books(parsed: dict) -> tuple[int, int]:
    """Return (sum of collateral, sum of unsettled PnL, funding and loss) over all accounts."""
    collateral = sum(account["collateral"] for account in parsed["accounts"])
    unsettled = 0
    for _, market, position in _open_positions(parsed):
        size = position["size"]
        index = market["loss_index_long" if size > 0 else "loss_index_short"]
        unsettled += size * market["price"] - position["entry_notional"]
        unsettled += pending_funding(market, position)
        unsettled -= abs(size) * (index - position["loss_checkpoint"])
    return collateral, unsettled


def pending_funding_by_market(parsed: dict) -> list[int]:
    """Return, per market, the funding accrued to open positions and not yet settled."""
    totals = [0] * len(parsed["markets"])
    for market_id, market, position in _open_positions(parsed):
        totals[market_id] += pending_funding(market, position)
    return totals


def check_state(parsed: dict, side: str) -> int:
    """Check the state invariants; return sum(equity) + fund for the conservation check."""
    collateral, unsettled = books(parsed)
    check(
        "custody",
        parsed["engine_balance"] == collateral + parsed["fund"] + unsettled,
        f"[{side}] custody: balance {parsed['engine_balance']} != collateral {collateral}"
        f" + fund {parsed['fund']} + unsettled {unsettled}",
    )
    check(
        "fund_non_negative",
        parsed["fund"] >= 0,
        f"[{side}] insurance fund negative: {parsed['fund']}",
    )
    for market_id, market in enumerate(parsed["markets"]):
        sizes = [account["positions"][market_id]["size"] for account in parsed["accounts"]]
        check(
            "balanced_sides",
            sum(sizes) == 0,
            f"[{side}] market {market_id}: sizes sum to {sum(sizes)}",
        )
        check(
            "balanced_sides",
            market["open_interest"] == sum(s for s in sizes if s > 0),
            f"[{side}] market {market_id}: open interest {market['open_interest']}",
        )
        check(
            "balanced_sides",
            len(market["holders"]) == sum(1 for s in sizes if s),
            f"[{side}] market {market_id}: holder list out of step",
        )
    for i, account in enumerate(parsed["accounts"]):
        if not any(position["size"] for position in account["positions"]):
            check(
                "no_orphan_deficit",
                account["collateral"] >= 0,
                f"[{side}] account #{i}: deficit with no position",
            )
    return collateral + unsettled + parsed["fund"]


def settled_funding(events: list, totals: dict[int, int]) -> None:
    """Add each PositionSettled funding amount to its market's running total."""
    for name, args in events:
        if name == "PositionSettled":
            totals[args[1]] = totals.get(args[1], 0) + args[2]


def check_funding_zero_sum(parsed: dict, settled: dict[int, int], side: str) -> None:
    """Funding is zero-sum: what was settled plus what is pending is exactly zero."""
    for market_id, pending in enumerate(pending_funding_by_market(parsed)):
        done = settled.get(market_id, 0)
        check(
            "funding_zero_sum",
            done + pending == 0,
            f"[{side}] market {market_id}: funding settled {done} + pending {pending} != 0",
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


def check_liquidation(before: State, after: State, events: list) -> None:
    """``liquidation``: only under-maintenance accounts are liquidated, never pushed below
    zero."""
    for name, args in events:
        if name != "Liquidation":
            continue
        account = args[0]
        equity_before = margin.equity(before, account)
        check(
            "liquidation",
            equity_before < margin.maintenance_margin(before, account),
            f"liquidated a healthy account {account}",
        )
        if equity_before >= 0:
            check(
                "liquidation",
                margin.equity(after, account) >= 0,
                f"liquidation left {account} bankrupt",
            )


def _oracle_rank(state: State, address: str, market_id: int) -> Fraction | None:
    market = state.markets[market_id]
    position = state.accounts[address].positions[market_id]
    upnl = position.size * market.price - position.entry_notional
    equity = margin.equity(state, address)
    if upnl <= 0 or equity <= 0:
        return None
    if position.entry_notional == 0:
        return Fraction(10**80)
    return Fraction(upnl * abs(position.size * market.price), abs(position.entry_notional) * equity)


def check_deleverage(before: State, after: State, market_id: int, events: list) -> None:
    """``adl_order``: ADL fills only opposite, profitable positions of a bankrupt account,
    in rank order, and never leaves a counterparty below zero equity."""
    fills = [args for name, args in events if name == "Deleverage"]
    if not fills:
        return
    bankrupt = fills[0][0]
    side = 1 if before.accounts[bankrupt].positions[market_id].size > 0 else -1
    check(
        "adl_order", margin.equity(before, bankrupt) < 0, "ADL of an account that was not bankrupt"
    )
    market = before.markets[market_id]
    candidates = []
    for address in market.holders:
        size = before.accounts[address].positions[market_id].size
        rank = _oracle_rank(before, address, market_id)
        if size * side < 0 and rank is not None:
            candidates.append((-rank, int(address, 16), address))
    order = [address for _, _, address in sorted(candidates)]
    positions_in_order = []
    for _, counterparty, _, _, _ in fills:
        check("adl_order", counterparty in order, f"ADL filled a non-candidate {counterparty}")
        positions_in_order.append(order.index(counterparty))
        check(
            "adl_order",
            margin.equity(after, counterparty) >= 0,
            f"ADL left {counterparty} bankrupt",
        )
    check(
        "adl_order",
        positions_in_order == sorted(positions_in_order),
        f"ADL out of rank order: {fills}",
    )
    total = sum(args[3] for args in fills)
    check(
        "adl_order",
        total <= abs(before.accounts[bankrupt].positions[market_id].size),
        "ADL closed more than the bankrupt position",
    )


def check_fund_could_not_cover(before: State, address: str, market_id: int) -> None:
    """``adl_trigger``: ADL runs only when the fund is short of the deficit share."""
    market = before.markets[market_id]
    size = before.accounts[address].positions[market_id].size
    requirement = Fraction(abs(size) * market.price * market.maintenance_margin_ratio, 10**6)
    share = (
        Fraction(margin.equity(before, address))
        * (-(-requirement.numerator // requirement.denominator))
        / margin.maintenance_margin(before, address)
    )
    deficit = -(share.numerator // share.denominator)
    check(
        "adl_trigger",
        before.insurance_fund < deficit,
        "ADL although the insurance fund could cover",
    )
