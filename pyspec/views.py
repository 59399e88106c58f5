"""Read-only views for traders. Contract: the ``@view`` functions of ``contracts/PerpEngine.vy``."""

from pyspec import adl, adl_allocator, checks, liquidation, margin
from pyspec.constants import RATIO_PRECISION
from pyspec.errors import require
from pyspec.fixed_math import ceil_div, floor_div, sign
from pyspec.state import State, get_position


def free_collateral(state: State, address: str) -> int:
    """Return max(equity above what it owes - initial requirement, 0).

    Contract: ``PerpViews.free_collateral``.
    """
    return max(margin.equity_above_owed(state, address) - margin.initial_margin(state, address), 0)


def new_money(state: State, address: str) -> int:
    """Return the account's new money (issue 18): what it deposited while bad debt was
    recorded, since the last loss, and still holds; a withdrawal takes it first, at face.
    Contract: ``PerpViews.new_money``.
    """
    return margin.new_money(state, address)


def withdrawal_haircut(state: State, address: str, amount: int) -> int:
    """Return the haircut a withdrawal of ``amount`` by ``address`` takes at the state now
    (the loss rule): its new money first, untaxed, the rest at the old claims' share of
    the bad debt; 0 while none is recorded. The withdrawal settles the account's funding
    first, which can move the fund and the new money by a unit or so.
    Contract: ``PerpViews.withdrawal_haircut``.
    """
    require(amount < 2**128, "views: amount too large")  # amount x B stays in int256
    if state.bad_debt == 0:
        return 0
    exempt = min(amount, margin.new_money(state, address))
    old_claims = checks.claims(state) - state.fresh_total
    return liquidation.compute_haircut(amount - exempt, state.bad_debt, old_claims)


def health(state: State, address: str) -> int:
    """Return equity above what it owes - maintenance requirement; negative means
    liquidatable. Contract: ``PerpViews.health``.
    """
    return margin.equity_above_owed(state, address) - margin.maintenance_margin(state, address)


def liquidation_price(state: State, address: str, market_id: int) -> int:
    """Return the oracle price of this market at which the account reaches maintenance.

    Other prices fixed: equity + size x (p - price) = others' requirement
    + |size| x p x mmr, so p = (others - equity + size x price) x R / (size x R - |size| x mmr).
    Longs round up, shorts down (the conservative side); 0 when no price liquidates.
    Contract: ``PerpViews.liquidation_price``.
    """
    size = get_position(state, address, market_id).size
    if size == 0:
        return 0
    market = state.markets[market_id]
    ratio = market.maintenance_margin_ratio
    others = margin.maintenance_margin(state, address) - margin.compute_margin_requirement(
        size, market.price, ratio
    )
    numerator = (
        others - margin.equity_above_owed(state, address) + size * market.price
    ) * RATIO_PRECISION
    if size > 0:
        price = ceil_div(numerator, size * (RATIO_PRECISION - ratio))
    else:
        price = floor_div(-numerator, -size * (RATIO_PRECISION + ratio))
    return max(price, 0)


def bankruptcy_price(state: State, address: str, market_id: int) -> int:
    """Return the per-lot price at which closing the whole position leaves zero equity share.

    Long: ceil(bankruptcy cash / size); short: floor(-cash / |size|). 0 when not positive.
    Contract: ``PerpViews.bankruptcy_price``.
    """
    size = get_position(state, address, market_id).size
    if size == 0:
        return 0
    market = state.markets[market_id]
    share = liquidation.compute_equity_share(
        margin.equity_after_repayment(state, address),
        margin.compute_margin_requirement(size, market.price, market.maintenance_margin_ratio),
        margin.maintenance_margin(state, address),
    )
    cash = liquidation.compute_bankruptcy_cash(size * market.price, share)
    price = ceil_div(cash, size) if size > 0 else floor_div(-cash, -size)
    return max(price, 0)


def price_age(state: State, market_id: int) -> int:
    """Return the seconds since the market's last price. Contract: ``PerpViews.price_age``."""
    return state.timestamp - state.markets[market_id].price_timestamp


def adl_rank(state: State, address: str, market_id: int) -> tuple[int, int]:
    """Return the queue's rank fraction PnL% = (upnl, |entry notional|), or (0, 1) when
    the position is not eligible. Contract: ``PerpViews.adl_rank``.
    """
    size = get_position(state, address, market_id).size
    for holder in adl.side_holders(state, market_id, sign(size)) if size else ():
        if holder.account == address and adl_allocator.is_eligible(holder):
            return holder.upnl, holder.entry
    return 0, 1


def adl_quantile(state: State, address: str, market_id: int) -> int:
    """Return the queue's light: 5 (deleveraged first) to 1 (not eligible); 0 without a
    position. The lights are percentiles of the eligible quantity strictly ahead in the
    queue, whatever the market's policy (five lights as BitMEX shows them, not BitMEX's
    rule: SPEC.md, "ADL quantile"). Contract: ``PerpViews.adl_quantile``.
    """
    size = get_position(state, address, market_id).size
    if size == 0:
        return 0
    return adl_allocator.queue_quantile(adl.side_holders(state, market_id, sign(size)), address)


def adl_exposure(state: State, address: str, market_id: int) -> tuple[int, int]:
    """Return (lots, collateral) the position would give up now if the worst bankrupt
    account on the other side of its market were deleveraged under the market's policy.

    The worst account is the opposite holder with the lowest equity (the first in holder
    order among equals); (0, 0) when it is not bankrupt. Its whole position in this market
    is allocated, after the fund's cover, as ``deleverage`` would when this is the
    account's lowest market; funding not yet settled is valued, not rounded.
    Contract: ``PerpViews.adl_exposure``.
    """
    size = get_position(state, address, market_id).size
    if size == 0:
        return 0, 0
    worst = None
    for holder in adl.side_holders(state, market_id, -sign(size)):
        if worst is None or holder.equity < worst.equity:
            worst = holder
    if worst is None or worst.equity >= 0:
        return 0, 0
    share = liquidation.compute_equity_share(
        worst.equity, *margin.deficit_weights(state, worst.account, market_id)
    )
    market = state.markets[market_id]
    need = -share
    if share < 0:  # a keeper's reward joins a share that is not zero (N9)
        need += liquidation.compute_keeper_reward(
            worst.size * market.price,
            market.liquidation_fee_ratio,
            state.liquidator_share_ratio,
            -share,
        )
    loss = need - min(state.insurance_fund, need)
    for fill in adl.allocate_adl(state, market_id, sign(size), worst.size, loss):
        if fill.counterparty == address:
            return fill.size, fill.absorbed
    return 0, 0
