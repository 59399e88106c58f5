# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Cross-margin perpetual futures engine
@notice Spec: `pyspec/engine.py` (entry points) and `pyspec/views.py` (views). Every check
        runs in the spec's order with the spec's reason string, so a rejected call fails
        identically on both sides.
"""

from ethereum.ercs import IERC20
import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.margin as margin
import engine.positions as fills  # aliased: `positions` is the exported storage getter
import engine.liquidation as liquidation
import engine.adl as adl
import engine.funding as funding
import engine.fees as fees

initializes: storage
initializes: margin[storage := storage]
initializes: fills[storage := storage, margin := margin]
initializes: adl[storage := storage, margin := margin]

exports: (
    storage.token,
    storage.owner,
    storage.oracle,
    storage.operator,
    storage.liquidator_share_ratio,
    storage.insurance_floor,
    storage.insurance_fund,
    storage.market_count,
    storage.markets,
    storage.collateral,
    storage.positions,
)


event MarketAdded:
    market: indexed(uint256)
    initial_margin_ratio: uint256
    maintenance_margin_ratio: uint256
    liquidation_fee_ratio: uint256
    price_band_ratio: uint256
    max_funding_rate: uint256
    maker_fee_ratio: uint256
    taker_fee_ratio: uint256


event PriceUpdated:
    market: indexed(uint256)
    price: uint256
    timestamp: uint256


event FundingUpdated:
    market: indexed(uint256)
    requested_rate: int256
    applied_rate: int256
    index_delta: int256
    funding_index: int256


event Deposit:
    account: indexed(address)
    amount: uint256


event Withdrawal:
    account: indexed(address)
    amount: uint256


event Trade:
    buyer: indexed(address)
    seller: indexed(address)
    market: indexed(uint256)
    size: uint256
    price: uint256
    buyer_fee: uint256
    seller_fee: uint256


event Liquidation:
    account: indexed(address)
    liquidator: indexed(address)
    market: indexed(uint256)
    size: uint256
    price: uint256
    penalty: uint256
    liquidator_reward: uint256


event InsuranceCover:
    account: indexed(address)
    market: indexed(uint256)
    amount: uint256


event Deleverage:
    account: indexed(address)
    counterparty: indexed(address)
    market: indexed(uint256)
    size: uint256
    cash: int256


event SocializedLoss:
    account: indexed(address)
    market: indexed(uint256)
    amount: uint256
    loss_per_lot: uint256
    residue: uint256


event InsuranceTopUp:
    sender: indexed(address)
    amount: uint256


event InsuranceWithdrawal:
    receiver: indexed(address)
    amount: uint256


@deploy
def __init__(
    token: IERC20,
    oracle: address,
    operator: address,
    liquidator_share_ratio: uint256,
    insurance_floor: uint256,
):
    """
    @notice Deploy with the collateral token, the roles and the penalty split.
    @dev Spec: `engine.new_state`.
    """
    assert liquidator_share_ratio <= convert(
        constants.RATIO_PRECISION, uint256
    ), "config: invalid liquidator share"
    storage.token = token
    storage.owner = msg.sender
    storage.oracle = oracle
    storage.operator = operator
    storage.liquidator_share_ratio = liquidator_share_ratio
    storage.insurance_floor = insurance_floor


@internal
@view
def _require_market(market_id: uint256) -> storage.Market:
    assert market_id < storage.market_count, "market: unknown market"
    return storage.markets[market_id]


# Governance


@external
def add_market(
    initial_margin_ratio: uint256,
    maintenance_margin_ratio: uint256,
    liquidation_fee_ratio: uint256,
    price_band_ratio: uint256,
    max_funding_rate: uint256,
    maker_fee_ratio: uint256,
    taker_fee_ratio: uint256,
):
    """
    @notice List a market. Spec: `engine.process_add_market`.
    @param initial_margin_ratio Parts per RATIO_PRECISION of notional to open risk.
    @param maintenance_margin_ratio Below this share of notional the account is liquidatable.
    @param liquidation_fee_ratio Penalty per notional liquidated; must be below maintenance.
    @param price_band_ratio Largest trade price deviation from the oracle price.
    @param max_funding_rate Bound a funding update is clamped to, per update.
    @param maker_fee_ratio Fee of the maker side of a trade, per notional.
    @param taker_fee_ratio Fee of the taker side of a trade, per notional.
    """
    assert msg.sender == storage.owner, "auth: not owner"
    assert storage.market_count < constants.MAX_MARKETS, "market: too many markets"
    assert (
        0 < maintenance_margin_ratio
        and maintenance_margin_ratio < initial_margin_ratio
        and initial_margin_ratio <= convert(constants.RATIO_PRECISION, uint256)
    ), "market: invalid margin ratios"
    assert liquidation_fee_ratio < maintenance_margin_ratio, "market: invalid liquidation fee"
    assert (
        0 < price_band_ratio and price_band_ratio <= convert(constants.RATIO_PRECISION, uint256)
    ), "market: invalid price band"
    assert max_funding_rate <= convert(
        constants.RATIO_PRECISION, uint256
    ), "market: invalid funding bound"
    assert (
        maker_fee_ratio <= constants.MAX_FEE_RATIO and taker_fee_ratio <= constants.MAX_FEE_RATIO
    ), "market: invalid fees"
    market_id: uint256 = storage.market_count
    storage.markets[market_id] = storage.Market(
        initial_margin_ratio=initial_margin_ratio,
        maintenance_margin_ratio=maintenance_margin_ratio,
        liquidation_fee_ratio=liquidation_fee_ratio,
        price_band_ratio=price_band_ratio,
        max_funding_rate=max_funding_rate,
        maker_fee_ratio=maker_fee_ratio,
        taker_fee_ratio=taker_fee_ratio,
        price=0,
        price_timestamp=0,
        open_interest=0,
        funding_index=0,
        loss_index_long=0,
        loss_index_short=0,
    )
    storage.market_count = market_id + 1
    log MarketAdded(
        market=market_id,
        initial_margin_ratio=initial_margin_ratio,
        maintenance_margin_ratio=maintenance_margin_ratio,
        liquidation_fee_ratio=liquidation_fee_ratio,
        price_band_ratio=price_band_ratio,
        max_funding_rate=max_funding_rate,
        maker_fee_ratio=maker_fee_ratio,
        taker_fee_ratio=taker_fee_ratio,
    )


@external
def update_price(market_id: uint256, price: uint256, timestamp: uint256):
    """
    @notice Publish an oracle price (collateral units per lot). Spec: `engine.process_update_price`.
    """
    assert msg.sender == storage.oracle, "auth: not oracle"
    market: storage.Market = self._require_market(market_id)
    assert price > 0, "oracle: zero price"
    assert price <= constants.MAX_PRICE, "oracle: price too large"
    assert timestamp > market.price_timestamp, "oracle: stale timestamp"
    storage.markets[market_id].price = price
    storage.markets[market_id].price_timestamp = timestamp
    log PriceUpdated(market=market_id, price=price, timestamp=timestamp)


@external
def update_funding(market_id: uint256, rate: int256):
    """
    @notice Advance the market's funding index by `rate` (parts per RATIO_PRECISION,
            clamped to the market's bound) x price (operator only).
            Spec: `engine.process_update_funding`.
    """
    assert msg.sender == storage.operator, "auth: not operator"
    market: storage.Market = self._require_market(market_id)
    assert market.price > 0, "market: no price"
    applied: int256 = funding.clamp_funding_rate(rate, market.max_funding_rate)
    delta: int256 = funding.compute_funding_delta(applied, market.price)
    index: int256 = market.funding_index + delta
    storage.markets[market_id].funding_index = index
    log FundingUpdated(
        market=market_id, requested_rate=rate, applied_rate=applied, index_delta=delta, funding_index=index
    )


# Collateral


@internal
@pure
def _covers(balance: int256, amount: uint256) -> bool:
    """
    @notice Check amount <= balance for any uint256 amount and signed balance.
    """
    if balance < 0:
        return False
    return amount <= convert(balance, uint256)


@external
def deposit(amount: uint256):
    """
    @notice Deposit `amount` of collateral from the caller's wallet. Spec: `engine.process_deposit`.
    """
    assert amount > 0, "deposit: zero amount"
    assert amount <= constants.MAX_DEPOSIT, "deposit: amount too large"
    margin.settle_account(msg.sender)
    storage.collateral[msg.sender] += convert(amount, int256)
    assert extcall storage.token.transferFrom(msg.sender, self, amount)
    log Deposit(account=msg.sender, amount=amount)


@external
def withdraw(amount: uint256):
    """
    @notice Withdraw collateral, keeping the initial margin. Spec: `engine.process_withdraw`.
    """
    assert amount > 0, "withdraw: zero amount"
    margin.settle_account(msg.sender)
    assert self._covers(storage.collateral[msg.sender], amount), "withdraw: insufficient collateral"
    storage.collateral[msg.sender] -= convert(amount, int256)
    assert margin.equity(msg.sender) >= margin.requirement(
        msg.sender, True
    ), "withdraw: below initial margin"
    assert extcall storage.token.transfer(msg.sender, amount)
    log Withdrawal(account=msg.sender, amount=amount)


# Trading


@internal
@pure
def _is_price_in_band(oracle_price: uint256, price: uint256, band_ratio: uint256) -> bool:
    """
    @notice Check |price - oracle| x RATIO_PRECISION <= oracle x band.
            Spec: `engine.is_price_in_band`.
    """
    deviation: uint256 = max(price, oracle_price) - min(price, oracle_price)
    return deviation * convert(constants.RATIO_PRECISION, uint256) <= oracle_price * band_ratio


@internal
def _require_trade_margin(account: address, before: int256, market_id: uint256, is_buyer: bool):
    """
    @notice Check one side of a trade: initial margin, or non-negative equity when the
            trade only reduced its position. Spec: `engine._require_trade_margin`.
    """
    account_equity: int256 = margin.equity(account)
    if fills.reduces_risk(before, storage.positions[account][market_id].size):
        if is_buyer:
            assert account_equity >= 0, "trade: buyer negative equity"
        else:
            assert account_equity >= 0, "trade: seller negative equity"
    elif is_buyer:
        assert account_equity >= margin.requirement(account, True), "trade: buyer below initial margin"
    else:
        assert account_equity >= margin.requirement(account, True), "trade: seller below initial margin"


@external
def settle_trade(
    buyer: address,
    seller: address,
    market_id: uint256,
    size: uint256,
    price: uint256,
    buyer_is_taker: bool,
):
    """
    @notice Settle a matched trade of `size` lots at `price` (operator only). Each side must
            end above its initial margin, or keep non-negative equity when the trade only
            reduced its position. Each side pays the taker or maker fee on the notional,
            into the insurance fund. Spec: `engine.process_settle_trade`.
    """
    assert msg.sender == storage.operator, "auth: not operator"
    market: storage.Market = self._require_market(market_id)
    assert size > 0, "trade: zero size"
    assert size <= constants.MAX_TRADE_SIZE, "trade: size too large"
    assert buyer != seller, "trade: self-trade"
    assert price <= constants.MAX_PRICE, "trade: price too large"
    assert market.price > 0, "market: no price"
    assert self._is_price_in_band(
        market.price, price, market.price_band_ratio
    ), "trade: price outside band"
    margin.settle_account(buyer)
    margin.settle_account(seller)
    buyer_before: int256 = storage.positions[buyer][market_id].size
    seller_before: int256 = storage.positions[seller][market_id].size
    quote: int256 = convert(size * price, int256)
    fills.apply_fill(buyer, market_id, convert(size, int256), -quote)
    fills.apply_fill(seller, market_id, -convert(size, int256), quote)
    taker_fee: int256 = fees.compute_trading_fee(quote, market.taker_fee_ratio)
    maker_fee: int256 = fees.compute_trading_fee(quote, market.maker_fee_ratio)
    buyer_fee: int256 = maker_fee
    seller_fee: int256 = taker_fee
    if buyer_is_taker:
        buyer_fee = taker_fee
        seller_fee = maker_fee
    storage.collateral[buyer] -= buyer_fee
    storage.collateral[seller] -= seller_fee
    storage.insurance_fund += convert(buyer_fee + seller_fee, uint256)
    self._require_trade_margin(buyer, buyer_before, market_id, True)
    self._require_trade_margin(seller, seller_before, market_id, False)
    log Trade(
        buyer=buyer,
        seller=seller,
        market=market_id,
        size=size,
        price=price,
        buyer_fee=convert(buyer_fee, uint256),
        seller_fee=convert(seller_fee, uint256),
    )


# Solvency waterfall


@external
def liquidate(account: address, market_id: uint256):
    """
    @notice Take over part or all of an under-margined position at the oracle price. The
            account pays a penalty capped at its equity share; a bankrupt account's deficit
            share is paid by the insurance fund, or the call fails and ADL must be used.
            Spec: `engine.process_liquidate`.
    """
    market: storage.Market = self._require_market(market_id)
    assert msg.sender != account, "liquidate: self-liquidation"
    margin.settle_account(account)
    margin.settle_account(msg.sender)
    position_size: int256 = storage.positions[account][market_id].size
    assert position_size != 0, "liquidate: no position"
    account_equity: int256 = margin.equity(account)
    maintenance: int256 = margin.requirement(account, False)
    assert account_equity < maintenance, "liquidate: account healthy"

    abs_size: int256 = abs(position_size)
    size: int256 = liquidation.compute_liquidation_size(
        account_equity,
        maintenance,
        abs_size,
        market.price,
        market.maintenance_margin_ratio,
        market.liquidation_fee_ratio,
    )
    ratio: uint256 = market.maintenance_margin_ratio
    maintenance_delta: int256 = margin.compute_margin_requirement(
        abs_size, market.price, ratio
    ) - margin.compute_margin_requirement(abs_size - size, market.price, ratio)
    share: int256 = liquidation.compute_equity_share(account_equity, maintenance_delta, maintenance)
    cover: int256 = max(-share, 0)
    assert convert(storage.insurance_fund, int256) >= cover, "liquidate: insurance fund insufficient"

    side: int256 = fixed_math.sign(position_size)
    price: int256 = convert(market.price, int256)
    oracle_cash: int256 = side * size * price
    fills.apply_fill(account, market_id, -side * size, oracle_cash)
    fills.apply_fill(msg.sender, market_id, side * size, -oracle_cash)

    penalty: int256 = liquidation.compute_penalty(size * price, market.liquidation_fee_ratio, share)
    reward: int256 = 0
    insurance_share: int256 = 0
    reward, insurance_share = liquidation.compute_penalty_split(
        penalty, storage.liquidator_share_ratio
    )
    storage.collateral[account] += cover - penalty
    storage.collateral[msg.sender] += reward
    storage.insurance_fund = convert(
        convert(storage.insurance_fund, int256) + insurance_share - cover, uint256
    )
    assert margin.equity(msg.sender) >= margin.requirement(
        msg.sender, True
    ), "liquidate: liquidator below initial margin"
    log Liquidation(
        account=account,
        liquidator=msg.sender,
        market=market_id,
        size=convert(size, uint256),
        price=market.price,
        penalty=convert(penalty, uint256),
        liquidator_reward=convert(reward, uint256),
    )
    if cover > 0:
        log InsuranceCover(account=account, market=market_id, amount=convert(cover, uint256))


@external
def deleverage(account: address, market_id: uint256):
    """
    @notice Close a bankrupt position the insurance fund cannot cover: ADL at the
            bankruptcy price against profitable opposite positions in rank order (passing
            over a counterparty whose equity share cannot absorb its fill's loss), then the
            loss no counterparty absorbs is charged to the opposite side's loss index.
            Anyone may call. Spec: `engine.process_deleverage`.
    """
    market: storage.Market = self._require_market(market_id)
    margin.settle_account(account)
    position_size: int256 = storage.positions[account][market_id].size
    assert position_size != 0, "adl: no position"
    account_equity: int256 = margin.equity(account)
    assert account_equity < 0, "adl: account not bankrupt"
    maintenance: int256 = margin.requirement(account, False)
    abs_size: int256 = abs(position_size)
    price: int256 = convert(market.price, int256)
    ratio: uint256 = market.maintenance_margin_ratio
    share: int256 = liquidation.compute_equity_share(
        account_equity, margin.compute_margin_requirement(abs_size, market.price, ratio), maintenance
    )
    assert convert(storage.insurance_fund, int256) < -share, "adl: insurance fund can cover"

    side: int256 = fixed_math.sign(position_size)
    total_cash: int256 = liquidation.compute_bankruptcy_cash(position_size * price, share)
    filled: int256 = 0
    ordered: DynArray[adl.Candidate, constants.MAX_POSITIONS_PER_MARKET] = adl.adl_candidates(
        market_id, -side
    )
    for candidate: adl.Candidate in ordered:
        if filled == abs_size:
            break
        counter_size: int256 = abs(storage.positions[candidate.account][market_id].size)
        fill: int256 = min(abs_size - filled, counter_size)
        cash: int256 = adl.compute_fill_cash(total_cash, filled, filled + fill, abs_size)
        absorbable: int256 = liquidation.compute_equity_share(
            margin.equity(candidate.account),
            margin.compute_margin_requirement(counter_size, market.price, ratio)
            - margin.compute_margin_requirement(counter_size - fill, market.price, ratio),
            margin.requirement(candidate.account, False),
        )
        if cash - side * fill * price > absorbable:
            continue  # the fill would take the counterparty below zero equity
        margin.settle_account(candidate.account)
        fills.apply_fill(account, market_id, -side * fill, cash)
        fills.apply_fill(candidate.account, market_id, side * fill, -cash)
        filled += fill
        log Deleverage(
            account=account,
            counterparty=candidate.account,
            market=market_id,
            size=convert(fill, uint256),
            cash=cash,
        )

    if filled < abs_size:
        remaining_share: int256 = liquidation.compute_equity_share(
            margin.equity(account),
            margin.compute_margin_requirement(abs_size - filled, market.price, ratio),
            margin.requirement(account, False),
        )
        if remaining_share < 0:
            loss: int256 = -remaining_share
            per_lot: int256 = 0
            residue: int256 = 0
            per_lot, residue = adl.compute_socialized_loss(
                loss, convert(storage.markets[market_id].open_interest, int256)
            )
            if side > 0:
                storage.markets[market_id].loss_index_short += convert(per_lot, uint256)
            else:
                storage.markets[market_id].loss_index_long += convert(per_lot, uint256)
            storage.collateral[account] += loss
            storage.insurance_fund += convert(residue, uint256)
            log SocializedLoss(
                account=account,
                market=market_id,
                amount=convert(loss, uint256),
                loss_per_lot=convert(per_lot, uint256),
                residue=convert(residue, uint256),
            )


# Insurance fund


@external
def top_up_insurance(amount: uint256):
    """
    @notice Add to the insurance fund from the caller's wallet (anyone).
            Spec: `engine.process_top_up_insurance`.
    """
    assert amount > 0, "insurance: zero amount"
    assert amount <= constants.MAX_DEPOSIT, "insurance: amount too large"
    storage.insurance_fund += amount
    assert extcall storage.token.transferFrom(msg.sender, self, amount)
    log InsuranceTopUp(sender=msg.sender, amount=amount)


@external
def withdraw_insurance(amount: uint256):
    """
    @notice Governance withdrawal to the owner, never below the floor.
            Spec: `engine.process_withdraw_insurance`.
    """
    assert msg.sender == storage.owner, "auth: not owner"
    assert amount > 0, "insurance: zero amount"
    assert self._covers(
        convert(storage.insurance_fund, int256) - convert(storage.insurance_floor, int256), amount
    ), "insurance: below floor"
    storage.insurance_fund -= amount
    assert extcall storage.token.transfer(msg.sender, amount)
    log InsuranceWithdrawal(receiver=msg.sender, amount=amount)


# Views


@external
@view
def equity(account: address) -> int256:
    """
    @notice Collateral plus unrealized PnL at oracle prices, net of pending loss.
            Spec: `margin.equity`.
    """
    return margin.equity(account)


@external
@view
def initial_margin(account: address) -> int256:
    """
    @notice Sum of initial requirements. Spec: `margin.initial_margin`.
    """
    return margin.requirement(account, True)


@external
@view
def maintenance_margin(account: address) -> int256:
    """
    @notice Sum of maintenance requirements. Spec: `margin.maintenance_margin`.
    """
    return margin.requirement(account, False)


@external
@view
def free_collateral(account: address) -> int256:
    """
    @notice max(equity - initial requirement, 0). Spec: `views.free_collateral`.
    """
    return max(margin.equity(account) - margin.requirement(account, True), 0)


@external
@view
def health(account: address) -> int256:
    """
    @notice Equity minus maintenance requirement; negative means liquidatable.
            Spec: `views.health`.
    """
    return margin.equity(account) - margin.requirement(account, False)


@external
@view
def liquidation_price(account: address, market_id: uint256) -> uint256:
    """
    @notice Oracle price of this market at which the account reaches maintenance, others
            fixed; longs round up, shorts down; 0 when none. Spec: `views.liquidation_price`.
    """
    size: int256 = storage.positions[account][market_id].size
    if size == 0:
        return 0
    market: storage.Market = storage.markets[market_id]
    ratio: int256 = convert(market.maintenance_margin_ratio, int256)
    others: int256 = margin.requirement(account, False) - margin.compute_margin_requirement(
        size, market.price, market.maintenance_margin_ratio
    )
    numerator: int256 = (
        others - margin.equity(account) + size * convert(market.price, int256)
    ) * constants.RATIO_PRECISION
    price: int256 = 0
    if size > 0:
        price = fixed_math.ceil_div(numerator, size * (constants.RATIO_PRECISION - ratio))
    else:
        price = fixed_math.floor_div(-numerator, -size * (constants.RATIO_PRECISION + ratio))
    return convert(max(price, 0), uint256)


@external
@view
def bankruptcy_price(account: address, market_id: uint256) -> uint256:
    """
    @notice Per-lot price at which closing the whole position leaves a zero equity share;
            longs round up, shorts down; 0 when not positive. Spec: `views.bankruptcy_price`.
    """
    size: int256 = storage.positions[account][market_id].size
    if size == 0:
        return 0
    market: storage.Market = storage.markets[market_id]
    share: int256 = liquidation.compute_equity_share(
        margin.equity(account),
        margin.compute_margin_requirement(size, market.price, market.maintenance_margin_ratio),
        margin.requirement(account, False),
    )
    cash: int256 = liquidation.compute_bankruptcy_cash(size * convert(market.price, int256), share)
    price: int256 = 0
    if size > 0:
        price = fixed_math.ceil_div(cash, size)
    else:
        price = fixed_math.floor_div(-cash, -size)
    return convert(max(price, 0), uint256)


@external
@view
def adl_rank(account: address, market_id: uint256) -> (uint256, uint256):
    """
    @notice ADL rank as a fraction; (0, 1) when not a candidate. Spec: `views.adl_rank`.
    """
    size: int256 = storage.positions[account][market_id].size
    if size == 0:
        return 0, 1
    ordered: DynArray[adl.Candidate, constants.MAX_POSITIONS_PER_MARKET] = adl.adl_candidates(
        market_id, fixed_math.sign(size)
    )
    for candidate: adl.Candidate in ordered:
        if candidate.account == account:
            return candidate.rank_numerator, candidate.rank_denominator
    return 0, 1


@external
@view
def adl_quantile(account: address, market_id: uint256) -> uint256:
    """
    @notice 5 (deleveraged first) to 1 (not a candidate); 0 without a position.
            Spec: `views.adl_quantile`.
    """
    size: int256 = storage.positions[account][market_id].size
    if size == 0:
        return 0
    ordered: DynArray[adl.Candidate, constants.MAX_POSITIONS_PER_MARKET] = adl.adl_candidates(
        market_id, fixed_math.sign(size)
    )
    for index: uint256 in range(len(ordered), bound=constants.MAX_POSITIONS_PER_MARKET):
        if ordered[index].account == account:
            return adl.compute_adl_quantile(index, len(ordered))
    return 1


@external
@view
def market_holders(market_id: uint256) -> DynArray[address, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice Accounts with an open position in the market, in storage order.
    """
    return storage.holders[market_id]
