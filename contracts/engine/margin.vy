# pragma version ~=0.4.3
"""
@title Equity, margin requirements and lazy settlement
@notice Spec: `pyspec/margin.py`. Equity = collateral + sum(unrealized PnL + pending
        funding); requirements round up; notional = size x price is exact.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.funding as funding

uses: storage


event PositionSettled:
    account: indexed(address)
    market: indexed(uint256)
    funding: int256
    booked: uint256


# M-1: an account that owed paid `repaid` from its equity; `forgiven` ended with its positions.
event LossRepaid:
    account: indexed(address)
    repaid: uint256
    forgiven: uint256


@internal
@pure
def compute_margin_requirement(size: int256, price: uint256, ratio: uint256) -> int256:
    """
    @notice Return ceil(|size| x price x ratio / RATIO_PRECISION): requirements round up.
            Spec: `margin.compute_margin_requirement`.
    """
    return fixed_math.ceil_div(
        abs(size) * convert(price, int256) * convert(ratio, int256), constants.RATIO_PRECISION
    )


@internal
@pure
def unrealized_pnl(position: storage.Position, price: uint256) -> int256:
    """
    @notice Return size x price - entry notional (exact). Spec: `margin.unrealized_pnl`.
    """
    return position.size * convert(price, int256) - position.entry_notional


@internal
@pure
def adl_capacity(position: storage.Position, price: uint256, side_round: uint256) -> int256:
    """
    @notice Return what ADL may charge the position in the current round: its unrealized
            PnL plus the profit earlier ADL fills of the round realized and no charge took
            (issue 19); `side_round` is its side's round (`adl_round`).
            Spec: `margin.adl_capacity`.
    """
    current: int256 = 0
    if self.adl_record_live(position, side_round):
        current = convert(position.stamp & constants.ADL_AMOUNT_MASK, int256)
    return self.unrealized_pnl(position, price) + current


@internal
@pure
def adl_record_live(position: storage.Position, side_round: uint256) -> bool:
    """
    @notice Check the position holds a record of its side's current round, which lasts
            until a deleverage or a deficit gate scan of the side finds no bankrupt
            holder opposite (a record's round is 0 when it holds no profit and no charge).
            Spec: `margin.adl_record_live`.
    """
    round: uint256 = position.stamp >> constants.ADL_ROUND_SHIFT
    return round != 0 and round == side_round


@internal
@pure
def adl_paid(position: storage.Position, side_round: uint256) -> int256:
    """
    @notice What ADL charged the position in its side's current round (0 without a live
            record), from which the round's apportionment continues (issue 19).
            Spec: `margin.adl_paid`.
    """
    if not self.adl_record_live(position, side_round):
        return 0
    return convert((position.stamp >> constants.ADL_PAID_SHIFT) & constants.ADL_AMOUNT_MASK, int256)


@internal
@view
def adl_round(market_id: uint256, size: int256) -> uint256:
    """
    @notice The round of the side of `size` lots (long if positive). Spec: `margin.adl_round`.
    """
    if size > 0:
        return storage.markets[market_id].long_adl_round
    return storage.markets[market_id].short_adl_round


@internal
def next_adl_round(market_id: uint256, size: int256, opened: bool) -> uint256:
    """
    @notice Open (`opened`: odd) or end (even) the side's round unless it already is;
            return it, for a record to carry. Spec: `margin.open_adl_round`,
            `margin.end_adl_round`.
    """
    current: uint256 = self.adl_round(market_id, size)
    if (current % 2 == 1) != opened:
        current += 1
        if size > 0:
            storage.markets[market_id].long_adl_round = current
        else:
            storage.markets[market_id].short_adl_round = current
    return current


@internal
@view
def current_funding_index(market_id: uint256) -> int256:
    """
    @notice Return the market's funding index accrued up to now: the stored index plus the
            rate over the seconds since it last accrued while the price was fresh (a
            frozen feed moves no value, N4). Reads the six fields it needs, not the whole
            market: equity runs it for every position. Spec: `margin.current_funding_index`.
    """
    accrued: uint256 = storage.markets[market_id].funding_timestamp
    fresh_until: uint256 = min(
        block.timestamp,
        storage.markets[market_id].price_timestamp + storage.markets[market_id].max_price_age,
    )
    return storage.markets[market_id].funding_index + funding.compute_funding_delta(
        storage.markets[market_id].funding_rate,
        max(fresh_until, accrued) - accrued,
        storage.markets[market_id].price,
    )


@internal
def accrue_funding(market_id: uint256):
    """
    @notice Store the index accrued up to now; run before the price, the rate or a
            position of the market changes. Spec: `margin.accrue_funding`.
    """
    storage.markets[market_id].funding_index = self.current_funding_index(market_id)
    storage.markets[market_id].funding_timestamp = block.timestamp


@internal
@view
def equity(account: address) -> int256:
    """
    @notice Return collateral + sum(unrealized PnL + pending funding).
            Spec: `margin.equity`.
    """
    total: int256 = storage.collateral[account]
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        # the fields it needs, not the whole position: a scan reads every holder's markets
        size: int256 = storage.positions[account][market_id].size
        if size != 0:
            total += size * convert(
                storage.markets[market_id].price, int256
            ) - storage.positions[account][market_id].entry_notional
            total += funding.pending_funding(
                size,
                storage.positions[account][market_id].funding_checkpoint,
                self.current_funding_index(market_id),
            )
    return total


@internal
@view
def deficit_weights(account: address, market_id: uint256) -> (int256, int256):
    """
    @notice (weight of `market_id`, total weight) attributing a bankrupt account's deficit
            to its markets: each position's unrealized loss, max(-upnl, 0), where the loss
            arose (M-W3); (1, 1), the whole deficit to the market closed, when no position
            is at a loss. Spec: `margin.deficit_weights`.
    """
    own: int256 = 0
    total: int256 = 0
    for i: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        size: int256 = storage.positions[account][i].size
        if size != 0:
            loss: int256 = max(
                storage.positions[account][i].entry_notional
                - size * convert(storage.markets[i].price, int256),
                0,
            )
            total += loss
            if i == market_id:
                own = loss
    if total == 0:
        return 1, 1
    return own, total


@internal
@view
def requirement(account: address, initial: bool) -> int256:
    """
    @notice Return the sum of initial or maintenance requirements.
            Spec: `margin.requirement`.
    """
    total: int256 = 0
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        size: int256 = storage.positions[account][market_id].size
        if size != 0:
            # two fields, not the whole market: this runs for every holder an ADL ranks
            ratio: uint256 = storage.markets[market_id].maintenance_margin_ratio
            if initial:
                ratio = storage.markets[market_id].initial_margin_ratio
            total += self.compute_margin_requirement(size, storage.markets[market_id].price, ratio)
    return total


@internal
def settle_account(account: address):
    """
    @notice Accrue every market the account holds, move every pending funding payment into
            collateral and advance the checkpoints;
            the rounding joins the market's residue, whose whole units go to the fund.
            Spec: `margin.settle_account`.
    """
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        size: int256 = storage.positions[account][market_id].size
        if size == 0:
            continue
        self.accrue_funding(market_id)
        funding_index: int256 = storage.markets[market_id].funding_index
        owed: int256 = funding.compute_funding_owed(
            size, funding_index, storage.positions[account][market_id].funding_checkpoint
        )
        if owed != 0:
            received: int256 = fixed_math.floor_div(owed, constants.FUNDING_INDEX_SCALE)
            storage.collateral[account] += received
            storage.positions[account][market_id].funding_checkpoint = funding_index
            residue: uint256 = storage.markets[market_id].funding_residue + convert(
                owed - received * constants.FUNDING_INDEX_SCALE, uint256
            )
            booked: uint256 = residue // convert(constants.FUNDING_INDEX_SCALE, uint256)
            storage.markets[market_id].funding_residue = residue - booked * convert(
                constants.FUNDING_INDEX_SCALE, uint256
            )
            self.credit_fund(booked)
            log PositionSettled(account=account, market=market_id, funding=received, booked=booked)


@internal
def credit_fund(amount: uint256):
    """
    @notice Credit the fund, repaying recorded bad debt first. Spec: `margin.credit_fund`.
    """
    repaid: uint256 = min(amount, storage.bad_debt)
    storage.insurance_fund += amount - repaid
    if repaid > 0:
        self.repay_bad_debt(repaid)


@internal
def repay_bad_debt(amount: uint256):
    """
    @notice Repay `amount` of the bad debt; repaid in full, the new money of the epoch
            counts no more (`lapse_new_money`). Spec: `margin.repay_bad_debt`.
    """
    storage.bad_debt -= amount
    if storage.bad_debt == 0:
        self.lapse_new_money()


@internal
@view
def equity_after_repayment(account: address) -> int256:
    """
    @notice Equity as the account's next repayment leaves it (M-1): less min(owed,
            equity) when positive; what the ADL side reads.
            Spec: `margin.equity_after_repayment`.
    """
    total: int256 = self.equity(account)
    return total - min(convert(storage.booked[account], int256), max(total, 0))


@internal
@view
def new_money(account: address) -> uint256:
    """
    @notice The account's new money (issue 18, the loss rule): what it deposited while bad
            debt was recorded, since the last loss, and still holds. A withdrawal takes it
            first, at face. Spec: `margin.new_money`.
    """
    word: uint256 = storage.fresh[account]
    if word >> constants.NEW_MONEY_EPOCH_SHIFT != storage.loss_epoch:
        return 0
    return word & constants.NEW_MONEY_MASK


@internal
def _set_new_money(account: address, amount: uint256):
    storage.fresh[account] = (storage.loss_epoch << constants.NEW_MONEY_EPOCH_SHIFT) | amount


@internal
def add_new_money(account: address, amount: uint256):
    """
    @notice A deposit of `amount`, credited while bad debt is recorded, is new money,
            except what it paid of the account's own realized loss (collateral below 0:
            old money lost). Spec: `margin.add_new_money`.
    """
    held: uint256 = self.new_money(account)
    fresh: uint256 = min(held + amount, convert(max(storage.collateral[account], 0), uint256))
    self._set_new_money(account, fresh)
    storage.fresh_total += fresh - held


@internal
def take_new_money(account: address, amount: uint256) -> uint256:
    """
    @notice A withdrawal of `amount` takes the account's new money first; return what it
            took. Spec: `margin.take_new_money`.
    """
    if storage.fresh_total == 0:
        return 0
    held: uint256 = self.new_money(account)
    taken: uint256 = min(amount, held)
    if taken > 0:
        self._set_new_money(account, held - taken)
        storage.fresh_total -= taken
    return taken


@internal
def clamp_new_money(account: address):
    """
    @notice Losses consume old money first: after every step that may lower an account's
            collateral, its new money is at most that collateral. Spec: `margin.clamp_new_money`.
    """
    if storage.fresh_total == 0:
        return
    held: uint256 = self.new_money(account)
    backed: uint256 = convert(max(storage.collateral[account], 0), uint256)
    if held > backed:
        self._set_new_money(account, backed)
        storage.fresh_total -= held - backed


@internal
def lapse_new_money():
    """
    @notice A new loss is every claim's to bear, and a repaid one nobody's: either way the
            new money of the epoch joins the old claims. Spec: `margin.lapse_new_money`.
    """
    storage.loss_epoch += 1
    storage.fresh_total = 0


@internal
def repay_booked(account: address):
    """
    @notice M-1: an account whose deficit others paid while it kept positions owes them
            its later equity: min(owed, equity) moves from its collateral to the fund
            (bad debt first). With no position left, what equity did not repay is
            forgiven. Spec: `margin.repay_booked`.
    """
    owed: uint256 = storage.booked[account]
    if owed == 0:
        return
    repaid: uint256 = convert(min(convert(owed, int256), max(self.equity(account), 0)), uint256)
    forgiven: uint256 = owed - repaid
    for market_id: uint256 in range(storage.market_count, bound=constants.MAX_MARKETS):
        if storage.positions[account][market_id].size != 0:
            forgiven = 0
            break
    storage.collateral[account] -= convert(repaid, int256)
    self.clamp_new_money(account)
    self.credit_fund(repaid)
    storage.booked[account] = owed - repaid - forgiven
    if repaid + forgiven > 0:
        log LossRepaid(account=account, repaid=repaid, forgiven=forgiven)
