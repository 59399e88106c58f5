"""Equity, margin requirements and lazy settlement. Contract: ``contracts/engine/margin.vy``.

Equity is collateral plus each position's unrealized PnL at the oracle price, plus the
funding it has received and not yet settled. Requirements round up; equity has no
rounding at all because notional = size x price is exact.
"""

from pyspec.constants import FUNDING_INDEX_SCALE, RATIO_PRECISION
from pyspec.fixed_math import ceil_div, floor_div
from pyspec.funding import compute_funding_delta, compute_funding_owed, pending_funding
from pyspec.state import Market, Position, State, get_account


def compute_margin_requirement(size: int, price: int, ratio: int) -> int:
    """Return ceil(|size| x price x ratio / RATIO_PRECISION): a requirement rounds up.

    Contract: ``margin.compute_margin_requirement``. Anchor: GMX, dYdX and Drift all round
    requirements up.
    """
    return ceil_div(abs(size) * price * ratio, RATIO_PRECISION)


def unrealized_pnl(position: Position, market: Market) -> int:
    """Return size x price - entry notional (exact). Contract: ``margin.unrealized_pnl``."""
    return position.size * market.price - position.entry_notional


def adl_capacity(position: Position, market: Market) -> int:
    """Return what ADL may charge the position in the current round: its unrealized PnL
    plus the profit earlier ADL fills of the round realized and no charge took (the
    round's record, issue 19). Without the record, a round of several calls whose charges
    exceeded the profit left open found that profit realized, principal from then on, and
    what the winners paid followed the keeper's order of the calls. Contract:
    ``margin.adl_capacity``.
    """
    current = position.adl_profit if adl_record_live(position, market) else 0
    return unrealized_pnl(position, market) + current


def adl_record_live(position: Position, market: Market) -> bool:
    """Check the position holds a record of its side's current round.

    A round lasts while a deficit its records were made for may still be pending: from the
    deleverage that writes the side's first record (``open_adl_round``) until a deleverage
    leaves no bankrupt holder opposite, or a deficit gate scan of the side finds none
    (``end_adl_round``), which any action of a position of that side with capacity or a live
    record makes (or a deposit, a liquidation or a price that leaves no bankrupt holder
    opposite, ``checks.end_resolved_round``). A price that leaves one does not end it: the
    gate holds every winner of the side while a bankrupt holder is opposite, so none can act
    on a record, and a keeper that waits for the next price before the round's next
    deleverage moves nothing (before, any market's price ended every record: the lab's same
    price published again between two calls moved up to 2,860.91 USDC of one account's
    charges and wrote 3,717.72 off as bad debt). Once a scan passes, the round ends for
    every record of the side at once, so a winner can end its own record only with everyone
    else's (the eighth review's 1-lot trade moved 297.91 USDC onto the other winner when a
    record outlived its round alone).
    A record is made with the round it belongs to, and only when it holds a profit or a
    charge (its round is 0 otherwise). Contract: ``margin.adl_record_live``.
    """
    return position.adl_round != 0 and position.adl_round == adl_round(market, position.size)


def adl_paid(position: Position, market: Market) -> int:
    """Return what ADL charged the position in its side's current round (0 without a live
    record): the part of the round's deficit it has paid, from which the round's
    apportionment continues (``adl_allocator.round_charges``). Contract:
    ``margin.adl_paid``."""
    return position.adl_paid if adl_record_live(position, market) else 0


def adl_round(market: Market, side: int) -> int:
    """The round of the side of ``side`` lots (long if positive). Contract:
    ``margin.adl_round``."""
    return market.long_adl_round if side > 0 else market.short_adl_round


def open_adl_round(market: Market, side: int) -> int:
    """Open the side's round (odd) unless it is open; return it, for a record to carry.
    Contract: ``margin.next_adl_round``."""
    current = adl_round(market, side)
    if current % 2 == 0:
        current += 1
        _set_adl_round(market, side, current)
    return current


def end_adl_round(market: Market, side: int) -> None:
    """End the side's round if it is open: its records lapse. Contract:
    ``margin.next_adl_round``."""
    if adl_round(market, side) % 2 == 1:
        _set_adl_round(market, side, adl_round(market, side) + 1)


def _set_adl_round(market: Market, side: int, value: int) -> None:
    if side > 0:
        market.long_adl_round = value
    else:
        market.short_adl_round = value


def current_funding_index(market: Market, now: int) -> int:
    """Return the market's funding index accrued up to ``now``: the stored index plus the
    rate over the seconds since it last accrued while the price was fresh.

    Funding stops once the price is older than ``max_price_age`` (N4): a frozen feed
    moves no value, at the last rate or the last price. The seconds a stale stretch
    skips are never paid (the next price update accrues up to the old price's expiry,
    then restarts the clock). Contract: ``margin.current_funding_index``.
    """
    fresh_until = min(now, market.price_timestamp + market.max_price_age)
    elapsed = max(fresh_until - market.funding_timestamp, 0)
    return market.funding_index + compute_funding_delta(market.funding_rate, elapsed, market.price)


def accrue_funding(state: State, market_id: int) -> None:
    """Store the index accrued up to the block time; run before the price, the rate or a
    position of the market changes. Contract: ``margin.accrue_funding``.
    """
    market = state.markets[market_id]
    market.funding_index = current_funding_index(market, state.timestamp)
    market.funding_timestamp = state.timestamp


def equity(state: State, address: str) -> int:
    """Return collateral + sum(unrealized PnL + pending funding).

    Contract: ``margin.equity``.
    """
    account = state.accounts.get(address)
    if account is None:
        return 0
    total = account.collateral
    for market_id, position in account.positions.items():
        market = state.markets[market_id]
        index = current_funding_index(market, state.timestamp)
        total += unrealized_pnl(position, market) + pending_funding(position, index)
    return total


def initial_margin(state: State, address: str) -> int:
    """Return the sum of initial requirements. Contract: ``PerpViews.initial_margin``."""
    return requirement(state, address, initial=True)


def maintenance_margin(state: State, address: str) -> int:
    """Return the sum of maintenance requirements. Contract: ``PerpViews.maintenance_margin``."""
    return requirement(state, address, initial=False)


def deficit_weights(state: State, address: str, market_id: int) -> tuple[int, int]:
    """Return (weight of ``market_id``, total weight) by which a bankrupt account's deficit
    is attributed to its markets: each position's unrealized loss, max(-upnl, 0), where
    the loss arose (M-W3). With no position at a loss (a deficit of fees or realized
    losses) the whole deficit goes to the market being closed: (1, 1).

    Contract: ``margin.deficit_weights``. Order-free: when a market's share is absorbed,
    the others' shares of what is left keep their ratios, so what each market's winners
    pay does not depend on which market is closed first.
    """
    account = state.accounts[address]
    losses = {m: max(-unrealized_pnl(p, state.markets[m]), 0) for m, p in account.positions.items()}
    total = sum(losses.values())
    if total == 0:
        return 1, 1
    return losses[market_id], total


def requirement(state: State, address: str, initial: bool) -> int:
    """Return the sum of initial or maintenance requirements. Contract: ``margin.requirement``."""
    account = state.accounts.get(address)
    if account is None:
        return 0
    total = 0
    for market_id, position in account.positions.items():
        market = state.markets[market_id]
        ratio = market.initial_margin_ratio if initial else market.maintenance_margin_ratio
        total += compute_margin_requirement(position.size, market.price, ratio)
    return total


def is_liquidatable(state: State, address: str) -> bool:
    """Check equity < maintenance requirement (``PerpEngine.health`` < 0)."""
    return equity(state, address) < maintenance_margin(state, address)


def settle_account(state: State, address: str) -> None:
    """Accrue every market the account holds, move every pending funding payment into
    collateral and advance the checkpoints.

    The rounding of each payment (toward the protocol) joins the market's residue; every
    whole unit of the residue goes to the fund (``booked`` in the event).

    Run before any check or change of an account, so that collateral is current.
    Contract: ``margin.settle_account``.
    """
    account = get_account(state, address)
    for market_id in sorted(account.positions):
        position = account.positions[market_id]
        accrue_funding(state, market_id)
        market = state.markets[market_id]
        owed = compute_funding_owed(
            position.size, market.funding_index, position.funding_checkpoint
        )
        if owed != 0:
            funding = floor_div(owed, FUNDING_INDEX_SCALE)
            account.collateral += funding
            position.funding_checkpoint = market.funding_index
            market.funding_residue += owed - funding * FUNDING_INDEX_SCALE
            booked = market.funding_residue // FUNDING_INDEX_SCALE  # non-negative operands
            market.funding_residue -= booked * FUNDING_INDEX_SCALE
            credit_fund(state, booked)
            state.events.append(("PositionSettled", (address, market_id, funding, booked)))


def credit_fund(state: State, amount: int) -> None:
    """Credit the fund with ``amount``, repaying recorded bad debt first.

    Contract: ``margin.credit_fund``.
    """
    repaid = min(amount, state.bad_debt)
    state.insurance_fund += amount - repaid
    if repaid > 0:
        repay_bad_debt(state, repaid)


def repay_bad_debt(state: State, amount: int) -> None:
    """Repay ``amount`` of the bad debt; repaid in full, no claim is worth less than its
    face and the new money of the epoch counts no more (``lapse_new_money``): a review
    found new money left counted after a top-up, and the old claims (E - F) then below
    zero once their holders left, which made every withdrawal underflow on the chain.
    Contract: ``margin.repay_bad_debt``."""
    state.bad_debt -= amount
    if state.bad_debt == 0:
        lapse_new_money(state)


def equity_above_owed(state: State, address: str) -> int:
    """Equity less the loss the account owes (M-1, ``repay_booked``): the figure its next
    withdrawal, trade, liquidation or deleverage judges it by once it repaid (the same
    from the record up; below it, 0 then, and this negative: the same sign). The views'
    margins and liquidation price read it. Contract: ``PerpViews._equity_above_owed``.
    """
    account = state.accounts.get(address)
    return equity(state, address) - (account.booked if account else 0)


def equity_after_repayment(state: State, address: str) -> int:
    """Equity as the account's next repayment leaves it (M-1): less min(owed, equity) when
    positive. What the ADL side and the bankruptcy price read: an owing holder at or
    below its record counts as at 0, one below 0 as it stands. Contract:
    ``margin.equity_after_repayment`` (the views': ``PerpViews._equity_after_repayment``).
    """
    account = state.accounts.get(address)
    owed = account.booked if account else 0
    total = equity(state, address)
    return total - min(owed, max(total, 0))


def new_money(state: State, address: str) -> int:
    """The account's new money (issue 18, the loss rule): what it deposited while bad debt
    was recorded, since the last loss, and still holds. A withdrawal takes it first, at
    face: the loss recorded before it is not its to bear, nor are that loss's
    recoveries its to share. Contract: ``margin.new_money``."""
    account = state.accounts.get(address)
    if account is None or account.fresh_epoch != state.loss_epoch:
        return 0
    return account.fresh


def add_new_money(state: State, address: str, amount: int) -> None:
    """A deposit of ``amount``, credited while bad debt is recorded, is new money, except
    what it paid of the account's own realized loss (collateral below 0: old money
    lost). Contract: ``margin.add_new_money``."""
    account = get_account(state, address)
    held = new_money(state, address)
    fresh = min(held + amount, max(account.collateral, 0))
    account.fresh, account.fresh_epoch = fresh, state.loss_epoch
    state.fresh_total += fresh - held


def take_new_money(state: State, address: str, amount: int) -> int:
    """A withdrawal of ``amount`` takes the account's new money first; return what it
    took. Contract: ``margin.take_new_money``."""
    if state.fresh_total == 0:
        return 0
    taken = min(amount, new_money(state, address))
    if taken > 0:
        state.accounts[address].fresh -= taken
        state.fresh_total -= taken
    return taken


def clamp_new_money(state: State, address: str) -> None:
    """Losses consume old money first: after every step that may lower an account's
    collateral, its new money is at most that collateral (the rest was lost to others,
    whose gain is old money). Contract: ``margin.clamp_new_money``."""
    if state.fresh_total == 0:
        return
    account = state.accounts.get(address)
    excess = new_money(state, address) - max(account.collateral if account else 0, 0)
    if excess > 0:
        account.fresh -= excess
        state.fresh_total -= excess


def lapse_new_money(state: State) -> None:
    """A new loss is every claim's to bear, and a repaid one nobody's: either way the new
    money of the epoch joins the old claims. Contract: ``margin.lapse_new_money``."""
    state.loss_epoch += 1
    state.fresh_total = 0


def repay_booked(state: State, address: str) -> None:
    """M-1: an account whose deficit others paid (the fund, winners, bad debt) while it
    kept positions owes them its later equity: before it trades, withdraws, liquidates,
    is liquidated or deleveraged, min(owed, equity) moves from its collateral to the fund
    (repaying bad debt first, ``credit_fund``). With no position left, what equity did
    not repay is forgiven: the upside it kept is realized, and new deposits owe nothing.
    Contract: ``margin.repay_booked``.
    """
    account = state.accounts.get(address)
    if account is None or account.booked == 0:
        return
    owed = account.booked
    repaid = min(owed, max(equity(state, address), 0))
    forgiven = 0 if account.positions else owed - repaid
    account.collateral -= repaid
    clamp_new_money(state, address)
    credit_fund(state, repaid)
    account.booked = owed - repaid - forgiven
    if account.booked < owed:
        state.events.append(("LossRepaid", (address, repaid, forgiven)))
