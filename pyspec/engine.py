"""Entry points of the protocol. Contract: ``contracts/PerpEngine.vy``.

Each ``process_*`` function is one external call: ``caller`` is ``msg.sender``; a failed
``require`` rejects the whole call (the caller of the spec rolls the state back, as the
EVM does). Checks run in the same order as the contract's, so both sides fail with the
same reason. Events are appended to ``state.events`` in emission order.
"""

from pyspec import adl, fees, liquidation, margin, positions, token
from pyspec.checks import (
    claims,
    end_resolved_round,
    push,
    require_fresh,
    require_live,
    require_market,
    solvent_holders,
)
from pyspec.constants import (
    ADL_POLICY_LEVERAGE_PRO_RATA,
    ADL_POLICY_PNL_PRO_RATA,
    EVERY_MARKET,
    LIQUIDATOR_RESERVE,
    MAX_DEPOSIT,
    MAX_POSITION_SIZE,
    MAX_POSITIONS_PER_MARKET,
    MAX_PRICE,
    MAX_TRADE_SIZE,
    RATIO_PRECISION,
)
from pyspec.errors import require
from pyspec.fixed_math import sign
from pyspec.state import Position, State, get_account, get_position


def new_state(
    address: str,
    collateral_token: token.Token,
    deployer: str,
    oracle: str,
    settlement: str,
    governor: str,
    liquidator_share_ratio: int,
    insurance_floor: int,
    timestamp: int,
) -> State:
    """Return the state right after ``deployer`` deployed the engine at block time
    ``timestamp``; the Settlement and the Governor come next, at known addresses.

    Contract: ``PerpEngine.__init__``.
    """
    require(liquidator_share_ratio <= RATIO_PRECISION, "config: invalid liquidator share")
    require(insurance_floor > 0, "config: zero insurance floor")
    state = State(
        address,
        collateral_token,
        governor,
        oracle,
        settlement,
        liquidator_share_ratio,
        insurance_floor,
        timestamp,
        guardian=deployer,
    )
    collateral_token.events = state.events
    return state


def _require_fresh_account(state: State, address: str, gated: int) -> None:
    """Every market the account holds (its equity reads them all) has a fresh price and,
    in the markets ``gated`` names (a bit per market id: ``EVERY_MARKET`` for a trader, a
    withdrawer or a liquidator, the liquidated market for the liquidated account, 0 for
    the account a deleverage closes), none holds its position in profit while a
    holder on the other side, whose deleverage closes against it, is bankrupt.

    No dodge (issue 19, SPEC.md): once a deficit is public, the positions its deleverage
    may charge wait for the ``deleverage`` anyone may call. Else a winner could close and
    reopen, hand its lots on, fall down the queue, take over or be taken over, or withdraw
    the equity capping its charge, and the others would pay. Anchor: dYdX v4 gates
    withdrawals while a negative-TNC subaccount exists; this gate is per market and side.
    Contract: ``PerpEngine._require_fresh_account``."""
    account = state.accounts.get(address)
    for market_id in sorted(account.positions) if account else ():
        require_fresh(state, market_id)
        if gated & (1 << market_id):
            _require_no_dodge(state, market_id, account.positions[market_id])


def _require_no_dodge(state: State, market_id: int, position: Position) -> None:
    """The no-dodge gate in one market (a settled one gates nothing): a position in profit,
    the round's ADL record included, or holding a live record at all (a later price may
    make it chargeable), waits while a holder opposite is bankrupt; once none is, its side's
    round ends (issue 19). Contract: ``PerpEngine._require_no_dodge``."""
    market = state.markets[market_id]
    if market.settled:
        return
    if margin.adl_record_live(position, market) or margin.adl_capacity(position, market) > 0:
        require(solvent_holders(state, market_id, position.size), "adl: deficit pending")
        margin.end_adl_round(market, position.size)  # nothing pending: its records lapse


def _settle(state: State, address: str) -> bool:
    """Settle the account's funding, then close each position it holds in a settled
    market at that market's final price (a fill with no counterparty: the other side
    closes at the same price when its account is touched); an account left with no
    position and a deficit is written off like any other. Return whether a position
    closed. Contract: ``PerpEngine._settle``."""
    margin.settle_account(state, address)
    account = state.accounts.get(address)
    closed = False
    for market_id in sorted(account.positions) if account else ():
        market = state.markets[market_id]
        if not market.settled:
            continue
        size = account.positions[market_id].size
        positions.apply_fill(state, address, market_id, -size, size * market.price)
        state.events.append(("PositionSettledAtPrice", (address, market_id, size, market.price)))
        _write_off(state, address, market_id)
        closed = True
    margin.clamp_new_money(state, address)  # funding paid, positions settled at a loss
    return closed


# Collateral


def _pull(state: State, sender: str, amount: int) -> None:
    """Take ``amount`` from ``sender`` before anything is credited: a token that returns
    false, or delivers less than ``amount`` (a fee on transfer), is refused.

    Contract: ``PerpEngine._pull`` (which also accepts a token that returns nothing). The
    spec's token models the mock, which does neither; the rules are stated all the same.
    """
    before = state.token.balance_of(state.address)
    delivered = token.transfer_from(state.token, state.address, sender, state.address, amount)
    require(delivered, "token: transfer failed")
    require(state.token.balance_of(state.address) == before + amount, "token: fee on transfer")


def process_deposit(state: State, caller: str, amount: int) -> None:
    """Deposit collateral from the caller's wallet, pulled before it is credited.

    The no-dodge gate covers a deposit where the ADL policy weighs by leverage, which a
    deposit lowers (issue 19). No price need be fresh. New money never repays a loss
    record (M-1): one that outlived the positions ends first; an account holding
    positions while it owes is refused. Contract: ``PerpEngine.deposit``.
    """
    require(amount > 0, "deposit: zero amount")
    require(amount <= MAX_DEPOSIT, "deposit: amount too large")
    _pull(state, caller, amount)
    _settle(state, caller)
    if get_account(state, caller).positions:
        require(get_account(state, caller).booked == 0, "deposit: loss owed")
    else:
        margin.repay_booked(state, caller)  # a record that outlived its positions ends (M-1)
    get_account(state, caller).collateral += amount
    if state.bad_debt > 0:  # new money: the loss recorded before it is not its to bear
        margin.add_new_money(state, caller, amount)
    for market_id, position in sorted(get_account(state, caller).positions.items()):
        if state.markets[market_id].adl_policy == ADL_POLICY_LEVERAGE_PRO_RATA:
            _require_no_dodge(state, market_id, position)
        end_resolved_round(state, market_id, -sign(position.size))  # a bankrupt's top-up
    state.events.append(("Deposit", (caller, amount)))


def process_withdraw(state: State, caller: str, amount: int) -> None:
    """Withdraw collateral, keeping the initial margin. Contract: ``PerpEngine.withdraw``.

    The loss rule (the bank run behind N2): while bad debt B is recorded, the account's
    new money x (deposits made while B was recorded, since the last loss: issue 18) leaves
    first, at face, and every old claim is worth (O - B) / O of its face, O being all
    claims (the engine's balance - fund + B) less the new money. The rest pays that
    share; its haircut, ceil((amount - x) x B / O) (a payout rounds down), repays B. B / O
    is unchanged by a withdrawal, so no payout depends on who withdraws first (within a
    unit).
    """
    require(amount > 0, "withdraw: zero amount")
    _require_fresh_account(state, caller, EVERY_MARKET)
    _settle(state, caller)
    margin.repay_booked(state, caller)
    account = get_account(state, caller)
    require(amount <= account.collateral, "withdraw: insufficient collateral")
    account.collateral -= amount
    require(
        margin.equity(state, caller) >= margin.initial_margin(state, caller),
        "withdraw: below initial margin",
    )
    paid = amount
    new_claims = state.fresh_total
    exempt = margin.take_new_money(state, caller, amount)  # new money first, at face
    if state.bad_debt > 0:  # the old claims, E - F, then hold at least B
        haircut = liquidation.compute_haircut(
            amount - exempt, state.bad_debt, claims(state) - new_claims
        )
        margin.repay_bad_debt(state, haircut)
        paid -= haircut
        state.events.append(("Haircut", (caller, haircut, exempt)))
    push(state, caller, paid)
    state.events.append(("Withdrawal", (caller, paid)))


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
    position, keep non-negative equity and, if it was below maintenance, not lower its
    equity / maintenance ratio (a bankrupt account is left to the waterfall).
    """
    require(caller == state.settlement, "auth: not settlement")
    market = require_live(state, market_id)
    require(size > 0, "trade: zero size")
    require(size <= MAX_TRADE_SIZE, "trade: size too large")
    require(buyer != seller, "trade: self-trade")
    require(price <= MAX_PRICE, "trade: price too large")
    require(market.price > 0, "market: no price")
    require(
        is_price_in_band(market.price, price, market.price_band_ratio), "trade: price outside band"
    )
    require_fresh(state, market_id)
    _require_fresh_account(state, buyer, EVERY_MARKET)
    _require_fresh_account(state, seller, EVERY_MARKET)
    margin.accrue_funding(state, market_id)
    _settle(state, buyer)
    _settle(state, seller)
    margin.repay_booked(state, buyer)
    margin.repay_booked(state, seller)
    buyer_before = _margin_snapshot(state, buyer, market_id)
    seller_before = _margin_snapshot(state, seller, market_id)
    quote = size * price
    holders = len(market.holders)
    positions.apply_fill(state, buyer, market_id, size, -quote)
    positions.apply_fill(state, seller, market_id, -size, quote)
    # a trade that adds holders leaves LIQUIDATOR_RESERVE slots free for takeovers (L3)
    require(
        len(market.holders) <= max(holders, MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE),
        "market: position limit reached",
    )
    taker_fee = fees.compute_trading_fee(quote, market.taker_fee_ratio)
    maker_fee = fees.compute_trading_fee(quote, market.maker_fee_ratio)
    buyer_fee, seller_fee = (taker_fee, maker_fee) if buyer_is_taker else (maker_fee, taker_fee)
    get_account(state, buyer).collateral -= buyer_fee
    get_account(state, seller).collateral -= seller_fee
    margin.clamp_new_money(state, buyer)
    margin.clamp_new_money(state, seller)
    margin.credit_fund(state, buyer_fee + seller_fee)
    _require_trade_margin(state, buyer, buyer_before, market_id, price, "buyer")
    _require_trade_margin(state, seller, seller_before, market_id, price, "seller")
    state.events.append(("Trade", (buyer, seller, market_id, size, price, buyer_fee, seller_fee)))


def _margin_snapshot(state: State, address: str, market_id: int) -> tuple[int, int, int]:
    """Return (position size, equity, maintenance requirement) before a trade.

    Contract: ``PerpEngine._margin_snapshot``.
    """
    return (
        get_position(state, address, market_id).size,
        margin.equity(state, address),
        margin.maintenance_margin(state, address),
    )


def _require_trade_margin(
    state: State, address: str, before: tuple[int, int, int], market_id: int, price: int, side: str
) -> None:
    """Check one side of a trade. Contract: ``PerpEngine._require_trade_margin`` (its
    reasons through ``_require_side``).

    A position the trade leaves open keeps the market's minimum notional at the trade
    price, so each of a market's holder slots costs real margin (L3).

    A reduction keeps equity >= 0 and, for an account that was below maintenance, its
    equity / maintenance ratio (cross-multiplied: e1 x m0 >= e0 x m1), so a band-edge
    trade with a colluding account cannot strip the equity a liquidation would take.
    Anchor: dYdX v4 ``isValidTransitionFromUndercollateralized``.
    """
    size_before, equity_before, maintenance_before = before
    new_size = get_position(state, address, market_id).size
    market = state.markets[market_id]
    require(abs(new_size) <= MAX_POSITION_SIZE, f"trade: {side} position too large")
    require(
        new_size == 0 or abs(new_size) * price >= market.min_position_notional,
        f"trade: {side} position too small",
    )
    account_equity = margin.equity(state, address)
    reduces = positions.reduces_risk(size_before, new_size)
    require(reduces or not market.paused, "trade: market paused")
    if reduces:
        require(account_equity >= 0, f"trade: {side} negative equity")
        if equity_before < maintenance_before:
            maintenance = margin.maintenance_margin(state, address)
            require(
                account_equity * maintenance_before >= equity_before * maintenance,
                f"trade: {side} ratio lowered",
            )
    else:
        require(
            account_equity >= margin.initial_margin(state, address),
            f"trade: {side} below initial margin",
        )


# Solvency waterfall


def process_liquidate(
    state: State, caller: str, address: str, market_id: int, max_size: int
) -> None:
    """Take over up to ``max_size`` lots of an under-margined position at the oracle price.

    The protocol takes at most what restores maintenance (all of it at or below
    bankruptcy, or below dust). The account pays a penalty capped at its equity share
    into the fund; the liquidator's reward (the fee share, at least one unit) is paid from
    the penalty first and from the fund as far as it goes, so a solvent account is
    liquidated whatever the fund holds (N5). The fund covers the deficit share of a
    bankrupt piece, or the call fails and ``deleverage`` resolves the account. The
    liquidator needs initial margin only with what it took.
    Contract: ``PerpEngine.liquidate``.
    """
    market = require_market(state, market_id)
    require(caller != address, "liquidate: self-liquidation")
    require(max_size > 0, "liquidate: zero size")
    _require_fresh_account(state, address, 1 << market_id)
    _require_fresh_account(state, caller, EVERY_MARKET)
    _settle(state, address)
    _settle(state, caller)
    margin.repay_booked(state, address)
    margin.repay_booked(state, caller)  # nor does a liquidator margin a takeover with it
    position_size = get_position(state, address, market_id).size
    require(position_size != 0, "liquidate: no position")
    account_equity = margin.equity(state, address)
    maintenance = margin.maintenance_margin(state, address)
    require(account_equity < maintenance, "liquidate: account healthy")

    abs_size = abs(position_size)
    size, share, penalty, reward = liquidation.compute_liquidation_terms(
        account_equity,
        maintenance,
        abs_size,
        market.price,
        market.maintenance_margin_ratio,
        market.liquidation_fee_ratio,
        state.liquidator_share_ratio,
        max_size,
    )
    notional = size * market.price
    cover = max(-share, 0)
    require(state.insurance_fund >= cover, "liquidate: insurance fund insufficient")
    # the penalty finances the reward first, then the fund above its floor after the
    # piece's deficit: an account with equity >= 0 is liquidated whatever the fund holds
    # (N5), and the floor backs deficits, never a liquidator
    room = max(state.insurance_fund - cover - state.insurance_floor, 0)
    reward = min(reward, penalty + room)
    fund_change = penalty - reward - cover

    side = sign(position_size)
    positions.apply_fill(state, address, market_id, -side * size, side * notional)
    positions.apply_fill(state, caller, market_id, side * size, -side * notional)
    get_account(state, address).collateral += cover - penalty
    get_account(state, caller).collateral += reward
    margin.clamp_new_money(state, address)
    margin.clamp_new_money(state, caller)
    if fund_change >= 0:
        margin.credit_fund(state, fund_change)
    else:
        state.insurance_fund += fund_change
    taken = abs(get_position(state, caller, market_id).size)
    require(taken <= MAX_POSITION_SIZE, "liquidate: position too large")
    # N7: a takeover leaves the liquidator's position at the minimum notional too, unless
    # it takes the liquidated position whole: a one-lot sybil cannot take a reserved slot
    require(
        taken * market.price >= market.min_position_notional or size == abs_size,
        "liquidate: position too small",
    )
    require(
        margin.equity(state, caller) >= margin.initial_margin(state, caller),
        "liquidate: liquidator below initial margin",
    )
    state.events.append(
        ("Liquidation", (address, caller, market_id, size, market.price, penalty, reward))
    )
    if cover > 0:
        state.events.append(("InsuranceCover", (address, market_id, cover)))
        if get_account(state, address).positions:  # the fund paid while it keeps some (M-1)
            get_account(state, address).booked += cover
    end_resolved_round(state, market_id, -side)  # the fund may have resolved a deficit


def process_deleverage(state: State, caller: str, address: str) -> None:
    """Close one position of a bankrupt account completely: the fund first, then ADL.

    The position is the account's lowest market id (attribution is never the caller's
    choice). Its deficit share, floor(TNC x loss_i / total loss), follows where the loss
    arose (``margin.deficit_weights``, M-W3: by maintenance, a share was written off in a
    market with no winner); a caller other than the account adds its keeper's reward when
    the share is not zero (N9, ``_pay_keeper``). The fund covers that as far as it goes;
    ``adl.allocate_adl`` closes the position against opposite positions of the same market
    and charges them the rest within their caps. When the account's last position closes,
    what is left of its deficit is written off (and so is a bankrupt counterparty's, closed
    at the oracle price). Anyone may call, as often as the account has positions. An account
    that owes a loss others paid while it kept positions (M-1) is deleveraged at any equity
    (solvent, after the bankrupt holders opposite its position in profit): it repays first
    (``margin.repay_booked``); a call that leaves it positions records its share and the
    reward as owed, and the one that closes its last forgives what is left. A call that
    closes positions in settled markets (``_settle``) stops there, so anyone can empty a
    settled market, which frees its slot (N1). A call that leaves no bankrupt holder
    opposite the winners ends their round (issue 19). Contract: ``PerpEngine.deleverage``.
    """
    if _settle(state, address):
        return
    account = get_account(state, address)
    require(account.positions, "adl: no position")
    _require_fresh_account(state, address, 0)
    # one that owes (M-1) at any equity: it repays first, then closes at a zero share
    entry_equity = margin.equity(state, address)
    require(entry_equity <= 0 or account.booked > 0, "adl: account not bankrupt")
    market_id = min(account.positions)
    if entry_equity > 0:  # solvent but owing: a bankrupt holder opposite goes first
        _require_no_dodge(state, market_id, account.positions[market_id])
    margin.repay_booked(state, address)
    account_equity = margin.equity(state, address)
    if account_equity > 0:  # repaid in full, and solvent: nothing to deleverage
        return
    market = state.markets[market_id]
    position_size = account.positions[market_id].size
    abs_size = abs(position_size)
    share = liquidation.compute_equity_share(
        account_equity, *margin.deficit_weights(state, address, market_id)
    )
    # N9: a caller other than the account earns a keeper's reward for closing a position
    # that holds part of the deficit; the account owes it: it joins the call's deficit, so
    # the fund covers it first and the winners (held by the no-dodge gate) pay the rest
    reward = 0
    if caller != address and share < 0:
        reward = liquidation.compute_keeper_reward(
            abs_size * market.price,
            market.liquidation_fee_ratio,
            state.liquidator_share_ratio,
            -share,
        )
    need = -share + reward
    cover = _cover_from_fund(state, address, market_id, need)
    side = sign(position_size)
    charged = 0
    apportioned = market.adl_policy == ADL_POLICY_PNL_PRO_RATA  # paid counts (issue 19)
    for fill in adl.allocate_adl(state, market_id, -side, abs_size, need - cover):
        charged += fill.absorbed
        _settle(state, fill.counterparty)
        position = get_position(state, fill.counterparty, market_id)
        capacity = margin.adl_capacity(position, market)
        # the round's apportionment continues from what each winner paid in it
        paid = margin.adl_paid(position, market) + fill.absorbed if apportioned else 0
        cash = side * fill.size * market.price + fill.absorbed
        if fill.size > 0:  # a pro-rata charge may close no lot
            positions.apply_fill(state, address, market_id, -side * fill.size, cash)
            positions.apply_fill(
                state, fill.counterparty, market_id, side * fill.size, fill.absorbed - cash
            )
        else:
            account.collateral += cash
        _charge(state, fill.counterparty, market_id, fill.absorbed, capacity, paid)
        margin.clamp_new_money(state, fill.counterparty)
        state.events.append(
            ("Deleverage", (address, fill.counterparty, market_id, fill.size, cash, fill.absorbed))
        )
        _write_off(state, fill.counterparty, market_id)
    # what this market's winners could not pay (their caps bound) is this market's loss:
    # booked now, it never moves onto the account's other markets (issue 19, order-free)
    _book_loss(state, address, market_id, need - cover - charged)
    if caller != address:
        _pay_keeper(state, caller, address, reward)
    _write_off(state, address, market_id)
    margin.clamp_new_money(state, address)
    end_resolved_round(state, market_id, -side)
    if account.positions:
        account.booked += need  # others paid it while it keeps positions (M-1)
    else:
        margin.repay_booked(state, address)  # nothing is left open: the record ends


def _pay_keeper(state: State, keeper: str, address: str, reward: int) -> None:
    """N9: the account pays the keeper its reward out of what the call credited it (the reward
    was part of its deficit; none for a zero share: a position holding no part of the
    deficit, whose winners the no-dodge gate does not hold). The reward is fixed by the
    closed position alone, so a keeper with the fund empty is still paid, and the order in
    which a keeper takes two bankrupt accounts moves no charge through the fund (issue 19;
    before, the fund paid rewards from its room between the covers). A keeper's loss record
    that outlived its positions ends first (M-1): a reward is new money. Contract:
    ``PerpEngine.deleverage``."""
    if not get_account(state, keeper).positions:
        margin.repay_booked(state, keeper)  # a record outliving them ends first (M-1)
    if reward > 0:  # none for a zero share
        get_account(state, address).collateral -= reward
        get_account(state, keeper).collateral += reward
        state.events.append(("KeeperReward", (keeper, address, reward)))


def _charge(
    state: State, address: str, market_id: int, amount: int, capacity: int, paid: int
) -> None:
    """Take an ADL charge, at most the counterparty's ``capacity`` before the fill: from
    the position it keeps first (its cost basis), then from what its closed lots realized,
    in this call or earlier in the round. What they realized and no charge took, and
    ``paid``, what the round charged it with this charge (pro-rata on profit; 0 under the
    other policies), are the round's record (``margin.adl_capacity``, ``margin.adl_paid``),
    so a later call of the round may charge that profit and continues the round's
    apportionment from there (issue 19); principal is never touched (W12). Contract:
    ``PerpEngine._charge``."""
    account = get_account(state, address)
    position = account.positions.get(market_id)
    if position is not None:
        market = state.markets[market_id]
        upnl = margin.unrealized_pnl(position, market)  # a record holder's may be < 0
        kept = min(amount, max(upnl, 0))
        position.entry_notional += kept
        left = max(capacity - amount - (upnl - kept), 0)
        position.adl_round, position.adl_paid, position.adl_profit = (
            (margin.open_adl_round(market, position.size), paid, left)
            if left or paid
            else (0, 0, 0)
        )
        amount -= kept
    account.collateral -= amount


def _write_off(state: State, address: str, market_id: int) -> None:
    """An account left with no position and negative collateral (the bankrupt one, or a
    bankrupt counterparty closed at the oracle price): the fund covers what it can and the
    rest is recorded as bad debt. Contract: ``PerpEngine._write_off``."""
    account = get_account(state, address)
    if account.collateral >= 0 or account.positions:
        return
    _book_loss(state, address, market_id, -account.collateral)


def _book_loss(state: State, address: str, market_id: int, deficit: int) -> None:
    """Credit the account ``deficit`` that no counterparty pays: the fund covers what it
    can, the rest is recorded as bad debt (the loss rule, ``process_withdraw``).
    Contract: ``PerpEngine._book_loss``."""
    if deficit <= 0:
        return
    deficit -= _cover_from_fund(state, address, market_id, deficit)
    if deficit > 0:
        get_account(state, address).collateral += deficit
        state.bad_debt += deficit
        margin.lapse_new_money(state)  # a new loss: every claim bears it
        state.events.append(("BadDebt", (address, deficit)))


def _cover_from_fund(state: State, address: str, market_id: int, deficit: int) -> int:
    """Pay min(fund, deficit) from the fund into the account; return it (fund first).

    Contract: ``PerpEngine._cover_from_fund``.
    """
    cover = min(state.insurance_fund, deficit)
    if cover > 0:
        state.insurance_fund -= cover
        get_account(state, address).collateral += cover
        state.events.append(("InsuranceCover", (address, market_id, cover)))
    return cover


# Insurance fund


def process_top_up_insurance(state: State, caller: str, amount: int) -> None:
    """Add to the insurance fund from the caller's wallet.

    Contract: ``PerpEngine.top_up_insurance``.
    """
    require(amount > 0, "insurance: zero amount")
    require(amount <= MAX_DEPOSIT, "insurance: amount too large")
    _pull(state, caller, amount)
    margin.credit_fund(state, amount)
    state.events.append(("InsuranceTopUp", (caller, amount)))
