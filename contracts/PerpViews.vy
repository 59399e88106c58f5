# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Account and position views, kept out of the engine's EIP-170 budget
@notice Spec: `pyspec/views.py` and `pyspec/margin.py` (`equity`, `initial_margin`,
        `maintenance_margin`, `free_collateral`, `health`, `price_age`,
        `liquidation_price`, `bankruptcy_price`, `adl_rank`, `adl_quantile`,
        `adl_exposure`, `withdrawal_haircut`, `new_money`). The account figures
        come from the engine's `account_margin`; the ADL side of a market and a bankrupt
        account's deficit weights are read from the engine's getters here (`_adl_side`,
        `_deficit_weights`, mirroring the engine's), and the engine modules' and the
        allocator's own code applied, so a figure here is what the engine's liquidation
        and waterfall would act on.
"""

from ethereum.ercs import IERC20
import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.margin as margin
import engine.liquidation as liquidation
import AdlAllocator


interface IPerpEngine:
    def markets(market_id: uint256) -> storage.Market: view
    def positions(account: address, market_id: uint256) -> storage.Position: view
    def account_margin(account: address) -> (int256, int256, int256): view
    def insurance_fund() -> uint256: view
    def liquidator_share_ratio() -> uint256: view
    def adl_allocator() -> AdlAllocator.__interface__: view
    def market_holders(
        market_id: uint256
    ) -> DynArray[address, constants.MAX_POSITIONS_PER_MARKET]: view
    def market_count() -> uint256: view
    def booked(account: address) -> uint256: view
    def bad_debt() -> uint256: view
    def fresh(account: address) -> uint256: view
    def loss_epoch() -> uint256: view
    def fresh_total() -> uint256: view
    def token() -> IERC20: view


engine: public(immutable(IPerpEngine))


@deploy
def __init__(perp_engine: IPerpEngine):
    engine = perp_engine


@internal
@pure
def _side_round(market: storage.Market, size: int256) -> uint256:
    """
    @notice The round of the side of `size` lots, from the engine's market.
            Spec: `margin.adl_round`.
    """
    if size > 0:
        return market.long_adl_round
    return market.short_adl_round


@internal
@view
def _adl_side(
    market_id: uint256, side: int256
) -> DynArray[AdlAllocator.Holder, constants.MAX_POSITIONS_PER_MARKET]:
    """
    @notice The positions on `side` of a market, in holder order, as the engine's
            `_adl_side` hands them to the allocator. Spec: `adl.side_holders`.
    """
    market: storage.Market = staticcall engine.markets(market_id)
    side_round: uint256 = self._side_round(market, side)
    found: DynArray[AdlAllocator.Holder, constants.MAX_POSITIONS_PER_MARKET] = []
    for account: address in staticcall engine.market_holders(market_id):
        position: storage.Position = staticcall engine.positions(account, market_id)
        if fixed_math.sign(position.size) != side:
            continue
        equity: int256 = 0
        initial: int256 = 0
        maintenance: int256 = 0
        equity, initial, maintenance = staticcall engine.account_margin(account)
        found.append(
            AdlAllocator.Holder(
                account=account,
                size=abs(position.size),
                upnl=margin.adl_capacity(position, market.price, side_round),
                entry=abs(position.entry_notional),
                equity=equity - min(convert(staticcall engine.booked(account), int256), max(equity, 0)),
                maintenance=maintenance,
                paid=margin.adl_paid(position, side_round),
            )
        )
    return found


@internal
@view
def _deficit_weights(account: address, market_id: uint256) -> (int256, int256):
    """
    @notice The engine's `margin.deficit_weights`, from its getters.
            Spec: `margin.deficit_weights`.
    """
    own: int256 = 0
    total: int256 = 0
    for i: uint256 in range(staticcall engine.market_count(), bound=constants.MAX_MARKETS):
        position: storage.Position = staticcall engine.positions(account, i)
        if position.size != 0:
            price: uint256 = (staticcall engine.markets(i)).price
            loss: int256 = max(-margin.unrealized_pnl(position, price), 0)
            total += loss
            if i == market_id:
                own = loss
    if total == 0:
        return 1, 1
    return own, total


@internal
@view
def _equity(account: address) -> int256:
    equity: int256 = 0
    initial: int256 = 0
    maintenance: int256 = 0
    equity, initial, maintenance = staticcall engine.account_margin(account)
    return equity


@internal
@view
def _equity_above_owed(account: address) -> int256:
    """
    @notice Equity less the loss the account owes (M-1): what its next withdrawal, trade,
            liquidation or deleverage judges it by once it repaid.
            Spec: `margin.equity_above_owed`.
    """
    return self._equity(account) - convert(staticcall engine.booked(account), int256)


@internal
@view
def _equity_after_repayment(account: address) -> int256:
    """
    @notice Equity as the account's next repayment leaves it (M-1).
            Spec: `margin.equity_after_repayment`.
    """
    total: int256 = self._equity(account)
    return total - min(convert(staticcall engine.booked(account), int256), max(total, 0))


@internal
@view
def _maintenance_margin(account: address) -> int256:
    equity: int256 = 0
    initial: int256 = 0
    maintenance: int256 = 0
    equity, initial, maintenance = staticcall engine.account_margin(account)
    return maintenance


@external
@view
def equity(account: address) -> int256:
    """
    @notice Collateral plus unrealized PnL at oracle prices, net of pending funding.
            Spec: `margin.equity`.
    """
    return self._equity(account)


@external
@view
def initial_margin(account: address) -> int256:
    """
    @notice Sum of initial requirements. Spec: `margin.initial_margin`.
    """
    equity: int256 = 0
    initial: int256 = 0
    maintenance: int256 = 0
    equity, initial, maintenance = staticcall engine.account_margin(account)
    return initial


@external
@view
def maintenance_margin(account: address) -> int256:
    """
    @notice Sum of maintenance requirements. Spec: `margin.maintenance_margin`.
    """
    return self._maintenance_margin(account)


@external
@view
def free_collateral(account: address) -> int256:
    """
    @notice max(equity above what it owes - initial requirement, 0).
            Spec: `views.free_collateral`.
    """
    equity: int256 = 0
    initial: int256 = 0
    maintenance: int256 = 0
    equity, initial, maintenance = staticcall engine.account_margin(account)
    return max(equity - convert(staticcall engine.booked(account), int256) - initial, 0)


@internal
@view
def _new_money(account: address) -> uint256:
    # the engine's `margin.new_money`, from its getters
    word: uint256 = staticcall engine.fresh(account)
    if word >> constants.NEW_MONEY_EPOCH_SHIFT != staticcall engine.loss_epoch():
        return 0
    return word & constants.NEW_MONEY_MASK


@external
@view
def new_money(account: address) -> uint256:
    """
    @notice The account's new money (issue 18): what it deposited while bad debt was
            recorded, since the last loss, and still holds; a withdrawal takes it first, at
            face. Spec: `views.new_money`.
    """
    return self._new_money(account)


@external
@view
def withdrawal_haircut(account: address, amount: uint256) -> uint256:
    """
    @notice The haircut a withdrawal of `amount` by `account` takes now (the loss rule): its
            new money first, untaxed, the rest at the old claims' share of the bad debt; 0
            while none is recorded. The withdrawal settles the account's funding first,
            which can move the fund and the new money by a unit or so.
            Spec: `views.withdrawal_haircut`.
    """
    assert amount <= convert(max_value(uint128), uint256), "views: amount too large"
    bad_debt: uint256 = staticcall engine.bad_debt()
    if bad_debt == 0:
        return 0
    old_claims: uint256 = (
        staticcall (staticcall engine.token()).balanceOf(engine.address)
        - staticcall engine.insurance_fund()
        + bad_debt
        - staticcall engine.fresh_total()
    )
    exempt: uint256 = min(amount, self._new_money(account))
    return liquidation.compute_haircut(amount - exempt, bad_debt, old_claims)


@external
@view
def health(account: address) -> int256:
    """
    @notice Equity above what it owes minus maintenance requirement; negative means
            liquidatable. Spec: `views.health`.
    """
    equity: int256 = 0
    initial: int256 = 0
    maintenance: int256 = 0
    equity, initial, maintenance = staticcall engine.account_margin(account)
    return equity - convert(staticcall engine.booked(account), int256) - maintenance


@external
@view
def price_age(market_id: uint256) -> uint256:
    """
    @notice Seconds since the market's last price. Spec: `views.price_age`.
    """
    return block.timestamp - (staticcall engine.markets(market_id)).price_timestamp


@external
@view
def liquidation_price(account: address, market_id: uint256) -> uint256:
    """
    @notice Oracle price of this market at which the account reaches maintenance, others
            fixed; longs round up, shorts down; 0 when none. Spec: `views.liquidation_price`.
    """
    size: int256 = (staticcall engine.positions(account, market_id)).size
    if size == 0:
        return 0
    market: storage.Market = staticcall engine.markets(market_id)
    ratio: int256 = convert(market.maintenance_margin_ratio, int256)
    others: int256 = self._maintenance_margin(account) - margin.compute_margin_requirement(size, market.price, market.maintenance_margin_ratio)
    numerator: int256 = (
        others - self._equity_above_owed(account) + size * convert(market.price, int256)
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
    size: int256 = (staticcall engine.positions(account, market_id)).size
    if size == 0:
        return 0
    market: storage.Market = staticcall engine.markets(market_id)
    share: int256 = liquidation.compute_equity_share(
        self._equity_after_repayment(account),
        margin.compute_margin_requirement(size, market.price, market.maintenance_margin_ratio),
        self._maintenance_margin(account),
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
    @notice The queue's rank PnL% = (upnl, |entry notional|); (0, 1) when not eligible
            (a loss, or no equity above what it owes). Spec: `views.adl_rank`.
    """
    position: storage.Position = staticcall engine.positions(account, market_id)
    market: storage.Market = staticcall engine.markets(market_id)
    upnl: int256 = margin.adl_capacity(position, market.price, self._side_round(market, position.size))
    if position.size == 0 or upnl <= 0 or self._equity_above_owed(account) <= 0:
        return 0, 1
    return convert(upnl, uint256), convert(abs(position.entry_notional), uint256)


@external
@view
def adl_quantile(account: address, market_id: uint256) -> uint256:
    """
    @notice The queue's light, whatever the market's policy: 5 (deleveraged first) to 1
            (not eligible); 0 without a position. Spec: `views.adl_quantile`.
    """
    size: int256 = (staticcall engine.positions(account, market_id)).size
    if size == 0:
        return 0
    side: DynArray[AdlAllocator.Holder, constants.MAX_POSITIONS_PER_MARKET] = self._adl_side(
        market_id, fixed_math.sign(size)
    )
    return staticcall (staticcall engine.adl_allocator()).queue_quantile(side, account)


@external
@view
def adl_exposure(account: address, market_id: uint256) -> (uint256, uint256):
    """
    @notice (lots, collateral) the position would give up now if the worst bankrupt
            account on the other side (lowest equity, first in holder order) were
            deleveraged by a keeper under the market's policy (its reward joins a share
            that is not zero, N9), after the fund's cover; (0, 0) when that account is not
            bankrupt. Spec: `views.adl_exposure`.
    """
    size: int256 = (staticcall engine.positions(account, market_id)).size
    if size == 0:
        return 0, 0
    side: DynArray[AdlAllocator.Holder, constants.MAX_POSITIONS_PER_MARKET] = self._adl_side(
        market_id, -fixed_math.sign(size)
    )
    worst: AdlAllocator.Holder = empty(AdlAllocator.Holder)
    for holder: AdlAllocator.Holder in side:
        if holder.equity < worst.equity:
            worst = holder
    if worst.equity >= 0:
        return 0, 0
    market: storage.Market = staticcall engine.markets(market_id)
    weight: int256 = 0
    total: int256 = 0
    weight, total = self._deficit_weights(worst.account, market_id)
    share: int256 = liquidation.compute_equity_share(worst.equity, weight, total)
    need: int256 = -share
    if share < 0:  # a keeper's reward joins a share that is not zero (N9)
        need += liquidation.compute_keeper_reward(
            worst.size * convert(market.price, int256),
            market.liquidation_fee_ratio,
            staticcall engine.liquidator_share_ratio(),
            -share,
        )
    loss: int256 = need - min(convert(staticcall engine.insurance_fund(), int256), need)
    allocation: DynArray[AdlAllocator.Fill, constants.MAX_POSITIONS_PER_MARKET] = staticcall (
        staticcall engine.adl_allocator()
    ).allocate(
        market.adl_policy,
        market.price,
        market.maintenance_margin_ratio,
        self._adl_side(market_id, fixed_math.sign(size)),
        worst.size,
        loss,
    )
    for fill: AdlAllocator.Fill in allocation:
        if fill.counterparty == account:
            return convert(fill.size, uint256), convert(fill.absorbed, uint256)
    return 0, 0
