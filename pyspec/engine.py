"""Entry points of the protocol. Contract: ``contracts/PerpEngine.vy``.

Each ``process_*`` function is one external call: ``caller`` is ``msg.sender``; a failed
``require`` rejects the whole call (the caller of the spec rolls the state back, as the
EVM does). Checks run in the same order as the contract's, so both sides fail with the
same reason. Events are appended to ``state.events`` in emission order.
"""

from pyspec import adl, fees, funding, liquidation, margin, positions, token
from pyspec.constants import (
    MAX_DEPOSIT,
    MAX_FEE_RATIO,
    MAX_MARKETS,
    MAX_PRICE,
    MAX_TRADE_SIZE,
    RATIO_PRECISION,
)
from pyspec.errors import require
from pyspec.fixed_math import sign
from pyspec.state import Market, State, get_account, get_position


def new_state(
    address: str,
    collateral_token: token.Token,
    owner: str,
    oracle: str,
    operator: str,
    liquidator_share_ratio: int,
    insurance_floor: int,
) -> State:
    """Return the state right after deployment. Contract: ``PerpEngine.__init__``."""
    require(liquidator_share_ratio <= RATIO_PRECISION, "config: invalid liquidator share")
    state = State(
        address, collateral_token, owner, oracle, operator, liquidator_share_ratio, insurance_floor
    )
    collateral_token.events = state.events
    return state


def _require_market(state: State, market_id: int) -> Market:
    require(market_id < len(state.markets), "market: unknown market")
    return state.markets[market_id]


# Governance


def process_add_market(
    state: State,
    caller: str,
    initial_margin_ratio: int,
    maintenance_margin_ratio: int,
    liquidation_fee_ratio: int,
    price_band_ratio: int,
    max_funding_rate: int,
    maker_fee_ratio: int,
    taker_fee_ratio: int,
) -> None:
    """List a market. Contract: ``PerpEngine.add_market``."""
    require(caller == state.owner, "auth: not owner")
    require(len(state.markets) < MAX_MARKETS, "market: too many markets")
    require(
        0 < maintenance_margin_ratio < initial_margin_ratio <= RATIO_PRECISION,
        "market: invalid margin ratios",
    )
    require(liquidation_fee_ratio < maintenance_margin_ratio, "market: invalid liquidation fee")
    require(0 < price_band_ratio <= RATIO_PRECISION, "market: invalid price band")
    require(max_funding_rate <= RATIO_PRECISION, "market: invalid funding bound")
    require(
        maker_fee_ratio <= MAX_FEE_RATIO and taker_fee_ratio <= MAX_FEE_RATIO,
        "market: invalid fees",
    )
    state.markets.append(
        Market(
            initial_margin_ratio,
            maintenance_margin_ratio,
            liquidation_fee_ratio,
            price_band_ratio,
            max_funding_rate,
            maker_fee_ratio,
            taker_fee_ratio,
        )
    )
    market_id = len(state.markets) - 1
    state.events.append(
        (
            "MarketAdded",
            (
                market_id,
                initial_margin_ratio,
                maintenance_margin_ratio,
                liquidation_fee_ratio,
                price_band_ratio,
                max_funding_rate,
                maker_fee_ratio,
                taker_fee_ratio,
            ),
        )
    )


def process_update_price(
    state: State, caller: str, market_id: int, price: int, timestamp: int
) -> None:
    """Publish an oracle price. Contract: ``PerpEngine.update_price``."""
    require(caller == state.oracle, "auth: not oracle")
    market = _require_market(state, market_id)
    require(price > 0, "oracle: zero price")
    require(price <= MAX_PRICE, "oracle: price too large")
    require(timestamp > market.price_timestamp, "oracle: stale timestamp")
    market.price = price
    market.price_timestamp = timestamp
    state.events.append(("PriceUpdated", (market_id, price, timestamp)))


def process_update_funding(state: State, caller: str, market_id: int, rate: int) -> None:
    """Advance the market's funding index by ``rate`` (clamped) x price.

    Contract: ``PerpEngine.update_funding``.
    """
    require(caller == state.operator, "auth: not operator")
    market = _require_market(state, market_id)
    require(market.price > 0, "market: no price")
    applied = funding.clamp_funding_rate(rate, market.max_funding_rate)
    delta = funding.compute_funding_delta(applied, market.price)
    market.funding_index += delta
    state.events.append(("FundingUpdated", (market_id, rate, applied, delta, market.funding_index)))


# Collateral


def process_deposit(state: State, caller: str, amount: int) -> None:
    """Deposit collateral from the caller's wallet. Contract: ``PerpEngine.deposit``."""
    require(amount > 0, "deposit: zero amount")
    require(amount <= MAX_DEPOSIT, "deposit: amount too large")
    margin.settle_account(state, caller)
    get_account(state, caller).collateral += amount
    token.transfer_from(state.token, state.address, caller, state.address, amount)
    state.events.append(("Deposit", (caller, amount)))


def process_withdraw(state: State, caller: str, amount: int) -> None:
    """Withdraw collateral, keeping the initial margin. Contract: ``PerpEngine.withdraw``."""
    require(amount > 0, "withdraw: zero amount")
    margin.settle_account(state, caller)
    account = get_account(state, caller)
    require(amount <= account.collateral, "withdraw: insufficient collateral")
    account.collateral -= amount
    require(
        margin.equity(state, caller) >= margin.initial_margin(state, caller),
        "withdraw: below initial margin",
    )
    token.transfer(state.token, state.address, caller, amount)
    state.events.append(("Withdrawal", (caller, amount)))


# Trading


def is_price_in_band(oracle_price: int, price: int, band_ratio: int) -> bool:
    """Check |price - oracle| x RATIO_PRECISION <= oracle x band.

    Contract: ``PerpEngine._is_price_in_band``.
    """
    return abs(price - oracle_price) * RATIO_PRECISION <= oracle_price * band_ratio


def process_settle_trade(
    state: State,
    caller: str,
    buyer: str,
    seller: str,
    market_id: int,
    size: int,
    price: int,
    buyer_is_taker: bool,
) -> None:
    """Settle a matched trade of ``size`` lots at ``price``. Contract: ``PerpEngine.settle_trade``.

    Each side pays the taker or maker fee on the notional, into the insurance fund.
    Each side must end above its initial margin, or, when the trade only reduced its
    position, at least keep non-negative equity (a bankrupt account is left to the waterfall).
    """
    require(caller == state.operator, "auth: not operator")
    market = _require_market(state, market_id)
    require(size > 0, "trade: zero size")
    require(size <= MAX_TRADE_SIZE, "trade: size too large")
    require(buyer != seller, "trade: self-trade")
    require(price <= MAX_PRICE, "trade: price too large")
    require(market.price > 0, "market: no price")
    require(
        is_price_in_band(market.price, price, market.price_band_ratio), "trade: price outside band"
    )
    margin.settle_account(state, buyer)
    margin.settle_account(state, seller)
    buyer_before = get_position(state, buyer, market_id).size
    seller_before = get_position(state, seller, market_id).size
    quote = size * price
    positions.apply_fill(state, buyer, market_id, size, -quote)
    positions.apply_fill(state, seller, market_id, -size, quote)
    taker_fee = fees.compute_trading_fee(quote, market.taker_fee_ratio)
    maker_fee = fees.compute_trading_fee(quote, market.maker_fee_ratio)
    buyer_fee, seller_fee = (taker_fee, maker_fee) if buyer_is_taker else (maker_fee, taker_fee)
    get_account(state, buyer).collateral -= buyer_fee
    get_account(state, seller).collateral -= seller_fee
    state.insurance_fund += buyer_fee + seller_fee
    _require_trade_margin(state, buyer, buyer_before, market_id, "buyer")
    _require_trade_margin(state, seller, seller_before, market_id, "seller")
    state.events.append(("Trade", (buyer, seller, market_id, size, price, buyer_fee, seller_fee)))


def _require_trade_margin(
    state: State, address: str, before: int, market_id: int, side: str
) -> None:
    """Check one side of a trade. Contract: ``PerpEngine._require_trade_margin``."""
    account_equity = margin.equity(state, address)
    if positions.reduces_risk(before, get_position(state, address, market_id).size):
        require(account_equity >= 0, f"trade: {side} negative equity")
    else:
        require(
            account_equity >= margin.initial_margin(state, address),
            f"trade: {side} below initial margin",
        )


# Solvency waterfall


def process_liquidate(state: State, caller: str, address: str, market_id: int) -> None:
    """Take over part or all of an under-margined position at the oracle price.

    The account pays a penalty capped at its equity share; a bankrupt account's deficit
    share is paid by the insurance fund, or the call fails and ADL must be used.
    Contract: ``PerpEngine.liquidate``.
    """
    market = _require_market(state, market_id)
    require(caller != address, "liquidate: self-liquidation")
    margin.settle_account(state, address)
    margin.settle_account(state, caller)
    position_size = get_position(state, address, market_id).size
    require(position_size != 0, "liquidate: no position")
    account_equity = margin.equity(state, address)
    maintenance = margin.maintenance_margin(state, address)
    require(account_equity < maintenance, "liquidate: account healthy")

    abs_size = abs(position_size)
    size = liquidation.compute_liquidation_size(
        account_equity,
        maintenance,
        abs_size,
        market.price,
        market.maintenance_margin_ratio,
        market.liquidation_fee_ratio,
    )
    ratio = market.maintenance_margin_ratio
    maintenance_delta = margin.compute_margin_requirement(
        abs_size, market.price, ratio
    ) - margin.compute_margin_requirement(abs_size - size, market.price, ratio)
    share = liquidation.compute_equity_share(account_equity, maintenance_delta, maintenance)
    cover = max(-share, 0)
    require(state.insurance_fund >= cover, "liquidate: insurance fund insufficient")

    side = sign(position_size)
    oracle_cash = side * size * market.price
    positions.apply_fill(state, address, market_id, -side * size, oracle_cash)
    positions.apply_fill(state, caller, market_id, side * size, -oracle_cash)

    penalty = liquidation.compute_penalty(size * market.price, market.liquidation_fee_ratio, share)
    reward, insurance_share = liquidation.compute_penalty_split(
        penalty, state.liquidator_share_ratio
    )
    account = get_account(state, address)
    account.collateral += cover - penalty
    get_account(state, caller).collateral += reward
    state.insurance_fund += insurance_share - cover
    require(
        margin.equity(state, caller) >= margin.initial_margin(state, caller),
        "liquidate: liquidator below initial margin",
    )
    state.events.append(
        ("Liquidation", (address, caller, market_id, size, market.price, penalty, reward))
    )
    if cover > 0:
        state.events.append(("InsuranceCover", (address, market_id, cover)))


def process_deleverage(state: State, caller: str, address: str, market_id: int) -> None:
    """Close a bankrupt position the insurance fund cannot cover: ADL, then socialized loss.

    The whole position is closed at the bankruptcy price against profitable opposite
    positions in ADL rank order, each fill min(remaining, counterparty size); a
    counterparty whose equity share cannot absorb its fill's loss is passed over. What no
    profitable counterparty absorbs is charged to the opposite side through the loss
    index, and the account keeps that remainder at zero equity share, for liquidators.
    Anyone may call. Contract: ``PerpEngine.deleverage``.
    """
    market = _require_market(state, market_id)
    margin.settle_account(state, address)
    position_size = get_position(state, address, market_id).size
    require(position_size != 0, "adl: no position")
    account_equity = margin.equity(state, address)
    require(account_equity < 0, "adl: account not bankrupt")
    maintenance = margin.maintenance_margin(state, address)
    abs_size = abs(position_size)
    ratio = market.maintenance_margin_ratio
    share = liquidation.compute_equity_share(
        account_equity,
        margin.compute_margin_requirement(abs_size, market.price, ratio),
        maintenance,
    )
    require(state.insurance_fund < -share, "adl: insurance fund can cover")

    side = sign(position_size)
    total_cash = liquidation.compute_bankruptcy_cash(position_size * market.price, share)
    filled = 0
    for counterparty, _rank in adl.adl_candidates(state, market_id, -side):
        if filled == abs_size:
            break
        counter_size = abs(get_position(state, counterparty, market_id).size)
        fill = min(abs_size - filled, counter_size)
        cash = adl.compute_fill_cash(total_cash, filled, filled + fill, abs_size)
        absorbable = liquidation.compute_equity_share(
            margin.equity(state, counterparty),
            margin.compute_margin_requirement(counter_size, market.price, ratio)
            - margin.compute_margin_requirement(counter_size - fill, market.price, ratio),
            margin.maintenance_margin(state, counterparty),
        )
        if cash - side * fill * market.price > absorbable:
            continue  # the fill would take the counterparty below zero equity
        margin.settle_account(state, counterparty)
        positions.apply_fill(state, address, market_id, -side * fill, cash)
        positions.apply_fill(state, counterparty, market_id, side * fill, -cash)
        filled += fill
        state.events.append(("Deleverage", (address, counterparty, market_id, fill, cash)))

    if filled < abs_size:
        remaining_share = liquidation.compute_equity_share(
            margin.equity(state, address),
            margin.compute_margin_requirement(abs_size - filled, market.price, ratio),
            margin.maintenance_margin(state, address),
        )
        if remaining_share < 0:
            loss = -remaining_share
            per_lot, residue = adl.compute_socialized_loss(loss, market.open_interest)
            if side > 0:
                market.loss_index_short += per_lot
            else:
                market.loss_index_long += per_lot
            get_account(state, address).collateral += loss
            state.insurance_fund += residue
            state.events.append(("SocializedLoss", (address, market_id, loss, per_lot, residue)))


# Insurance fund


def process_top_up_insurance(state: State, caller: str, amount: int) -> None:
    """Add to the insurance fund from the caller's wallet.

    Contract: ``PerpEngine.top_up_insurance``.
    """
    require(amount > 0, "insurance: zero amount")
    require(amount <= MAX_DEPOSIT, "insurance: amount too large")
    state.insurance_fund += amount
    token.transfer_from(state.token, state.address, caller, state.address, amount)
    state.events.append(("InsuranceTopUp", (caller, amount)))


def process_withdraw_insurance(state: State, caller: str, amount: int) -> None:
    """Governance withdrawal, never below the floor. Contract: ``PerpEngine.withdraw_insurance``."""
    require(caller == state.owner, "auth: not owner")
    require(amount > 0, "insurance: zero amount")
    require(state.insurance_fund >= amount + state.insurance_floor, "insurance: below floor")
    state.insurance_fund -= amount
    token.transfer(state.token, state.address, caller, amount)
    state.events.append(("InsuranceWithdrawal", (caller, amount)))
