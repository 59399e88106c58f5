"""The lab's adversarial scenarios, on the spec: a winner split into sybils, capacities
that alternate between rounds, a deposit before and after the gap, a winner that closes and
reopens between the public gap and the deleverage, a capped market's shortfall with the
market ids either way, and the counterfactual of an O(1)
side-wide pro-rata (what the accumulator design of SPEC.md would charge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

from harness.core.call import CLOCK, Call, Calldata
from harness.core.orders import Match
from harness.lab.cascade import MARKET, Driver, Run
from harness.lab.metrics import score_rows
from pyspec import margin
from pyspec.adl_allocator import Holder, allocate
from pyspec.constants import ADL_POLICY_NAMES

USDC = 10**6
MAX_CALLS = 4  # deleverage calls of the cross-market scenario: one a position, and spare
SYBILS = (1, 2, 4, 8)
ROUNDS = (4, 8, 16, 32)


def _trade(long: str, short: str, lots: int, price: int) -> Match:
    return Match(long, short, MARKET, lots, price)


CRASH_PRICE = 750_000


@dataclass
class Outcome:
    """One deleverage of trader0: what each counterparty was charged, what the fund
    covered and the bad debt left."""

    charged: dict[str, int]
    fund_cover: int
    bad_debt: int


def _bankruptcy(
    driver: Driver,
    shorts: list[tuple[list[str], int, int, int]],
    after_gap: Callable[[Driver], None] | None = None,
) -> Outcome:
    """A long (trader0) opens against each group of shorts at its own price, the fund is
    withdrawn to its floor, the price crashes 25% (the deficit is public) and, after
    ``after_gap`` acts, the long is deleveraged. ``shorts``: (names, lots per name,
    collateral per name, price)."""
    driver.apply(Call("engine", "deposit", "trader0", (4_500 * USDC,)))
    for names, lots, collateral, price in shorts:
        driver.apply(Call(CLOCK, "wait", "", (1,)))
        timestamp = driver.state.timestamp
        driver.apply(Call("engine", "update_price", "oracle", (MARKET, price, timestamp)))
        for name in names:
            driver.apply(Call("engine", "deposit", name, (collateral,)))
            reason, _ = driver.apply(_trade("trader0", name, lots, price))
            assert reason is None, reason
    fund = driver.state.insurance_fund - driver.state.insurance_floor
    withdrawal = Calldata("withdraw_insurance", (fund,))  # through the Governor's delay
    driver.apply(Call("governor", "schedule", "owner", ("engine", withdrawal)))
    driver.apply(Call(CLOCK, "wait", "", (driver.state.timelock.delay,)))
    price, timestamp = driver.state.markets[MARKET].price, driver.state.timestamp
    driver.apply(Call("engine", "update_price", "oracle", (MARKET, price, timestamp)))
    reason, _ = driver.apply(Call("governor", "execute", "outsider", ("engine", withdrawal)))
    assert reason is None, reason
    driver.apply(Call(CLOCK, "wait", "", (1,)))
    timestamp = driver.state.timestamp
    driver.apply(Call("engine", "update_price", "oracle", (MARKET, CRASH_PRICE, timestamp)))
    if after_gap:
        after_gap(driver)
    reason, events = driver.apply(Call("engine", "deleverage", "outsider", ("trader0",)))
    assert reason is None, reason
    charged = {}
    cover = bad_debt = 0
    for name, args in events:
        if name == "Deleverage":
            charged[driver.names[args[1]]] = charged.get(driver.names[args[1]], 0) + args[5]
        elif name == "InsuranceCover":
            cover += args[2]
        elif name == "BadDebt":
            bad_debt += args[1]
    return Outcome(charged, cover, bad_debt)


def sybil(policies: list[int]) -> dict:
    """What the owner of the largest winner pays in total when it splits into k accounts,
    proportionally (each part the same size and collateral) or skewed (one part holds
    nearly all the collateral, the others the least the trade allows)."""
    out = {"k": list(SYBILS), "split": {}, "skewed": {}}
    for policy in policies:
        name = ADL_POLICY_NAMES[policy]
        for mode in ("split", "skewed"):
            paid = []
            for k in SYBILS:
                driver = Driver(3 + k, policy)
                sybils = [f"trader{3 + i}" for i in range(k)]
                lots = 24_000 // k
                groups = [(["trader1"], 8_000, 4_000 * USDC, 1_060_000)]
                groups.append((["trader2"], 8_000, 2_000 * USDC, 990_000))
                if mode == "split":
                    groups.append((sybils, lots, 12_000 * USDC // k, 1_030_000))
                else:
                    groups.append((sybils[:1], lots, 12_000 * USDC, 1_030_000))
                    thin = lots * 1_030_000 // 9  # a little over initial margin
                    groups.extend(([s], lots, thin, 1_030_000) for s in sybils[1:])
                charged = _bankruptcy(driver, groups).charged
                paid.append(sum(charged.get(s, 0) for s in sybils))
            out[mode][name] = paid
    out["note"] = (
        "Total charge of one owner's accounts, in token units. A proportional split moves "
        "no policy's charge by more than k units. A skewed split (thin parts near initial "
        "margin) raises the thin parts' leverage: only the leverage-weighted policy "
        "charges the owner differently, and more."
    )
    return out


def alternating(policies: list[int]) -> dict:
    """Two winners whose capacities alternate (1, M) and (M, 1), a budget of 1 each round;
    the first always ranks first in the queue (a higher PnL%). The objective grows
    linearly with T for the queue, stays flat for pro-rata on profit."""
    budget, m = USDC, 100

    def holders(t: int) -> list[Holder]:
        small, large = (budget, m * budget) if t % 2 == 0 else (m * budget, budget)
        return [
            Holder("0x" + "01" * 20, 1_000, small, 1, 10**12, 1),  # entry 1: PnL% first
            Holder("0x" + "02" * 20, 1_000, large, 10**9, 10**12, 1),
        ]

    out = {"T": list(ROUNDS), "objective": {}}
    for policy in policies:
        totals = []
        for rounds in ROUNDS:
            rows = []
            for t in range(rounds):
                side = holders(t)
                fills = allocate(policy, 1, 1, side, 1_000, budget)
                taken = {f.counterparty: f.absorbed for f in fills}
                capacity = {h.account: h.upnl for h in side}
                rows.append(
                    {
                        "deficit": budget,
                        "needed": budget,
                        "taken_fill": sum(taken.values()),
                        "concentration": max(Fraction(taken[a], capacity[a]) for a in taken),
                        "reference_concentration": Fraction(budget, sum(capacity.values())),
                    }
                )
            totals.append(int(score_rows(rows, "taken_fill")["total"]))
        out["objective"][ADL_POLICY_NAMES[policy]] = totals
    out["note"] = (
        f"Objective (lambda = 1) against continuous pro-rata, budget {budget} units, M = {m}."
    )
    return out


def deposit(policies: list[int]) -> dict:
    """The largest winner deposits 100,000 USDC, before the trades (no deficit is public)
    or after the gap (the deleverage is public): what it and the other winners pay, and
    any deposit the protocol refused (the no-dodge gate, issue 19)."""
    groups = [
        (["trader1"], 12_000, 5_000 * USDC, 1_060_000),
        (["trader2"], 6_000, 3_000 * USDC, 1_020_000),
        (["trader3"], 6_000, 1_500 * USDC, 990_000),
    ]
    out = {}
    for policy in policies:
        figures: dict[str, int | list[str]] = {"refused": []}
        for label in ("without", "before_gap", "after_gap"):
            driver = Driver(4, policy)
            call = Call("engine", "deposit", "trader1", (100_000 * USDC,))
            if label == "before_gap":
                driver.apply(call)

            refused = figures["refused"]

            def after_gap(driver: Driver, call: Call = call, refused: list = refused) -> None:
                reason, _ = driver.apply(call)
                if reason is not None:
                    refused.append(reason)

            hook = after_gap if label == "after_gap" else None
            charged = _bankruptcy(driver, groups, hook).charged
            figures[f"depositor_{label}"] = charged.get("trader1", 0)
            figures[f"others_{label}"] = sum(v for k, v in charged.items() if k != "trader1")
        out[ADL_POLICY_NAMES[policy]] = figures
    out["note"] = (
        "Only the leverage-weighted policy moves a charge when a winner deposits: its weight "
        "falls with its leverage (the others rank or weigh by profit or size, which a "
        "deposit does not change). A deposit before any deficit is public is the policy at "
        "work; after the gap it would be a dodge, and the gate refuses it (listed below)."
    )
    return out


WINNERS = [
    (["trader1"], 12_000, 5_000 * USDC, 1_060_000),  # the largest winner, by profit and PnL%
    (["trader2"], 6_000, 3_000 * USDC, 1_020_000),
    (["trader3"], 6_000, 1_500 * USDC, 990_000),
]
DODGER, MAKER = "trader1", "trader4"


def _close_and_reopen(driver: Driver, record: dict) -> None:
    """After the gap, the dodger buys its short back from a market maker at the oracle price
    and sells it to them again at the same price: its profit is realized into collateral
    and its new position, entered at the oracle price, has none left to charge. Return its
    fees (its equity before less after, at one price) and any call the protocol refused."""
    dodger = driver.address(DODGER)
    lots = -driver.state.accounts[dodger].positions[MARKET].size
    before = margin.equity(driver.state, dodger)
    driver.apply(Call("engine", "deposit", MAKER, (2_000 * USDC,)))
    refused = []
    for trade in (
        Match(DODGER, MAKER, MARKET, lots, CRASH_PRICE),  # close
        Match(MAKER, DODGER, MARKET, lots, CRASH_PRICE),  # reopen
    ):
        reason, _ = driver.apply(trade)
        if reason is not None:
            refused.append(reason)
    record.update(fees=before - margin.equity(driver.state, dodger), refused=refused)


def close_and_reopen(policies: list[int]) -> dict:
    """The largest winner closes and reopens at the oracle price between the public gap and
    the deleverage: how much its charge drops and who pays instead (the other winners, or
    bad debt when their profit is not enough)."""
    out = {}
    for policy in policies:
        figures: dict[str, int | list[str]] = {}
        for label, dodge in (("without", False), ("with", True)):
            driver = Driver(5, policy)
            trades: dict = {}
            hook = partial(_close_and_reopen, record=trades) if dodge else None
            outcome = _bankruptcy(driver, WINNERS, hook)
            figures[f"dodger_{label}"] = outcome.charged.get(DODGER, 0)
            others = sum(v for k, v in outcome.charged.items() if k != DODGER)
            figures[f"others_{label}"] = others
            figures[f"fund_{label}"] = outcome.fund_cover
            figures[f"bad_debt_{label}"] = outcome.bad_debt
            if dodge:
                figures["dodger_fees"] = trades["fees"]
                figures["refused"] = trades["refused"]
        figures["drop"] = figures["dodger_without"] - figures["dodger_with"]
        figures["others_extra"] = figures["others_with"] - figures["others_without"]
        figures["fund_extra"] = figures["fund_with"] - figures["fund_without"]
        figures["bad_debt_extra"] = figures["bad_debt_with"] - figures["bad_debt_without"]
        out[ADL_POLICY_NAMES[policy]] = figures
    out["note"] = (
        "The largest winner closes and reopens at the oracle price after the gap is public "
        "and before the deleverage. drop: what it no longer pays; others extra, fund extra "
        "(the fund at its floor spends the round trip's fees) and bad debt extra: who pays "
        "it instead, to the unit; fees: what the round trip cost it. A refused trade (the "
        "protocol blocking the dodge) is listed."
    )
    return out


def side_pro_rata(runs: list[Run]) -> dict:
    """Counterfactual: each deleverage's budget split over every opposite position by
    size, profitable or not (what per-side accumulators settled on touch would charge)."""
    deleverages = losers = principal = 0
    for run in runs:
        for round_ in run.rounds:
            for record in round_.deleveragings:
                deleverages += 1
                total = sum(record.sizes.values())
                for account, lots in record.sizes.items():
                    charge = record.budget * lots // total
                    capacity = max(record.capacities.get(account, 0), 0)
                    if charge > 0 and capacity == 0:
                        losers += 1
                    principal += max(charge - capacity, 0)
    return {
        "deleverages": deleverages,
        "losers_charged": losers,
        "principal_touched": principal,
        "note": "An O(1) side-wide pro-rata charges losing positions from their principal; "
        "SPEC.md explains why it is not shipped.",
    }


def cross_market(policies: list[int]) -> dict:
    """A capped market's shortfall, with the market ids one way and the other (issue 19):
    trader0's loss arose on the market ``lost``, where its only counterparty (trader1) is
    bankrupt itself, so nobody there can be charged; its long on the other market,
    bought at the price it stands at, lost nothing, opposite a winner (trader2). What the
    other market's winners are charged and the bad debt booked, once trader0 holds
    nothing. Before the shortfall was booked where it arose, the winner paid it when the
    losing market had the lower id, and it was bad debt when it had the higher."""
    out: dict = {}
    for policy in policies:
        figures = {}
        for lost, other in ((0, 1), (1, 0)):
            charged, reward, bad_debt = _capped_beside(Driver(5, policy), lost, other)
            figures[f"charged_elsewhere_{lost}_{other}"] = charged
            figures[f"keeper_reward_elsewhere_{lost}_{other}"] = reward
            figures[f"bad_debt_{lost}_{other}"] = bad_debt
        out[ADL_POLICY_NAMES[policy]] = figures
    loss_free = all(
        f[f"charged_elsewhere_{ids}"] == 0 for f in out.values() for ids in ("0_1", "1_0")
    )
    reward_free = all(
        f[f"keeper_reward_elsewhere_{ids}"] == 0 for f in out.values() for ids in ("0_1", "1_0")
    )
    out["note"] = (
        "Columns by market ids (the losing market, then the other): charged elsewhere is "
        "what the winners of the market where trader0 lost nothing paid of the loss, "
        "keeper's reward elsewhere what they paid of the reward of the call that closed "
        "their market (N9); bad debt is what the loss rule took. "
        + (
            "Whichever market has the lower id, no loss is charged where nothing was lost "
            "(before, 1,904.50 USDC was when the losing market was 0)"
            if loss_free
            else "A loss is charged where nothing was lost: the attribution broke"
        )
        + (
            ", and no keeper's reward either (a position holding no part of the deficit "
            "earns none); "
            if reward_free
            else "; a keeper's reward is charged there: "
        )
        + "the two bad debts differ by the markets' own terms (prices, lot sizes, fees) and "
        "by the reward of the losing market's call, which its capped winners cannot pay."
    )
    return out


def _capped_beside(driver: Driver, lost: int, other: int) -> tuple[int, int]:
    def publish(market: int, price: int) -> None:
        driver.apply(Call(CLOCK, "wait", "", (1,)))
        price_call = Call(
            "engine", "update_price", "oracle", (market, price, driver.state.timestamp)
        )
        assert driver.apply(price_call)[0] is None

    def trade(long: str, short: str, market: int, notional: int, price: int) -> None:
        reason, _ = driver.apply(Match(long, short, market, notional // price, price))
        assert reason is None, reason

    lost_price, other_price = (driver.state.markets[m].price for m in (lost, other))
    for name, amount in (("trader0", 2_500), ("trader1", 3_000), ("trader2", 40_000)):
        driver.apply(Call("engine", "deposit", name, (amount * USDC,)))
    driver.apply(Call("engine", "deposit", "trader3", (40_000 * USDC,)))
    trade("trader0", "trader1", lost, 9_000 * USDC, lost_price)
    trade("trader1", "trader2", other, 10_000 * USDC, other_price)
    withdrawal = Calldata(
        "withdraw_insurance", (driver.state.insurance_fund - driver.state.insurance_floor,)
    )
    driver.apply(Call("governor", "schedule", "owner", ("engine", withdrawal)))
    driver.apply(Call(CLOCK, "wait", "", (driver.state.timelock.delay,)))
    for market in (lost, other):
        publish(market, driver.state.markets[market].price)
    assert driver.apply(Call("governor", "execute", "outsider", ("engine", withdrawal)))[0] is None
    publish(other, other_price // 5)  # trader1 loses 8,000 USDC there: bankrupt
    trade("trader0", "trader3", other, 500 * USDC, other_price // 5)
    publish(lost, lost_price // 2)  # trader0 loses 4,500 USDC: its deficit is public
    charged = reward = bad_debt = 0
    for _ in range(MAX_CALLS):
        reason, events = driver.apply(Call("engine", "deleverage", "outsider", ("trader0",)))
        if reason is not None:
            break
        here = sum(args[5] for name, args in events if name == "Deleverage" and args[2] == other)
        paid = sum(args[2] for name, args in events if name == "KeeperReward")
        if any(name == "Deleverage" and args[2] == other for name, args in events):
            # that market lost nothing: what its winners pay beyond the call's reward is loss
            reward += min(here, paid)
            charged += here - min(here, paid)
        bad_debt += sum(
            args[1]
            for name, args in events
            if name == "BadDebt" and args[0] == driver.address("trader0")
        )
    return charged, reward, bad_debt
