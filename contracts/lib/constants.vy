# pragma version ~=0.4.3
"""
@title Protocol constants
@notice Same names and values as `pyspec/constants.py`, which holds the precision table:
        collateral in token base units (6 decimals), sizes in lots, prices in collateral
        base units per lot, ratios in parts per RATIO_PRECISION.
"""

RATIO_PRECISION: constant(int256) = 10**6

MAX_MARKETS: constant(uint256) = 8
# The no-dodge gate's mask naming every market (`PerpEngine._require_fresh_account`).
EVERY_MARKET: constant(uint256) = (1 << MAX_MARKETS) - 1
# Bounds the on-chain ADL scan of one market's holders (gas figures in README).
MAX_POSITIONS_PER_MARKET: constant(uint256) = 32
# Holder slots a trade may not take: kept for liquidators taking positions over, so an
# outside liquidator can enter a market that trades have filled (issue 12, L3).
LIQUIDATOR_RESERVE: constant(uint256) = 4

MAX_PRICE: constant(uint256) = 10**12
MAX_TRADE_SIZE: constant(uint256) = 10**9
# |size| of any position: keeps the ADL rank cross-products below 2**162.
MAX_POSITION_SIZE: constant(int256) = 10**12
MAX_DEPOSIT: constant(uint256) = 10**15

LIQUIDATION_DUST_NOTIONAL: constant(int256) = 10 * 10**6
LIQUIDATION_SIZE_SLACK: constant(int256) = 2
# Every successful liquidation pays its liquidator at least this.
MIN_LIQUIDATION_REWARD: constant(int256) = 1
# A deleverage's keeper reward is at most this (N9): enough for the gas of a complete
# deleverage at the bounds (about 7.3M gas), never a prize worth bankrupting a position for.
MAX_KEEPER_REWARD: constant(int256) = 100 * 10**6

ADL_QUANTILES: constant(uint256) = 5
# A position's stamp packs its ADL round (issue 19) above its last fill (N1) above what
# ADL charged it in the round above the round's ADL profit: one slot a fill writes
# (`storage.Position.stamp`). A profit or a round's charges stay below 2^80, a fill or a
# round below 2^48.
ADL_ROUND_SHIFT: constant(uint256) = 208
LAST_FILL_SHIFT: constant(uint256) = 160
LAST_FILL_MASK: constant(uint256) = 2**48 - 1
ADL_PAID_SHIFT: constant(uint256) = 80
ADL_AMOUNT_MASK: constant(uint256) = 2**80 - 1
# An account's new money packs its loss epoch above the amount (issue 18,
# `storage.fresh`); the amount is at most its collateral, far below 2^128.
NEW_MONEY_EPOCH_SHIFT: constant(uint256) = 128
NEW_MONEY_MASK: constant(uint256) = 2**128 - 1

# ADL allocation policies, a market parameter (contracts/AdlAllocator.vy).
ADL_POLICY_QUEUE: constant(uint256) = 0
ADL_POLICY_PNL_PRO_RATA: constant(uint256) = 1
ADL_POLICY_LEVERAGE_PRO_RATA: constant(uint256) = 2
ADL_POLICY_CONTRACT_PRO_RATA: constant(uint256) = 3
ADL_POLICY_COUNT: constant(uint256) = 4
# Leverage weights are clamped to this (1000x): weight x budget stays below 2**200.
MAX_ADL_LEVERAGE: constant(int256) = 1000 * 10**6

# Units of the funding index per collateral unit per lot (a multiple of
# FUNDING_RATE_PRECISION, so that an accrual step is exact).
FUNDING_INDEX_SCALE: constant(int256) = 10**12
# A funding rate is in parts per FUNDING_RATE_PRECISION of the price per second
# (1 = 0.0000036% per hour).
FUNDING_RATE_PRECISION: constant(int256) = 10**12
# Upper bound of a market's funding rate bound: 100% of the price per hour.
MAX_FUNDING_RATE: constant(uint256) = 10**12 // 3600

# Upper bound of a market's maximum price age (seconds): a week.
MAX_PRICE_AGE: constant(uint256) = 7 * 24 * 3600

# Upper bound of a market's maker and taker fees.
MAX_FEE_RATIO: constant(uint256) = 10**5

# Upper bound of a market's minimum position notional (collateral units): 1M USDC.
MAX_MIN_POSITION_NOTIONAL: constant(uint256) = 10**12

# A trader's exit request stands this long (seconds) before its escape may settle the
# market (contracts/Settlement.vy `escape`).
EXIT_DELAY: constant(uint256) = 24 * 3600

# An exit request lapses this long (seconds) after its deadline: a forgotten request
# cannot settle a market weeks later (N1).
EXIT_WINDOW: constant(uint256) = 24 * 3600

# Bounds of the governance delay (contracts/Governor.vy), and how long a call stays
# executable once its delay has passed.
# At least a whole exit path (EXIT_DELAY + EXIT_WINDOW): a change that bears on open
# positions lands only after a trader who disagrees could have left by the escape (N6).
MIN_GOVERNANCE_DELAY: constant(uint256) = 2 * 24 * 3600
MAX_GOVERNANCE_DELAY: constant(uint256) = 30 * 24 * 3600
GOVERNANCE_GRACE_PERIOD: constant(uint256) = 14 * 24 * 3600

# Upper bound of the flat state dump read by the differential harness: a full market
# of holders plus the roles and the attacker contract.
MAX_DUMP_ACCOUNTS: constant(uint256) = 40
