# pragma version ~=0.4.3
# pragma optimize codesize
# pragma nonreentrancy on
"""
@title The engine's privileged entry points
@notice Spec: `pyspec/governance.py`. Listing, parameters, roles, the guardian's pause,
        final settlement, the fund's withdrawal, and the oracle's prices and funding rates. This contract's code runs in the
        engine's storage: the engine (contracts/PerpEngine.vy) forwards every call it does
        not implement here by delegatecall, so these functions are the engine's, at the
        engine's address, with its events; called directly, they would act on this
        contract's own, empty storage. Kept apart for the engine's EIP-170 budget.
        Both contracts lay out storage through `engine.storage` alone (a test compares
        the layouts).
"""

import lib.constants as constants
import engine.storage as storage
import engine.margin as margin
import engine.checks as checks
import engine.funding as funding
import AdlAllocator

initializes: storage
initializes: margin[storage := storage]
initializes: checks[storage := storage, margin := margin]


event MarketAdded:
    market: indexed(uint256)
    key: uint256  # slot + MAX_MARKETS x generation: what orders and Governor calls name
    asset: bytes32  # what the market trades, as the listing named it


event MarketParamsSet:
    market: indexed(uint256)
    initial_margin_ratio: uint256
    maintenance_margin_ratio: uint256
    liquidation_fee_ratio: uint256
    price_band_ratio: uint256
    max_funding_rate: uint256
    maker_fee_ratio: uint256
    taker_fee_ratio: uint256
    adl_policy: uint256
    max_price_age: uint256
    min_position_notional: uint256


event OracleSet:
    oracle: indexed(address)


event GuardianSet:
    guardian: indexed(address)


event MarketPaused:
    market: indexed(uint256)
    paused: bool


event MarketSettled:
    market: indexed(uint256)
    price: uint256


event PriceUpdated:
    market: indexed(uint256)
    price: uint256
    timestamp: uint256


event FundingRateSet:
    market: indexed(uint256)
    requested_rate: int256
    applied_rate: int256
    funding_index: int256


event InsuranceWithdrawal:
    receiver: indexed(address)
    amount: uint256


interface IGovernor:
    def owner() -> address: view


# The listing bounds (contracts/AdlAllocator.vy), the engine's own allocator.
adl_allocator: public(immutable(AdlAllocator.__interface__))


@deploy
def __init__(allocator: AdlAllocator.__interface__):
    """
    @notice Deploy with the allocator the engine is deployed with.
    """
    adl_allocator = allocator


@internal
@view
def _require_owner():
    assert msg.sender == self._owner(), "auth: not owner"


@internal
@view
def _owner() -> address:
    """
    @notice The Governor's owner (one call site for the owner check and the fund's receiver).
    """
    return staticcall IGovernor(storage.governor).owner()


@internal
@view
def _require_governor():
    assert msg.sender == storage.governor, "auth: not governor"


@external
def add_market(params: AdlAllocator.MarketParams, asset: bytes32):
    """
    @notice List a market with its parameters: through the governor's timelock; its owner
            lists at once only while the engine holds no tokens (the deployment's
            markets), since a listing binds the shared fund (N6). A new slot while there
            is one, then the lowest slot of a settled market no position holds any more
            (N1). The key, slot + MAX_MARKETS x generation, names this listing alone:
            generation = keccak256(abi_encode(previous generation, params, asset)) >> 3
            (`asset`: what it trades, so two assets on one risk tier differ), except
            for the deployment's listings into new slots (0), so an order or a Governor
            call made for any other listing, settled or not yet made, never lands on it
            (issue 18). Spec: `governance.process_add_market`, `governance.next_generation`.
    """
    if msg.sender != storage.governor:
        self._require_owner()
        assert (
            checks.token_balance() == 0
        ), "market: listing needs the timelock"
    market_id: uint256 = self._free_slot()
    assert market_id < constants.MAX_MARKETS, "market: too many markets"
    self._check_params(params)
    fresh: bool = market_id == storage.market_count
    if fresh:
        storage.market_count = market_id + 1
    else:
        # a new market in a freed slot: its index, residue and last price time go on
        storage.markets[market_id].settled = False
        storage.markets[market_id].paused = False
        storage.markets[market_id].price = 0
    if msg.sender == storage.governor or not fresh:  # a deployment's listing keeps 0
        # the key names these parameters after this predecessor: no other listing
        storage.markets[market_id].generation = convert(
            keccak256(abi_encode(storage.markets[market_id].generation, params, asset)),
            uint256,
        ) >> 3
    storage.markets[market_id].funding_timestamp = block.timestamp
    log MarketAdded(
        market=market_id,
        key=market_id + constants.MAX_MARKETS * storage.markets[market_id].generation,
        asset=asset,
    )
    self._store_params(market_id, params)


@internal
@view
def _free_slot() -> uint256:
    """
    @notice A new slot while there is one, then the lowest slot of a settled market that
            no position holds any more; MAX_MARKETS when there is none.
            Spec: `governance._free_slot`.
    """
    if storage.market_count < constants.MAX_MARKETS:
        return storage.market_count
    for slot: uint256 in range(constants.MAX_MARKETS):
        if storage.markets[slot].settled and len(storage.holders[slot]) == 0:
            return slot
    return constants.MAX_MARKETS


@internal
@view
def _market_slot(market_key: uint256) -> uint256:
    """
    @notice The slot of the listing `market_key` names: slot + MAX_MARKETS x generation.
            A Governor call made for a market settled since never lands on the next one
            listed in its slot. Spec: `governance.market_slot`.
    """
    slot: uint256 = market_key % constants.MAX_MARKETS
    assert (
        slot < storage.market_count
        and market_key // constants.MAX_MARKETS == storage.markets[slot].generation
    ), "market: unknown market"
    return slot


@external
def set_market_params(market_key: uint256, params: AdlAllocator.MarketParams):
    """
    @notice Change a live market's parameters, its ADL policy included (the governor
            only, so after its delay), within the listing bounds; the market named by its
            key (`_market_slot`). The index first accrues at the old rate; a rate above a
            lowered bound is clamped to it. Spec: `governance.process_set_market_params`.
    """
    self._require_governor()
    market_id: uint256 = self._market_slot(market_key)
    checks.require_live(market_id)
    self._check_params(params)
    margin.accrue_funding(market_id)
    storage.markets[market_id].funding_rate = funding.clamp_funding_rate(
        storage.markets[market_id].funding_rate, params.max_funding_rate
    )
    self._store_params(market_id, params)


@internal
@view
def _check_params(params: AdlAllocator.MarketParams):
    """
    @notice Refuse parameters outside the listing bounds (the allocator's reasons).
    """
    assert staticcall adl_allocator.check_market_params(params)


@internal
def _store_params(market_id: uint256, params: AdlAllocator.MarketParams):
    market: storage.Market = storage.markets[market_id]
    market.initial_margin_ratio = params.initial_margin_ratio
    market.maintenance_margin_ratio = params.maintenance_margin_ratio
    market.liquidation_fee_ratio = params.liquidation_fee_ratio
    market.price_band_ratio = params.price_band_ratio
    market.max_funding_rate = params.max_funding_rate
    market.maker_fee_ratio = params.maker_fee_ratio
    market.taker_fee_ratio = params.taker_fee_ratio
    market.adl_policy = params.adl_policy
    market.max_price_age = params.max_price_age
    market.min_position_notional = params.min_position_notional
    storage.markets[market_id] = market
    log MarketParamsSet(
        market=market_id,
        initial_margin_ratio=params.initial_margin_ratio,
        maintenance_margin_ratio=params.maintenance_margin_ratio,
        liquidation_fee_ratio=params.liquidation_fee_ratio,
        price_band_ratio=params.price_band_ratio,
        max_funding_rate=params.max_funding_rate,
        maker_fee_ratio=params.maker_fee_ratio,
        taker_fee_ratio=params.taker_fee_ratio,
        adl_policy=params.adl_policy,
        max_price_age=params.max_price_age,
        min_position_notional=params.min_position_notional,
    )


@external
def set_oracle(oracle: address):
    """
    @notice Name the oracle (the governor only). Spec: `governance.process_set_oracle`.
    """
    self._require_governor()
    storage.oracle = oracle
    log OracleSet(oracle=oracle)


@external
def set_guardian(guardian: address):
    """
    @notice Name the guardian, who pauses and resumes markets (the governor only).
            Spec: `governance.process_set_guardian`.
    """
    self._require_governor()
    storage.guardian = guardian
    log GuardianSet(guardian=guardian)


@external
def update_price(market_id: uint256, price: uint256, timestamp: uint256):
    """
    @notice Publish an oracle price (collateral units per lot); then end every side's
            round that no bankrupt holder is opposite any more: a price may rescue the
            last one (issue 19). Spec: `governance.process_update_price`.
    """
    assert msg.sender == storage.oracle, "auth: not oracle"
    checks.require_live(market_id)
    assert price > 0, "oracle: zero price"
    assert price <= constants.MAX_PRICE, "oracle: price too large"
    assert timestamp > storage.markets[market_id].price_timestamp, "oracle: stale timestamp"
    assert timestamp <= block.timestamp, "oracle: future timestamp"
    margin.accrue_funding(market_id)
    storage.markets[market_id].price = price
    storage.markets[market_id].price_timestamp = timestamp
    for other: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        checks.end_resolved_round(other, 1)
        checks.end_resolved_round(other, -1)
    log PriceUpdated(market=market_id, price=price, timestamp=timestamp)


@external
def set_funding_rate(market_id: uint256, rate: int256):
    """
    @notice Set the funding rate paid from now on (oracle only; parts per
            FUNDING_RATE_PRECISION of the price per second, clamped to the market's
            bound): the index first accrues at the old rate.
            Spec: `governance.process_set_funding_rate`.
    """
    assert msg.sender == storage.oracle, "auth: not oracle"
    checks.require_live(market_id)
    assert storage.markets[market_id].price > 0, "market: no price"
    checks.require_fresh(market_id)
    margin.accrue_funding(market_id)
    applied: int256 = funding.clamp_funding_rate(rate, storage.markets[market_id].max_funding_rate)
    storage.markets[market_id].funding_rate = applied
    log FundingRateSet(
        market=market_id,
        requested_rate=rate,
        applied_rate=applied,
        funding_index=storage.markets[market_id].funding_index,
    )


@external
def set_market_paused(market_id: uint256, paused: bool):
    """
    @notice Pause a market (no trade may add risk; reductions, deposits, withdrawals of
            free collateral, liquidation and ADL go on) or resume it (guardian only).
            Spec: `governance.process_set_market_paused`.
    """
    assert msg.sender == storage.guardian, "auth: not guardian"
    checks.require_market(market_id)
    storage.markets[market_id].paused = paused
    log MarketPaused(market=market_id, paused=paused)


@external
def delist_market(market_key: uint256):
    """
    @notice Final settlement: freeze the market at its fresh oracle price (the governor,
            or the Settlement when a trader's unserved exit request escapes; never at a
            stale price, N3), once no holder is bankrupt there: each bankruptcy goes
            through the live waterfall first (`deleverage`, N2). Funding stops; every position settles at that price the
            next time its account is touched, zero-sum. The market is named by its key
            (`_market_slot`). Spec: `governance.process_delist_market`.
    """
    assert (
        msg.sender == storage.governor or msg.sender == storage.settlement
    ), "auth: not governor"
    market_id: uint256 = self._market_slot(market_key)
    checks.require_live(market_id)
    price: uint256 = storage.markets[market_id].price
    assert price > 0, "market: no price"
    checks.require_fresh(market_id)
    assert checks.solvent_holders(market_id, 0), "market: bankrupt holder"
    margin.accrue_funding(market_id)
    storage.markets[market_id].funding_rate = 0
    storage.markets[market_id].settled = True
    log MarketSettled(market=market_id, price=price)


@external
def withdraw_insurance(amount: uint256):
    """
    @notice Governance withdrawal to the governor's owner, through the timelock (N6: never
            sprung in front of a price move), never below the floor and never while bad
            debt is known: recorded, or a holder at negative equity (a scan of every
            market's holders). Spec: `governance.process_withdraw_insurance`.
    """
    self._require_governor()
    receiver: address = self._owner()
    assert amount > 0, "insurance: zero amount"
    assert storage.bad_debt == 0, "insurance: bad debt pending"
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        if len(storage.holders[market_id]) > 0:
            checks.require_fresh(market_id)
        assert checks.solvent_holders(market_id, 0), "insurance: bad debt pending"
    assert checks.covers(
        convert(storage.insurance_fund, int256) - convert(storage.insurance_floor, int256), amount
    ), "insurance: below floor"
    storage.insurance_fund -= amount
    checks.push(receiver, amount)
    log InsuranceWithdrawal(receiver=receiver, amount=amount)
