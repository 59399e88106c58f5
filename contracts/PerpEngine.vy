# pragma version ~=0.4.3
# pragma optimize codesize
# pragma nonreentrancy on
"""
@title Cross-margin perpetual futures engine
@notice Spec: `pyspec/engine.py` (entry points) and `pyspec/views.py` (views); the
        privileged entry points (`pyspec/governance.py`: listing, parameters, roles, the
        pause, delisting, the fund's withdrawal, the oracle's prices and funding rates)
        are contracts/EngineGovernance.vy's, run here by delegatecall (`__default__`).
        Every check runs in the spec's order with the spec's reason string, so a
        rejected call fails identically on both sides.
"""

from ethereum.ercs import IERC20
import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.margin as margin
import engine.checks as checks
import engine.positions as fills  # aliased: `positions` is the exported storage getter
import engine.liquidation as liquidation
import AdlAllocator
import engine.fees as fees

initializes: storage
initializes: margin[storage := storage]
initializes: fills[storage := storage]
initializes: checks[storage := storage, margin := margin]

exports: (
    storage.token,
    storage.governor,
    storage.oracle,
    storage.guardian,
    storage.settlement,
    storage.liquidator_share_ratio,
    storage.insurance_floor,
    storage.insurance_fund,
    storage.bad_debt,
    storage.fill_count,
    storage.market_count,
    storage.markets,
    storage.collateral,
    storage.positions,
    storage.booked,
    storage.fresh,
    storage.loss_epoch,
    storage.fresh_total,
)


event PositionSettledAtPrice:
    account: indexed(address)
    market: indexed(uint256)
    size: int256
    price: uint256


event Deposit:
    account: indexed(address)
    amount: uint256


event Withdrawal:
    account: indexed(address)
    amount: uint256


# The part of a withdrawal kept to repay recorded bad debt: every claim's pro-rata share.
event Haircut:
    account: indexed(address)
    amount: uint256
    # the part of the withdrawal that was new money, exempt (issue 18)
    new_money: uint256


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
    absorbed: int256


# N9: the fund pays a deleverage's caller a liquidator's reward for the position closed.
event KeeperReward:
    keeper: indexed(address)
    account: indexed(address)
    amount: uint256


event BadDebt:
    account: indexed(address)
    amount: uint256


event InsuranceTopUp:
    sender: indexed(address)
    amount: uint256


interface IEngineGovernance:
    def adl_allocator() -> address: view


# The stateless ADL policies and listing bounds (contracts/AdlAllocator.vy), fixed at
# deployment: kept out of the engine's EIP-170 budget.
adl_allocator: public(immutable(AdlAllocator.__interface__))
# The governance entry points (contracts/EngineGovernance.vy), run in this storage.
governance: public(immutable(address))


@deploy
def __init__(
    token: IERC20,
    allocator: AdlAllocator.__interface__,
    governance_code: address,
    oracle: address,
    settlement: address,
    governor: address,
    liquidator_share_ratio: uint256,
    insurance_floor: uint256,
):
    """
    @notice Deploy with the collateral token, the allocator and the governance code (built
            on that allocator), the roles and the penalty split; the Settlement and the
            Governor are deployed next, at addresses known now.
    @dev Spec: `engine.new_state`.
    """
    assert (
        staticcall IEngineGovernance(governance_code).adl_allocator() == allocator.address
    ), "config: governance on another allocator"
    assert liquidator_share_ratio <= convert(
        constants.RATIO_PRECISION, uint256
    ), "config: invalid liquidator share"
    assert insurance_floor > 0, "config: zero insurance floor"
    storage.token = token
    storage.governor = governor
    storage.guardian = msg.sender
    storage.oracle = oracle
    storage.settlement = settlement
    storage.liquidator_share_ratio = liquidator_share_ratio
    storage.insurance_floor = insurance_floor
    adl_allocator = allocator
    governance = governance_code


@external
@reentrant
def __default__():
    """
    @notice Run a governance entry point (contracts/EngineGovernance.vy) in this storage,
            with its reason on failure; it takes the reentrancy lock itself.
    """
    raw_call(governance, msg.data, is_delegate_call=True)


@internal
def _require_fresh_account(account: address, gated: uint256):
    """
    @notice Every market the account holds is fresh and, in the markets `gated` names (a
            bit per market id: every market for a trader, a withdrawer or a liquidator,
            the liquidated market for the liquidated account), none holds its position
            in profit while a holder on the other side is bankrupt: the deficit's winners
            wait for the `deleverage` anyone may call (issue 19, no dodge).
            Spec: `engine._require_fresh_account`.
    """
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        if storage.positions[account][market_id].size != 0:
            checks.require_fresh(market_id)
            if gated & (1 << market_id) != 0:
                self._require_no_dodge(market_id, storage.positions[account][market_id])


@internal
def _require_no_dodge(market_id: uint256, position: storage.Position):
    """
    @notice The no-dodge gate in one market: a position in profit, the round's ADL record
            included, or holding a record of the round at all, waits while a holder on the
            other side is bankrupt; once none is, its side's round ends. A settled market
            gates nothing: no deleverage charges there. Spec: `engine._require_no_dodge`.
    """
    if storage.markets[market_id].settled:
        return
    side_round: uint256 = margin.adl_round(market_id, position.size)
    if margin.adl_record_live(position, side_round) or (
        margin.adl_capacity(position, storage.markets[market_id].price, side_round) > 0
    ):
        assert checks.solvent_holders(market_id, position.size), "adl: deficit pending"
        margin.next_adl_round(market_id, position.size, False)  # nothing pending: records lapse


@internal
def _settle(account: address) -> bool:
    """
    @notice Settle the account's funding, then close each position it holds in a settled
            market at that market's final price; an account left with no position and a
            deficit is written off. Return whether a position closed. Spec: `engine._settle`.
    """
    margin.settle_account(account)
    closed: bool = False
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        size: int256 = storage.positions[account][market_id].size
        if size == 0 or not storage.markets[market_id].settled:
            continue
        price: uint256 = storage.markets[market_id].price
        fills.apply_fill(account, market_id, -size, size * convert(price, int256))
        log PositionSettledAtPrice(account=account, market=market_id, size=size, price=price)
        self._write_off(account, market_id)
        closed = True
    margin.clamp_new_money(account)  # funding paid, positions settled at a loss
    return closed


# Collateral


@internal
def _pull(sender: address, amount: uint256):
    """
    @notice Take `amount` from `sender` into the engine before anything is credited: a
            token that returns nothing is accepted, one that returns false or delivers
            less than `amount` (a fee on transfer) is refused. Spec: `engine._pull`.
    """
    before: uint256 = checks.token_balance()
    assert extcall storage.token.transferFrom(
        sender, self, amount, default_return_value=True
    ), "token: transfer failed"
    assert checks.token_balance() == before + amount, "token: fee on transfer"


@external
def deposit(amount: uint256):
    """
    @notice Deposit `amount` of collateral from the caller's wallet, pulled before it is
            credited. In a market whose ADL policy weighs by leverage, which a deposit
            lowers, a winner opposite a bankrupt holder waits (issue 19, no dodge). New
            money never repays a loss record (M-1): one that outlived the account's
            positions ends first; an account holding positions while it owes is refused.
            Spec: `engine.process_deposit`.
    """
    assert amount > 0, "deposit: zero amount"
    assert amount <= constants.MAX_DEPOSIT, "deposit: amount too large"
    self._pull(msg.sender, amount)
    self._settle(msg.sender)
    if self._holds_position(msg.sender):
        assert storage.booked[msg.sender] == 0, "deposit: loss owed"
    else:
        margin.repay_booked(msg.sender)  # a record that outlived its positions ends (M-1)
    storage.collateral[msg.sender] += convert(amount, int256)
    if storage.bad_debt > 0:  # new money: the loss recorded before it is not its to bear
        margin.add_new_money(msg.sender, amount)
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        size: int256 = storage.positions[msg.sender][market_id].size
        if size != 0:
            if storage.markets[market_id].adl_policy == constants.ADL_POLICY_LEVERAGE_PRO_RATA:
                self._require_no_dodge(market_id, storage.positions[msg.sender][market_id])
            checks.end_resolved_round(market_id, -fixed_math.sign(size))  # a top-up
    log Deposit(account=msg.sender, amount=amount)


@external
def withdraw(amount: uint256):
    """
    @notice Withdraw collateral, keeping the initial margin. While bad debt B is recorded,
            the account's new money x (issue 18) leaves first, at face, and every old claim
            is worth (O - B) / O of its face, O being all claims (the engine's balance -
            fund + B) less the new money: the rest pays that share and its haircut,
            ceil((amount - x) x B / O), repays B, so B / O and every payout are the same in
            any order of withdrawals. Spec: `engine.process_withdraw`.
    """
    assert amount > 0, "withdraw: zero amount"
    self._require_fresh_account(msg.sender, constants.EVERY_MARKET)
    self._settle(msg.sender)
    margin.repay_booked(msg.sender)
    assert checks.covers(storage.collateral[msg.sender], amount), "withdraw: insufficient collateral"
    storage.collateral[msg.sender] -= convert(amount, int256)
    assert margin.equity(msg.sender) >= margin.requirement(
        msg.sender, True
    ), "withdraw: below initial margin"
    paid: uint256 = amount
    new_claims: uint256 = storage.fresh_total
    exempt: uint256 = margin.take_new_money(msg.sender, amount)  # new money first, at face
    if storage.bad_debt > 0:  # the old claims, E - F, then hold at least B
        haircut: uint256 = liquidation.compute_haircut(
            amount - exempt, storage.bad_debt, checks.claims() - new_claims
        )
        margin.repay_bad_debt(haircut)
        paid -= haircut
        log Haircut(account=msg.sender, amount=haircut, new_money=exempt)
    checks.push(msg.sender, paid)
    log Withdrawal(account=msg.sender, amount=paid)


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


struct MarginSnapshot:
    size: int256
    equity: int256
    maintenance: int256


@internal
@view
def _margin_snapshot(account: address, market_id: uint256) -> MarginSnapshot:
    """
    @notice (position size, equity, maintenance requirement) before a trade.
            Spec: `engine._margin_snapshot`.
    """
    return MarginSnapshot(
        size=storage.positions[account][market_id].size,
        equity=margin.equity(account),
        maintenance=margin.requirement(account, False),
    )


@internal
@view
def _require_trade_margin(
    account: address, before: MarginSnapshot, market_id: uint256, price: uint256, is_buyer: bool
):
    """
    @notice Check one side of a trade: the position bound; a position left open keeps the
            market's minimum notional at the trade price; initial margin, or, when the
            trade only reduced its position, non-negative equity and, for an account that
            was below maintenance, an equity / maintenance ratio not lowered.
            Spec: `engine._require_trade_margin`.
    """
    new_size: int256 = storage.positions[account][market_id].size
    small: bool = new_size != 0 and convert(abs(new_size), uint256) * price < storage.markets[
        market_id
    ].min_position_notional
    self._require_side(abs(new_size) <= constants.MAX_POSITION_SIZE, is_buyer, "position too large")
    self._require_side(not small, is_buyer, "position too small")
    account_equity: int256 = margin.equity(account)
    reduces: bool = fills.reduces_risk(before.size, new_size)
    assert reduces or not storage.markets[market_id].paused, "trade: market paused"
    if reduces:
        lowered: bool = False
        if before.equity < before.maintenance:
            lowered = account_equity * before.maintenance < before.equity * margin.requirement(
                account, False
            )
        self._require_side(account_equity >= 0, is_buyer, "negative equity")
        self._require_side(not lowered, is_buyer, "ratio lowered")
    else:
        self._require_side(
            account_equity >= margin.requirement(account, True), is_buyer, "below initial margin"
        )


@internal
@pure
def _require_side(ok: bool, is_buyer: bool, what: String[20]):
    """
    @notice Revert unless `ok`, with the trade reason of one side: the prefix, the side
            (buyer or seller), then `what`, as the spec's `_require_trade_margin` words it.
    """
    side: String[14] = "trade: seller "
    if is_buyer:
        side = "trade: buyer "
    assert ok, concat(side, what)


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
    @notice Settle a matched trade of `size` lots at `price` (the Settlement contract only,
            after it verified both traders' signed orders). Each side must
            end above its initial margin, or, when the trade only reduced its position, keep
            non-negative equity and (below maintenance) its equity / maintenance ratio. Each
            side pays the taker or maker fee on the notional,
            into the insurance fund. Spec: `engine.process_settle_trade`.
    """
    assert msg.sender == storage.settlement, "auth: not settlement"
    checks.require_live(market_id)
    assert size > 0, "trade: zero size"
    assert size <= constants.MAX_TRADE_SIZE, "trade: size too large"
    assert buyer != seller, "trade: self-trade"
    assert price <= constants.MAX_PRICE, "trade: price too large"
    oracle_price: uint256 = storage.markets[market_id].price
    assert oracle_price > 0, "market: no price"
    assert self._is_price_in_band(
        oracle_price, price, storage.markets[market_id].price_band_ratio
    ), "trade: price outside band"
    checks.require_fresh(market_id)
    self._require_fresh_account(buyer, constants.EVERY_MARKET)
    self._require_fresh_account(seller, constants.EVERY_MARKET)
    margin.accrue_funding(market_id)
    self._settle(buyer)
    self._settle(seller)
    margin.repay_booked(buyer)
    margin.repay_booked(seller)
    buyer_before: MarginSnapshot = self._margin_snapshot(buyer, market_id)
    seller_before: MarginSnapshot = self._margin_snapshot(seller, market_id)
    quote: int256 = convert(size * price, int256)
    holders: uint256 = len(storage.holders[market_id])
    fills.apply_fill(buyer, market_id, convert(size, int256), -quote)
    fills.apply_fill(seller, market_id, -convert(size, int256), quote)
    # a trade that adds holders leaves LIQUIDATOR_RESERVE slots free for takeovers
    assert len(storage.holders[market_id]) <= max(
        holders, constants.MAX_POSITIONS_PER_MARKET - constants.LIQUIDATOR_RESERVE
    ), "market: position limit reached"
    taker_fee: int256 = fees.compute_trading_fee(quote, storage.markets[market_id].taker_fee_ratio)
    maker_fee: int256 = fees.compute_trading_fee(quote, storage.markets[market_id].maker_fee_ratio)
    buyer_fee: int256 = maker_fee
    seller_fee: int256 = taker_fee
    if buyer_is_taker:
        buyer_fee = taker_fee
        seller_fee = maker_fee
    storage.collateral[buyer] -= buyer_fee
    storage.collateral[seller] -= seller_fee
    margin.clamp_new_money(buyer)
    margin.clamp_new_money(seller)
    margin.credit_fund(convert(buyer_fee + seller_fee, uint256))
    self._require_trade_margin(buyer, buyer_before, market_id, price, True)
    self._require_trade_margin(seller, seller_before, market_id, price, False)
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
def liquidate(account: address, market_id: uint256, max_size: uint256):
    """
    @notice Take over up to `max_size` lots of an under-margined position at the oracle
            price: at most what restores maintenance (all of it at or below bankruptcy).
            The account pays a penalty capped at its equity share into the fund; the
            liquidator's reward comes from the penalty first, then the fund above its
            floor (N5); the fund covers a bankrupt piece's deficit share, or the call fails
            and `deleverage` resolves the account.
            Spec: `engine.process_liquidate`.
    """
    checks.require_market(market_id)
    assert msg.sender != account, "liquidate: self-liquidation"
    assert max_size > 0, "liquidate: zero size"
    self._require_fresh_account(account, 1 << market_id)
    self._require_fresh_account(msg.sender, constants.EVERY_MARKET)
    self._settle(account)
    self._settle(msg.sender)
    margin.repay_booked(account)
    margin.repay_booked(msg.sender)  # nor does a liquidator margin a takeover with it
    position_size: int256 = storage.positions[account][market_id].size
    assert position_size != 0, "liquidate: no position"
    account_equity: int256 = margin.equity(account)
    maintenance: int256 = margin.requirement(account, False)
    assert account_equity < maintenance, "liquidate: account healthy"

    size: int256 = 0
    share: int256 = 0
    penalty: int256 = 0
    reward: int256 = 0
    abs_size: int256 = abs(position_size)
    oracle_price: uint256 = storage.markets[market_id].price
    size, share, penalty, reward = staticcall adl_allocator.liquidation_terms(
        account_equity,
        maintenance,
        abs_size,
        oracle_price,
        storage.markets[market_id].maintenance_margin_ratio,
        storage.markets[market_id].liquidation_fee_ratio,
        storage.liquidator_share_ratio,
        max_size,
    )
    price: int256 = convert(oracle_price, int256)
    notional: int256 = size * price
    cover: int256 = max(-share, 0)
    available: int256 = convert(storage.insurance_fund, int256) - cover
    assert available >= 0, "liquidate: insurance fund insufficient"
    # the penalty finances the reward first, then the fund above its floor: a solvent
    # account is liquidated whatever the fund holds (N5); the floor backs deficits only
    reward = min(reward, max(available - convert(storage.insurance_floor, int256), 0) + penalty)
    fund_change: int256 = penalty - reward - cover

    side: int256 = fixed_math.sign(position_size)
    fills.apply_fill(account, market_id, -side * size, side * notional)
    fills.apply_fill(msg.sender, market_id, side * size, -side * notional)
    storage.collateral[account] += cover - penalty
    storage.collateral[msg.sender] += reward
    margin.clamp_new_money(account)
    margin.clamp_new_money(msg.sender)
    if fund_change >= 0:
        margin.credit_fund(convert(fund_change, uint256))
    else:
        storage.insurance_fund -= convert(-fund_change, uint256)
    taken: int256 = abs(storage.positions[msg.sender][market_id].size)
    assert taken <= constants.MAX_POSITION_SIZE, "liquidate: position too large"
    # N7: a takeover leaves the minimum notional too, unless it takes the position whole
    assert (
        taken * price >= convert(storage.markets[market_id].min_position_notional, int256)
        or size == abs_size
    ), "liquidate: position too small"
    assert margin.equity(msg.sender) >= margin.requirement(
        msg.sender, True
    ), "liquidate: liquidator below initial margin"
    log Liquidation(
        account=account,
        liquidator=msg.sender,
        market=market_id,
        size=convert(size, uint256),
        price=oracle_price,
        penalty=convert(penalty, uint256),
        liquidator_reward=convert(reward, uint256),
    )
    if cover > 0:
        log InsuranceCover(account=account, market=market_id, amount=convert(cover, uint256))
        if self._holds_position(account):  # the fund paid while it keeps some (M-1)
            storage.booked[account] += convert(cover, uint256)
    checks.end_resolved_round(market_id, -side)  # the fund may have resolved a deficit


@external
def deleverage(account: address):
    """
    @notice Close one position of a bankrupt account completely, the account's lowest
            market id first: its deficit share follows where the loss arose
            (`margin.deficit_weights`, M-W3); the fund covers it as far as it goes, then
            the market's ADL policy (`_adl_allocate`) closes it against opposite positions
            of the same market, charging them the rest within their caps. What they could
            not pay (caps bound) is this market's loss, booked at once (`_book_loss`: the
            fund, then bad debt), never moved onto the account's other markets; when the
            last position closes, what is left is booked the same way. An account that
            owes a loss others paid while it kept positions (M-1) is deleveraged at any
            equity, repaying first (`margin.repay_booked`); a call that leaves it positions
            records its share and the keeper's reward as owed, the one that closes its last
            forgives the rest. A call that settles positions of the account in settled
            markets stops there: anyone empties a settled market this way, which frees its
            slot (N1). A call that leaves no bankrupt holder opposite the winners ends
            their round (issue 19). Anyone may call; a caller other than the account earns
            a capped liquidator's reward, at most the share and none for a zero share,
            which joins the call's deficit (N9). Spec: `engine.process_deleverage`,
            `engine._pay_keeper`.
    """
    if self._settle(account):
        # it held positions in settled markets: they closed, the call stops here (N1)
        return
    market_id: uint256 = max_value(uint256)
    for i: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        if storage.positions[account][i].size != 0:
            market_id = i
            break
    assert market_id != max_value(uint256), "adl: no position"
    self._require_fresh_account(account, 0)
    # an account that owes (M-1) is deleveraged at any equity: it repays first, and
    # what is left at 0 closes uncharged (a zero share), one position a call
    entry_equity: int256 = margin.equity(account)
    assert entry_equity <= 0 or storage.booked[account] > 0, "adl: account not bankrupt"
    if entry_equity > 0:  # solvent but owing: a bankrupt holder opposite goes first
        self._require_no_dodge(market_id, storage.positions[account][market_id])
    margin.repay_booked(account)
    account_equity: int256 = margin.equity(account)
    if account_equity > 0:  # repaid in full, and solvent: nothing to deleverage
        return
    position_size: int256 = storage.positions[account][market_id].size
    abs_size: int256 = abs(position_size)
    weight: int256 = 0
    total: int256 = 0
    weight, total = margin.deficit_weights(account, market_id)
    share: int256 = liquidation.compute_equity_share(account_equity, weight, total)
    price: int256 = convert(storage.markets[market_id].price, int256)
    # N9: a caller other than the account earns a keeper's reward for closing a position
    # that holds part of the deficit; the account owes it: it joins the call's deficit, so
    # the fund covers it first and the winners (held by the no-dodge gate) pay the rest
    reward: int256 = 0
    if msg.sender != account and share < 0:
        reward = liquidation.compute_keeper_reward(
            abs_size * price,
            storage.markets[market_id].liquidation_fee_ratio,
            storage.liquidator_share_ratio,
            -share,
        )
    need: int256 = reward - share
    cover: int256 = self._cover_from_fund(account, market_id, need)
    side: int256 = fixed_math.sign(position_size)
    allocation: DynArray[AdlAllocator.Fill, constants.MAX_POSITIONS_PER_MARKET] = self._adl_allocate(
        market_id, -side, abs_size, need - cover
    )
    charged: int256 = 0
    # under pro-rata on profit the round's apportionment continues from what each paid
    apportioned: bool = storage.markets[market_id].adl_policy == constants.ADL_POLICY_PNL_PRO_RATA
    for fill: AdlAllocator.Fill in allocation:
        charged += fill.absorbed
        self._settle(fill.counterparty)
        position: storage.Position = storage.positions[fill.counterparty][market_id]
        side_round: uint256 = margin.adl_round(market_id, position.size)
        capacity: int256 = margin.adl_capacity(position, convert(price, uint256), side_round)
        paid: int256 = 0
        if apportioned:
            paid = margin.adl_paid(position, side_round) + fill.absorbed
        cash: int256 = side * fill.size * price + fill.absorbed
        if fill.size > 0:  # a pro-rata charge may close no lot
            fills.apply_fill(account, market_id, -side * fill.size, cash)
            fills.apply_fill(fill.counterparty, market_id, side * fill.size, fill.absorbed - cash)
        else:
            storage.collateral[account] += cash
        self._charge(fill.counterparty, market_id, fill.absorbed, price, capacity, paid)
        margin.clamp_new_money(fill.counterparty)
        log Deleverage(
            account=account,
            counterparty=fill.counterparty,
            market=market_id,
            size=convert(fill.size, uint256),
            cash=cash,
            absorbed=fill.absorbed,
        )
        self._write_off(fill.counterparty, market_id)
    # what this market's winners could not pay (their caps bound) is this market's loss:
    # booked now, it never moves onto the account's other markets (issue 19, order-free)
    self._book_loss(account, market_id, need - cover - charged)
    if msg.sender != account:
        # the account pays the keeper out of what the call credited it; a keeper's loss
        # record that outlived its positions ends first (M-1): a reward is new money
        if not self._holds_position(msg.sender):
            margin.repay_booked(msg.sender)
        if reward > 0:  # none for a zero share
            storage.collateral[account] -= reward
            storage.collateral[msg.sender] += reward
            log KeeperReward(keeper=msg.sender, account=account, amount=convert(reward, uint256))
    self._write_off(account, market_id)
    margin.clamp_new_money(account)
    checks.end_resolved_round(market_id, -side)
    if self._holds_position(account):
        storage.booked[account] += convert(need, uint256)  # paid while it keeps positions
    else:
        margin.repay_booked(account)  # nothing is left open: the record ends


@internal
def _charge(
    account: address, market_id: uint256, amount: int256, price: int256, capacity: int256, paid: int256
):
    """
    @notice Take an ADL charge, at most the counterparty's `capacity` before the fill: the
            position it keeps first (its cost basis), then what its closed lots realized,
            in this call or earlier in the round. What they realized and no charge took,
            and `paid`, what the round charged it with this charge (pro-rata on profit; 0
            otherwise), are the round's record (`margin.adl_capacity`, `margin.adl_paid`,
            issue 19); never its principal, however often it is charged (W12).
            Spec: `engine._charge`.
    """
    position: storage.Position = storage.positions[account][market_id]
    kept: int256 = 0
    if position.size != 0:
        # signed: a record holder's kept lots may be at a loss (a round outlives prices)
        upnl: int256 = margin.unrealized_pnl(position, convert(price, uint256))
        kept = min(amount, max(upnl, 0))
        storage.positions[account][market_id].entry_notional = position.entry_notional + kept
        left: int256 = max(capacity - amount - (upnl - kept), 0)
        # the record is rewritten beside the position's last fill (`storage.Position.stamp`)
        stamp: uint256 = position.stamp & (constants.LAST_FILL_MASK << constants.LAST_FILL_SHIFT)
        if left > 0 or paid > 0:
            round: uint256 = margin.next_adl_round(market_id, position.size, True)
            stamp |= (
                (round << constants.ADL_ROUND_SHIFT)
                | (convert(paid, uint256) << constants.ADL_PAID_SHIFT)
                | convert(left, uint256)
            )
        storage.positions[account][market_id].stamp = stamp
    storage.collateral[account] -= amount - kept


@internal
def _write_off(account: address, market_id: uint256):
    """
    @notice An account with no position and negative collateral: the fund covers what it
            can, the rest is recorded as bad debt. Spec: `engine._write_off`.
    """
    collateral: int256 = storage.collateral[account]
    if collateral < 0 and not self._holds_position(account):
        self._book_loss(account, market_id, -collateral)


@internal
@view
def _holds_position(account: address) -> bool:
    """
    @notice Whether the account holds a position in any market.
    """
    for i: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        if storage.positions[account][i].size != 0:
            return True
    return False


@internal
def _book_loss(account: address, market_id: uint256, deficit: int256):
    """
    @notice Credit the account `deficit` that no counterparty pays: the fund covers what
            it can, the rest is recorded as bad debt. Spec: `engine._book_loss`.
    """
    if deficit <= 0:
        return
    rest: int256 = deficit - self._cover_from_fund(account, market_id, deficit)
    if rest > 0:
        storage.collateral[account] += rest
        storage.bad_debt += convert(rest, uint256)
        margin.lapse_new_money()  # a new loss: every claim bears it
        log BadDebt(account=account, amount=convert(rest, uint256))


@internal
def _cover_from_fund(account: address, market_id: uint256, deficit: int256) -> int256:
    """
    @notice Pay min(fund, deficit) from the fund into the account; return it.
            Spec: `engine._cover_from_fund`.
    """
    cover: int256 = min(convert(storage.insurance_fund, int256), deficit)
    if cover > 0:
        storage.insurance_fund -= convert(cover, uint256)
        storage.collateral[account] += cover
        log InsuranceCover(account=account, market=market_id, amount=convert(cover, uint256))
    return cover


# Insurance fund


@external
def top_up_insurance(amount: uint256):
    """
    @notice Add to the insurance fund from the caller's wallet (anyone).
            Spec: `engine.process_top_up_insurance`.
    """
    assert amount > 0, "insurance: zero amount"
    assert amount <= constants.MAX_DEPOSIT, "insurance: amount too large"
    self._pull(msg.sender, amount)
    margin.credit_fund(amount)
    log InsuranceTopUp(sender=msg.sender, amount=amount)


# Views


@external
@view
def account_margin(account: address) -> (int256, int256, int256):
    """
    @notice (equity, initial requirement, maintenance requirement) at oracle prices, for
            the account views (contracts/PerpViews.vy). Spec: `margin.equity`,
            `margin.initial_margin`, `margin.maintenance_margin`.
    """
    return margin.equity(account), margin.requirement(account, True), margin.requirement(
        account, False
    )


@internal
@view
def _adl_side(
    market_id: uint256, side: int256, ranked: bool
) -> DynArray[AdlAllocator.Holder, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice The positions on `side` of a market, in holder order, as the allocator reads
            them; the maintenance requirement only for the queue (`ranked`), the one
            policy that caps by it. Spec: `adl.side_holders`.
    """
    price: uint256 = storage.markets[market_id].price
    side_round: uint256 = margin.adl_round(market_id, side)
    found: DynArray[AdlAllocator.Holder, constants.MAX_POSITIONS_PER_MARKET] = []
    for account: address in storage.holders[market_id]:
        position: storage.Position = storage.positions[account][market_id]
        if fixed_math.sign(position.size) != side:
            continue
        maintenance: int256 = 0
        if ranked:
            maintenance = margin.requirement(account, False)
        found.append(
            AdlAllocator.Holder(
                account=account,
                size=abs(position.size),
                upnl=margin.adl_capacity(position, price, side_round),
                entry=abs(position.entry_notional),
                equity=margin.equity_after_repayment(account),  # what it owes repays first (M-1)
                maintenance=maintenance,
                paid=margin.adl_paid(position, side_round),
            )
        )
    return found


@internal
@view
def _adl_allocate(
    market_id: uint256, side: int256, size: int256, loss: int256
) -> DynArray[AdlAllocator.Fill, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice The fills closing `size` lots of a bankrupt position against `side`'s holders
            under the market's policy. Spec: `adl.allocate_adl`.
    """
    # three fields, not the whole market: a deleverage at the bound runs this per call
    policy: uint256 = storage.markets[market_id].adl_policy
    return staticcall adl_allocator.allocate(
        policy,
        storage.markets[market_id].price,
        storage.markets[market_id].maintenance_margin_ratio,
        self._adl_side(market_id, side, policy == constants.ADL_POLICY_QUEUE),
        size,
        loss,
    )


@external
@view
def market_holders(market_id: uint256) -> DynArray[address, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice Accounts with an open position in the market, in storage order.
    """
    return storage.holders[market_id]
