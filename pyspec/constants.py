"""Constants and the precision table. Contract counterpart: ``contracts/lib/constants.vy``.

Precision table (every quantity is an integer in the unit given):

| quantity              | unit                                         | example                      |
|-----------------------|----------------------------------------------|------------------------------|
| collateral, equity    | token base units (6 decimals, 1e6 = 1 USDC)  | 2_500_000 = 2.5 USDC         |
| position size         | lots of the market's asset, signed (+ long)  | 3 = 3 lots                   |
| price                 | collateral base units per lot                | 2_000_000 = 2 USDC per lot   |
| notional              | size x price, exact (no division)            | 3 lots x 2e6 = 6_000_000     |
| entry notional        | signed notional paid to open (+ long)        |                              |
| ratios (margin, fees) | parts per RATIO_PRECISION (1e6 = 100%)       | 50_000 = 5%                  |
| funding rate          | signed, parts per FUNDING_RATE_PRECISION (1e12) of price per second | 1_388_888 = 0.5%/hour |
| funding index         | FUNDING_INDEX_SCALE-ths of a collateral unit per lot, cumulative |  |
| trading fee           | parts per RATIO_PRECISION of notional        | 500 = 0.05%                  |

A lot is whatever base quantity the market lists (e.g. 0.001 ETH); choosing it fixes the
price tick. Because notional = size x price has no division, position values, funding and
ADL charges are exact integers, and the sum of all equity is conserved exactly.
The funding index is kept in FUNDING_INDEX_SCALE-ths of a collateral unit per lot, so an
accrual step rate x elapsed seconds x price is exact at any price. An account's funding rounds once, down
(toward the protocol: a payer pays the ceiling, a receiver gets the floor); each residue
is kept per market, exactly, and every whole unit of it goes to the insurance fund, so
funding stays zero-sum and conservation exact.
"""

COLLATERAL_DECIMALS = 6
RATIO_PRECISION = 10**6

MAX_MARKETS = 8
# The no-dodge gate's mask naming every market (``engine._require_fresh_account``).
EVERY_MARKET = (1 << MAX_MARKETS) - 1
# ADL scans the opposite side of one market on chain; this bound keeps the worst case
# well under a 30M gas block (measured figures in README).
MAX_POSITIONS_PER_MARKET = 32
# Holder slots a trade may not take: kept for liquidators taking positions over, so an
# outside liquidator can enter a market that trades have filled (issue 12, L3).
LIQUIDATOR_RESERVE = 4

MAX_PRICE = 10**12
MAX_TRADE_SIZE = 10**9
# |size| of any position: notional <= MAX_POSITION_SIZE x MAX_PRICE = 1e24, so the ADL rank
# cross-products (PnL x entry notional) stay below 2**162 (see SPEC.md, Bounds).
MAX_POSITION_SIZE = 10**12
MAX_DEPOSIT = 10**15

# A partial liquidation that would leave less notional than this closes the whole position.
LIQUIDATION_DUST_NOTIONAL = 10 * 10**6
# Extra shortfall, in collateral units, covering the rounding of a partial liquidation
# (1 unit for the ceil of the maintenance requirement, 1 for the ceil of the penalty).
LIQUIDATION_SIZE_SLACK = 2
# Every successful liquidation pays its liquidator at least this (the fund finances it
# when the account cannot).
MIN_LIQUIDATION_REWARD = 1
# A deleverage's keeper reward is at most this (N9): enough for the gas of a complete
# deleverage at the bounds (about 7.3M gas), never a prize worth bankrupting a position for.
MAX_KEEPER_REWARD = 100 * 10**6

ADL_QUANTILES = 5
# The contract packs a position's stamp into one word, so a fill writes one slot: its ADL
# round (issue 19), above the fill that last changed it (N1), above what ADL charged it in
# the round, above the profit ADL fills realized in the round and no charge took
# (``Position.adl_round``, ``last_fill``, ``adl_paid``, ``adl_profit``). Each field is far
# inside its bits: a profit or a round's charges are at most MAX_POSITION_SIZE x MAX_PRICE
# (< 2^80: a round's charges never exceed the profit its position held), and a fill or a
# round counts calls (< 2^48: 2.8e14 calls).
ADL_ROUND_SHIFT = 208
LAST_FILL_SHIFT = 160
LAST_FILL_MASK = 2**48 - 1
ADL_PAID_SHIFT = 80
ADL_AMOUNT_MASK = 2**80 - 1  # the paid and the profit fields each
# The contract packs an account's new money (issue 18) into one word: its loss epoch
# above the amount (``Account.fresh_epoch``, ``Account.fresh``).
NEW_MONEY_EPOCH_SHIFT = 128
NEW_MONEY_MASK = 2**128 - 1

# ADL allocation policies, a market parameter (pyspec/adl_allocator.py); the names are
# the configuration's.
ADL_POLICY_QUEUE = 0
ADL_POLICY_PNL_PRO_RATA = 1
ADL_POLICY_LEVERAGE_PRO_RATA = 2
ADL_POLICY_CONTRACT_PRO_RATA = 3
ADL_POLICY_NAMES = ("queue", "pnl_pro_rata", "leverage_pro_rata", "contract_pro_rata")
ADL_POLICY_COUNT = len(ADL_POLICY_NAMES)
# Leverage weights are clamped to this (1000x, in RATIO_PRECISION units): weight x budget
# stays below 2**200 at every declared bound.
MAX_ADL_LEVERAGE = 1000 * RATIO_PRECISION

# Units of the funding index per collateral unit per lot (a multiple of
# FUNDING_RATE_PRECISION, so that an accrual step rate x elapsed x price x
# FUNDING_INDEX_SCALE / FUNDING_RATE_PRECISION is exact).
FUNDING_INDEX_SCALE = 10**12
# A funding rate is in parts per FUNDING_RATE_PRECISION of the price per second
# (1 = 0.0000036% per hour).
FUNDING_RATE_PRECISION = 10**12
# Upper bound of a market's funding rate bound: 100% of the price per hour.
MAX_FUNDING_RATE = FUNDING_RATE_PRECISION // 3600

# Upper bound of a market's maximum price age (seconds): a week.
MAX_PRICE_AGE = 7 * 24 * 3600

# Upper bound of a market's maker and taker fees.
MAX_FEE_RATIO = 10**5

# Upper bound of a market's minimum position notional (collateral units): 1M USDC.
MAX_MIN_POSITION_NOTIONAL = 10**12

# A trader's exit request stands this long (seconds) before its escape may settle the
# market (``settlement.process_escape``).
EXIT_DELAY = 24 * 3600

# An exit request lapses this long (seconds) after its deadline: a forgotten request
# cannot settle a market weeks later (N1).
EXIT_WINDOW = 24 * 3600

# Bounds of the governance delay (``pyspec/governor.py``), and how long a call stays
# executable once its delay has passed.
# At least a whole exit path (EXIT_DELAY + EXIT_WINDOW): a change that bears on open
# positions lands only after a trader who disagrees could have left by the escape (N6).
MIN_GOVERNANCE_DELAY = 2 * 24 * 3600
MAX_GOVERNANCE_DELAY = 30 * 24 * 3600
GOVERNANCE_GRACE_PERIOD = 14 * 24 * 3600
