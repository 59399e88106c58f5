"""The lab's second generator: cascades drawn differently from ``cascade.draw``.

Many winners, each a short opened at its own price along a rise from 1.00 to 1.40 with a
Pareto size (a few whales, a long tail), so their PnL% differ widely; losers in cohorts
of 2 to 5 longs that opened together and at nearly the same leverage, so a gap takes a
cohort through bankruptcy together (several bankrupt accounts in one round); and half
the losers cross-margined, with a long on market 1 whose price drifts up (flat or
winning) while market 0 crashes, so their deficit arose on market 0 alone. The market's
capacity is respected as in ``cascade.draw``: one market-0 position per trader.
"""

from __future__ import annotations

import random

from harness.core import genesis
from harness.core.call import CLOCK, Call
from harness.core.orders import Match
from harness.lab.cascade import (
    MARKET,
    OPENING_TIME,
    OTHER_MARKET,
    START_PRICE,
    USDC,
    Cascade,
    Scenario,
)

OTHER_PRICE = genesis.DEFAULT_CONFIG.markets[OTHER_MARKET].initial_price
OTHER_IM = genesis.DEFAULT_CONFIG.markets[OTHER_MARKET].initial_margin_ratio  # of 1e6
RISE = 40  # percent: the top of the rise the shorts open along
MAX_LOTS = 150_000  # a whale's cap, so the longs' deposits stay within TRADER_FUNDS
# Two longs and two shorts at least, besides the liquidator.
MIN_TRADERS = 5


def _cohorts(rng: random.Random, longs: list[str], shorts: int) -> list[list[str]]:
    """The longs in cohorts of 2 to 5 (at most one per short, as each opens against a
    contiguous run of shorts); a last single long joins the previous cohort."""
    cohorts: list[list[str]] = []
    rest = list(longs)
    while rest:
        take = min(rng.randint(2, 5), len(rest))
        cohorts.append(rest[:take])
        rest = rest[take:]
    while len(cohorts) > 1 and (len(cohorts[-1]) == 1 or len(cohorts) > shorts):
        last = cohorts.pop()
        cohorts[-1] += last
    return cohorts


def _crash(rng: random.Random, top: int, rounds: int) -> tuple[int, ...]:
    """Gaps of -12% to -30% in 40% of the rounds, drifts of -1% to -5%, a bounce in 10%."""
    prices, price = [], top
    for _ in range(rounds + 1):
        move = rng.random()
        if move < 0.4:
            step = -rng.uniform(0.12, 0.30)
        elif move < 0.9:
            step = -rng.uniform(0.01, 0.05)
        else:
            step = rng.uniform(0.01, 0.04)
        price = max(int(price * (1 + step)), 1)
        prices.append(price)
    return tuple(prices)


def draw(scenario: Scenario) -> Cascade:
    """Draw a cascade (see the module docstring); the same seed draws the same one."""
    if scenario.traders < MIN_TRADERS:
        raise ValueError(f"traders: the wide generator needs at least {MIN_TRADERS}")
    rng = random.Random(scenario.seed)
    traders = genesis.trader_names(scenario.traders)
    liquidator, rest = traders[-1], traders[:-1]
    count = max(2, len(rest) * 2 // 5)
    longs, shorts = rest[:count], rest[count:]
    cohorts = _cohorts(rng, longs, len(shorts))
    # each short at its own price along the rise, a Pareto size
    rise = [
        START_PRICE + START_PRICE * RISE * j // (100 * (len(shorts) - 1))
        for j in range(len(shorts))
    ]
    top = rise[-1]
    # cohort c opens against a contiguous run of shorts, so its longs share entry prices
    bounds = sorted(rng.sample(range(1, len(shorts)), len(cohorts) - 1))
    runs = list(zip([0, *bounds], [*bounds, len(shorts)], strict=True))
    trades: list[tuple[int, str, str, int]] = []
    notional = {t: 0 for t in rest}
    deposits = {t: USDC for t in rest}
    for cohort, (first, last) in zip(cohorts, runs, strict=True):
        leverage = 200 + int(750 * rng.random() ** 0.5)  # hundredths: 2x to 9.5x
        for j in range(first, last):
            lots = min(int(1_500 * rng.paretovariate(1.2)), MAX_LOTS)
            weights = [rng.randrange(10, 110) for _ in cohort]
            shares = [lots * w // sum(weights) for w in weights]
            shares[0] += lots - sum(shares)
            for long, share in zip(cohort, shares, strict=True):
                trades.append((rise[j], long, shorts[j], share))
                notional[long] += share * rise[j]
            # margin at the top of the rise at 1.5x to 4x, plus the loss up to the top
            short_leverage = 150 + rng.randrange(251)
            deposits[shorts[j]] += lots * top * 100 // short_leverage + lots * (top - rise[j])
        for long in cohort:
            member = min(leverage * rng.randint(97, 103) // 100, 950)
            deposits[long] += notional[long] * 100 // member
    # cross-margin: half the longs also buy market 1 from a short, at 20-50% of their
    # market-0 notional, margined at market 1's initial ratio
    others = []
    for long in rng.sample(longs, max(1, len(longs) // 2)):
        lots = max(notional[long] * rng.randrange(20, 51) // (100 * OTHER_PRICE), 1)
        short = rng.choice(shorts)
        leg = lots * OTHER_PRICE
        deposits[long] += leg * OTHER_IM // 10**6 + leg // 500  # + twice the taker fee (0.1%)
        deposits[short] += leg * 2 * OTHER_IM // 10**6  # room for market 1's drift up
        others.append(Match(long, short, OTHER_MARKET, lots, OTHER_PRICE))
    opening: list[Call | Match] = [Call("engine", "deposit", t, (deposits[t],)) for t in rest]
    opening.append(Call("engine", "deposit", liquidator, ((5_000 + rng.randrange(5_000)) * USDC,)))
    for i, (price, long, short, lots) in enumerate(trades):
        opening.append(Call(CLOCK, "wait", "", (1,)))
        opening.append(
            Call("engine", "update_price", "oracle", (MARKET, price, OPENING_TIME + 1 + i))
        )
        opening.append(Match(long, short, MARKET, lots, price))
    opening += others
    other_prices, price = [], OTHER_PRICE
    for _ in range(scenario.rounds):
        price += price * rng.randrange(0, 101) // 10_000  # 0% to +1%: flat or winning
        other_prices.append(price)
    return Cascade(scenario, tuple(opening), _crash(rng, top, scenario.rounds), tuple(other_prices))
