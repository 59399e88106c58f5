# pragma version ~=0.4.3
"""
@title Protocol state
@notice Spec: `pyspec/state.py`. A closed position is stored as all-zero fields.
"""

from ethereum.ercs import IERC20
import lib.constants as constants


struct Market:
    initial_margin_ratio: uint256
    maintenance_margin_ratio: uint256
    liquidation_fee_ratio: uint256
    price_band_ratio: uint256
    # The funding rate is clamped to +/- this (parts per FUNDING_RATE_PRECISION per second).
    max_funding_rate: uint256
    maker_fee_ratio: uint256
    taker_fee_ratio: uint256
    # ADL_POLICY_* (contracts/AdlAllocator.vy).
    adl_policy: uint256
    # A risk-relevant action needs a price no older than this (seconds).
    max_price_age: uint256
    # A trade may not leave a position below this notional (collateral units), except at
    # zero: holder slots cost real margin (issue 12, L3).
    min_position_notional: uint256
    price: uint256
    price_timestamp: uint256
    # Sum of long sizes, equal to the sum of short sizes.
    open_interest: uint256
    # Funding per lot paid by longs to shorts, cumulative, in FUNDING_INDEX_SCALE units.
    funding_index: int256
    # Rounding kept from settlements, in index units (below the scale after each booking).
    funding_residue: uint256
    # Funding paid by longs to shorts per second, parts per FUNDING_RATE_PRECISION of price.
    funding_rate: int256
    # When the index last accrued: it holds every second up to here.
    funding_timestamp: uint256
    # Paused by the guardian: no trade may add risk; exits go on.
    paused: bool
    # Delisted: every position settles at `price`, lazily; no price, rate or trade after.
    settled: bool
    # The listing's tag in its slot: 0 for a deployment's listing, else keccak256 of the
    # previous one, the parameters and the asset, >> 3 (EngineGovernance.add_market); orders and
    # Governor calls name the listing, slot + MAX_MARKETS x generation (issue 18, N1).
    generation: uint256
    # Each side's ADL round (issue 19): odd while a deleverage's records on that side may
    # be charged, even once a deleverage or a deficit gate scan of the side found no
    # bankrupt holder opposite (`margin.next_adl_round`).
    long_adl_round: uint256
    short_adl_round: uint256


struct Position:
    size: int256
    # Signed cost basis: what opening cost (+ long, - short).
    entry_notional: int256
    # The market's funding index when the position was last settled.
    funding_checkpoint: int256
    # One word, so a fill writes one slot: the ADL round of its side when the record was
    # made << ADL_ROUND_SHIFT | the engine's fill counter at the fill that last changed it
    # (N1) << LAST_FILL_SHIFT | what ADL charged it in that round << ADL_PAID_SHIFT | the
    # profit ADL fills realized in that round and no charge took (`margin.adl_capacity`,
    # `margin.adl_paid`, issue 19). The spec keeps the four fields `adl_round`,
    # `last_fill`, `adl_paid` and `adl_profit`; a fill clears the record and keeps the
    # fill number.
    stamp: uint256


token: public(IERC20)
# The timelock (contracts/Governor.vy): the only caller of role and parameter changes;
# its owner lists markets and withdraws the fund.
governor: public(address)
oracle: public(address)
# Pauses and resumes markets; the deployer until the governor names another.
guardian: public(address)
# The only caller of settle_trade: the signed-order contract (contracts/Settlement.vy).
settlement: public(address)
liquidator_share_ratio: public(uint256)
insurance_floor: public(uint256)
insurance_fund: public(uint256)
# Deficit of closed bankrupt accounts that neither the fund nor ADL covered; repaid first
# by everything that flows into the fund.
bad_debt: public(uint256)
# Fills applied so far: each stamps the position it changes, so an exit request names one
# position for good (issue 18, N1).
fill_count: public(uint256)

market_count: public(uint256)
markets: public(HashMap[uint256, Market])
# Accounts with an open position, per market: the set the ADL scan ranks.
holders: public(HashMap[uint256, DynArray[address, constants.MAX_POSITIONS_PER_MARKET]])

# Signed: realized losses may take it below zero until the waterfall assigns the deficit.
collateral: public(HashMap[address, int256])
positions: public(HashMap[address, HashMap[uint256, Position]])
# What others (the fund, ADL winners, bad debt) paid for an account's deficit while it kept
# positions: repaid first from its later equity (margin.repay_booked, M-1).
booked: public(HashMap[address, uint256])
# New money (issue 18): per account, its loss epoch << NEW_MONEY_EPOCH_SHIFT | what it
# deposited in that epoch while bad debt was recorded and still holds (`margin.new_money`).
fresh: public(HashMap[address, uint256])
# Bad debt recordings so far: each starts a new epoch (`margin.lapse_new_money`).
loss_epoch: public(uint256)
# The new money of the current epoch, summed over accounts (the loss rule's F).
fresh_total: public(uint256)
