"""Seeded liquidation cascades, run through the whole waterfall on the spec.

A cascade is a market of leveraged longs against shorts who opened along a rising price
(so their profits differ), then a crash in rounds with gaps. Each round the oracle moves,
one thin liquidator takes what its margin allows, and every bankrupt account left is
deleveraged under the market's ADL policy. Everything is an ordinary call, recorded, so a
run replays differentially on a chain (``replay``), and the lab's numbers are the
contracts' numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from harness.core import genesis
from harness.core.call import CLOCK, Call
from harness.core.governance_actions import pin_adl_policy
from harness.core.orders import Match
from harness.core.spec_step import spec_apply
from harness.evm.base import ACCOUNTS, GENESIS_TIME, extra_accounts
from pyspec import adl, liquidation, margin
from pyspec.adl_allocator import is_eligible
from pyspec.constants import LIQUIDATOR_RESERVE, MAX_POSITION_SIZE, MAX_POSITIONS_PER_MARKET
from pyspec.fixed_math import sign
from pyspec.state import State

USDC = genesis.USDC
MARKET = 0
OTHER_MARKET = 1  # where cross-margin losers hold their second position
START_PRICE = 1_000_000  # market 0's configured first price
LIQUIDATOR = "liquidator"
ROUND_SECONDS = 60  # block time between two rounds of the crash
# Trades may fill the market up to its holder bound less the liquidators' reserve; every
# trader but the liquidator (who enters through takeovers, into the reserve) holds one
# position, so a cascade has at most this many traders.
MAX_TRADERS = MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE + 1


@dataclass(frozen=True)
class Scenario:
    """What a cascade is drawn from: its seed, the number of traders and of rounds."""

    seed: int = 1
    traders: int = MAX_TRADERS
    rounds: int = 12

    def __post_init__(self):
        if not 2 <= self.traders <= MAX_TRADERS:
            raise ValueError(
                f"traders: 2 to {MAX_TRADERS} (the market's tradable holder slots + 1)"
            )


@dataclass(frozen=True)
class Cascade:
    """The opening calls (deposits and trades) and the crash prices, one per round plus a
    last one for the horizon of the final round; market 1's price per round when some
    accounts also hold a position there (cross-margin), else none."""

    scenario: Scenario
    opening: tuple[Call | Match, ...]  # trades are signed when they run
    prices: tuple[int, ...]
    other_prices: tuple[int, ...] = ()


@dataclass
class Charge:
    """One counterparty in one deleverage: the lots and collateral it gave up, and its
    position's profit (capacity) and eligibility just before."""

    account: str
    lots: int
    absorbed: int
    capacity: int
    eligible: bool


@dataclass
class Deleveraging:
    """One deleverage call: the budget the policy allocated (the deficit share left after
    the fund), the eligible opposite positions' capacities and what each gave up."""

    bankrupt: str
    side: int  # the counterparties' sign (-1: shorts)
    size: int
    budget: int
    capacities: dict[str, int]
    sizes: dict[str, int]
    entries: dict[str, int]  # |entry notional| of the eligible positions (PnL% = upnl / entry)
    charges: list[Charge]


@dataclass
class Round:
    price: int
    horizon_price: int
    deficit: int = 0  # sum of (-equity)+ right after the price moved
    fund_draw: int = 0  # every InsuranceCover of the round
    deleveragings: list[Deleveraging] = field(default_factory=list)
    largest_surviving_profit: int = 0
    bad_debt: int = 0  # every BadDebt of the round's deleverage calls
    # the round's bankrupt accounts deleveraged in the other order (highest address
    # first), on a copy; None with fewer than two (one order only)
    reversed: OrderOutcome | None = None
    # both orders again, each call made by the bankrupt account itself: no keeper reward
    # (N9 pays only another caller); a reward joins its call's deficit, fixed by the
    # position, so with or without rewards what is left of the effect is rounding
    unrewarded: tuple[OrderOutcome, OrderOutcome] | None = None
    # the first of those orders with the same price published again after its first
    # call: a keeper that waits for the next price ends the round's ADL record there
    price_between: OrderOutcome | None = None


@dataclass
class OrderOutcome:
    """One order of a round's deleverage calls, replayed on a copy of the state."""

    taken: dict[str, int]  # what each counterparty paid
    needed: int  # the budgets the calls asked of ADL, each as its call saw it
    bad_debt: int  # booked as BadDebt


@dataclass
class Run:
    """A cascade under one policy: its rounds and every call made, in order."""

    policy: int
    rounds: list[Round]
    calls: list[Call]
    actors: dict[str, str]


# The opening starts once the Driver has pinned the policy through the Governor's delay.
OPENING_TIME = GENESIS_TIME + genesis.DEFAULT_CONFIG.governance_delay


def actor_names(traders: int) -> tuple[str, ...]:
    return genesis.actor_names(traders)


def lab_actors(traders: int) -> dict[str, str]:
    """The harness's actor names on anvil's accounts and then ``extra_accounts``."""
    names = actor_names(traders)
    addresses = list(ACCOUNTS) + extra_accounts(max(len(names) - len(ACCOUNTS), 0))
    actors = dict(zip(names, addresses, strict=False))
    actors["engine"] = genesis.ENGINE_ADDRESS
    actors["settlement"] = genesis.SETTLEMENT_ADDRESS
    actors["governor"] = genesis.GOVERNOR_ADDRESS
    actors[genesis.ATTACKER] = genesis.ATTACKER_ADDRESS
    return actors


def draw(scenario: Scenario) -> Cascade:
    """Draw a cascade: trader sizes from a heavy tail (a few whales), long leverage mostly
    high (2x to 9.5x), shorts at 1.5x to 4x opening along a rise from 1.00 to 1.30, then
    a crash: drifts of -1% to -6%, gaps of -10% to -25% in about a third of the rounds, an
    occasional bounce."""
    rng = random.Random(scenario.seed)
    traders = genesis.trader_names(scenario.traders)
    liquidator, rest = traders[-1], traders[:-1]
    longs, shorts = rest[: len(rest) * 2 // 3], rest[len(rest) * 2 // 3 :]
    rise = [
        START_PRICE + START_PRICE * 30 * i // (100 * (len(longs) - 1)) for i in range(len(longs))
    ]
    opening: list[Call | Match] = []
    short_notional = {s: 0 for s in shorts}
    trades = []
    for long, price in zip(longs, rise, strict=True):
        lots = min(int(2_000 * rng.paretovariate(1.4)), 200_000)
        leverage = 2 + 7.5 * rng.random() ** 0.5
        short = rng.choice(shorts)
        opening.append(_call("deposit", long, int(lots * price / leverage) + USDC))
        short_notional[short] += lots * price
        trades.append((price, long, short, lots))
    for short in shorts:
        leverage = 1.5 + 2.5 * rng.random()
        opening.append(_call("deposit", short, int(short_notional[short] * 1.3 / leverage) + USDC))
    opening.append(_call("deposit", liquidator, (5_000 + rng.randrange(5_000)) * USDC))
    for i, (price, long, short, lots) in enumerate(trades):
        opening.append(Call(CLOCK, "wait", "", (1,)))
        opening.append(
            Call("engine", "update_price", "oracle", (MARKET, price, OPENING_TIME + 1 + i))
        )
        opening.append(Match(long, short, MARKET, lots, price))
    prices, price = [], rise[-1]
    for _ in range(scenario.rounds + 1):
        move = rng.random()
        if move < 0.3:
            step = -rng.uniform(0.10, 0.25)
        elif move < 0.85:
            step = -rng.uniform(0.01, 0.06)
        else:
            step = rng.uniform(0.01, 0.05)
        price = max(int(price * (1 + step)), 1)
        prices.append(price)
    return Cascade(scenario, tuple(opening), tuple(prices))


def _call(fn: str, sender: str, *args) -> Call:
    return Call("engine", fn, sender, args)


class Driver:
    """Runs calls on a spec state, recording them; reverted calls are kept (they replay)."""

    def __init__(self, traders: int, policy: int):
        self.actors = lab_actors(traders)
        self.names = {a: n for n, a in self.actors.items()}
        self.traders = genesis.trader_names(traders)
        self.state: State = genesis.new_spec_state(
            self.actors, genesis.TOKEN_ADDRESS, genesis.DEFAULT_CONFIG
        )
        for call in genesis.setup_calls(genesis.DEFAULT_CONFIG, traders):
            self.apply(call, record=False)
        self.calls: list[Call] = []
        for call in pin_adl_policy(self, policy):
            reason, _ = self.apply(call)
            assert reason is None, f"{call} reverted: {reason}"
        self.timestamp = 1

    def apply(self, call: Call | Match, record: bool = True) -> tuple[str | None, list]:
        """Run ``call`` (a ``Match`` is signed now, in this state) and record it."""
        if isinstance(call, Match):
            call = call.call(self.state, self.actors)
        self.state, reason, events = spec_apply(self.state, self.actors, call)
        if record:
            self.calls.append(call)
        return reason, events

    def address(self, name: str) -> str:
        return self.actors[name]


def run(cascade: Cascade, policy: int) -> Run:
    """Run ``cascade`` under ``policy`` (set on market 0 first)."""
    scenario = cascade.scenario
    driver = Driver(scenario.traders, policy)
    for call in cascade.opening:
        reason, _ = driver.apply(call)
        assert reason is None, f"opening call {call} reverted: {reason}"
    rounds = []
    liquidator = driver.traders[-1]
    for t in range(scenario.rounds):
        price = cascade.prices[t]
        driver.apply(Call(CLOCK, "wait", "", (ROUND_SECONDS,)))
        timestamp = driver.state.timestamp
        if cascade.other_prices:
            other = (OTHER_MARKET, cascade.other_prices[t], timestamp)
            driver.apply(Call("engine", "update_price", "oracle", other))
        driver.apply(Call("engine", "update_price", "oracle", (MARKET, price, timestamp)))
        round_ = Round(price, cascade.prices[t + 1])
        state = driver.state
        round_.deficit = sum(
            max(-margin.equity(state, a), 0) for a, acc in state.accounts.items() if acc.positions
        )
        for trader in driver.traders[:-1]:
            # the liquidator takes market-0 positions: a cross-margin account left with its
            # market-1 leg alone (flat or winning) is not its business
            address = driver.address(trader)
            if MARKET in driver.state.accounts[address].positions and (
                margin.is_liquidatable(driver.state, address)
            ):
                call = Call("engine", "liquidate", liquidator, (trader, MARKET, MAX_POSITION_SIZE))
                _, events = driver.apply(call)
                round_.fund_draw += _covered(events)
        if len(_bankrupts(driver.state)) > 1:
            round_.reversed = _replay_order(driver, highest_first=True, keeper="outsider")
            round_.unrewarded = (
                _replay_order(driver, highest_first=False, keeper=None),
                _replay_order(driver, highest_first=True, keeper=None),
            )
            round_.price_between = _replay_order(driver, False, None, price_between=price)
        for _ in range(len(driver.traders)):
            bankrupt = _bankrupt(driver)
            if bankrupt is None:
                break
            record = _before_deleverage(driver.state, bankrupt, driver.actors["outsider"])
            reason, events = driver.apply(
                Call("engine", "deleverage", "outsider", (driver.names[bankrupt],))
            )
            assert reason is None, f"deleverage of {bankrupt} reverted: {reason}"
            round_.fund_draw += _covered(events)
            round_.bad_debt += _bad_debt(events)
            _record_charges(record, events)
            round_.deleveragings.append(record)
        state = driver.state
        round_.largest_surviving_profit = max(
            (
                max(margin.unrealized_pnl(p, state.markets[MARKET]), 0)
                for acc in state.accounts.values()
                for m, p in acc.positions.items()
                if m == MARKET
            ),
            default=0,
        )
        rounds.append(round_)
    return Run(policy, rounds, driver.calls, driver.actors)


def _covered(events: list) -> int:
    return sum(args[2] for name, args in events if name == "InsuranceCover")


def _bad_debt(events: list) -> int:
    return sum(args[1] for name, args in events if name == "BadDebt")


def _bankrupts(state: State) -> list[str]:
    """The bankrupt accounts with a position on market 0."""
    return [
        a
        for a, acc in state.accounts.items()
        if MARKET in acc.positions and margin.equity(state, a) < 0
    ]


def _bankrupt(driver: Driver) -> str | None:
    """The bankrupt account with a position on market 0 and the lowest address."""
    found = _bankrupts(driver.state)
    return min(found, key=lambda a: int(a, 16)) if found else None


def _replay_order(
    driver: Driver, highest_first: bool, keeper: str | None, price_between: int | None = None
) -> OrderOutcome:
    """The round's bankrupt accounts deleveraged on a copy of the state (nothing recorded),
    lowest or highest address first, each call by ``keeper`` or, when None, by the
    bankrupt account itself. Against the run's order (lowest first, by an outsider), the
    call-order effect a keeper could choose. With ``price_between``, the oracle publishes
    market 0's price again a second after the first call (the same price: only the
    round's record ends, ``margin.adl_record_live``)."""
    state, taken, needed, bad_debt = driver.state.copy(), {}, 0, 0
    pick = max if highest_first else min
    for call_index in range(len(driver.traders)):
        if price_between is not None and call_index == 1:
            state, _, _ = spec_apply(state, driver.actors, Call(CLOCK, "wait", "", (1,)))
            again = Call(
                "engine", "update_price", "oracle", (MARKET, price_between, state.timestamp)
            )
            state, reason, _ = spec_apply(state, driver.actors, again)
            assert reason is None, f"the price again: {reason}"
        found = _bankrupts(state)
        if not found:
            break
        bankrupt = pick(found, key=lambda a: int(a, 16))
        name = driver.names[bankrupt]
        needed += _before_deleverage(state, bankrupt, driver.actors[keeper or name]).budget
        call = Call("engine", "deleverage", keeper or name, (name,))
        state, reason, events = spec_apply(state, driver.actors, call)
        assert reason is None, f"deleverage of {bankrupt} reverted: {reason}"
        bad_debt += _bad_debt(events)
        for event, args in events:
            if event == "Deleverage":
                taken[args[1]] = taken.get(args[1], 0) + args[5]
    return OrderOutcome(taken, needed, bad_debt)


def _before_deleverage(state: State, bankrupt: str, keeper: str) -> Deleveraging:
    """What ``deleverage`` by ``keeper`` will allocate: the bankrupt position's deficit
    share (as ``process_deleverage`` computes it: by where the loss arose, so a
    cross-margin account's winning leg takes none) and the keeper's reward, after the fund,
    and the opposite side's capacities."""
    position = state.accounts[bankrupt].positions[MARKET]
    size = abs(position.size)
    share = liquidation.compute_equity_share(
        margin.equity(state, bankrupt), *margin.deficit_weights(state, bankrupt, MARKET)
    )
    market = state.markets[MARKET]
    reward = 0
    if keeper != bankrupt and share < 0:  # a keeper's reward joins the share (N9)
        reward = liquidation.compute_keeper_reward(
            size * market.price, market.liquidation_fee_ratio, state.liquidator_share_ratio, -share
        )
    need = -share + reward
    budget = need - min(state.insurance_fund, max(need, 0))
    holders = adl.side_holders(state, MARKET, -sign(position.size))
    return Deleveraging(
        bankrupt,
        -sign(position.size),
        size,
        budget,
        {h.account: h.upnl for h in holders if is_eligible(h)},
        {h.account: h.size for h in holders},
        {h.account: h.entry for h in holders if is_eligible(h)},
        [],
    )


def _record_charges(record: Deleveraging, events: list) -> None:
    for name, args in events:
        if name == "Deleverage":
            counterparty = args[1]
            record.charges.append(
                Charge(
                    counterparty,
                    args[3],
                    args[5],
                    record.capacities.get(counterparty, 0),
                    counterparty in record.capacities,
                )
            )
