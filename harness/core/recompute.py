"""Equity, requirements, sizes and PnL recomputed from the raw state with plain integer
arithmetic and exact fractions, never with the spec's helpers: what the properties and the
liveness checks measure the spec against."""

from __future__ import annotations

from fractions import Fraction

from pyspec.constants import FUNDING_INDEX_SCALE
from pyspec.state import State

RATIO = 10**6


def equity(state: State, address: str) -> int:
    """Collateral + sum(size x price - entry notional + floor(owed funding / scale)), from
    raw fields, the index accrued at rate x elapsed x price up to the block time."""
    account = state.accounts.get(address)
    if account is None:
        return 0
    total = account.collateral
    for market_id, position in account.positions.items():
        market = state.markets[market_id]
        total += position.size * market.price - position.entry_notional
        fresh_until = min(state.timestamp, market.price_timestamp + market.max_price_age)
        elapsed = max(fresh_until - market.funding_timestamp, 0)
        index = market.funding_index + market.funding_rate * elapsed * market.price
        owed = -position.size * (index - position.funding_checkpoint)
        total += owed // FUNDING_INDEX_SCALE  # a payment rounds toward the protocol
    return total


def equity_after_repayment(state: State, address: str) -> int:
    """``equity`` as the account's next repayment of its raw ``booked`` record leaves it
    (M-1): what the ADL side ranks, weighs and caps a holder by."""
    account = state.accounts.get(address)
    total = equity(state, address)
    return total - min(account.booked if account else 0, max(total, 0))


def maintenance(state: State, address: str) -> int:
    """Sum over positions of ceil(|size| x price x mmr / 1e6); a settled market's position
    counts nothing: every call closes it at the final price before it checks the account."""
    return _requirement(state, address, "maintenance_margin_ratio")


def initial(state: State, address: str) -> int:
    """The same with the initial margin ratio."""
    return _requirement(state, address, "initial_margin_ratio")


def _requirement(state: State, address: str, ratio: str) -> int:
    account = state.accounts.get(address)
    if account is None:
        return 0
    total = 0
    for market_id, position in account.positions.items():
        market = state.markets[market_id]
        if market.settled:
            continue
        total += -(-abs(position.size) * market.price * getattr(market, ratio) // RATIO)
    return total


def size(state: State, address: str, market_id: int) -> int:
    account = state.accounts.get(address)
    position = account.positions.get(market_id) if account else None
    return position.size if position else 0


def pnl(state: State, address: str, market_id: int) -> int:
    position = state.accounts[address].positions[market_id]
    return position.size * state.markets[market_id].price - position.entry_notional


def round_profit(state: State, address: str, market_id: int) -> int:
    """The profit the raw ADL record holds (the word's low bits on chain) while its
    side's round is the one it was stamped with (the raw round fields, issue 19); 0
    after."""
    position = _live_record(state, address, market_id)
    return position.adl_profit if position else 0


def round_paid(state: State, address: str, market_id: int) -> int:
    """What the raw ADL record says the round charged the position, while its side's round
    is the one it was stamped with; 0 after."""
    position = _live_record(state, address, market_id)
    return position.adl_paid if position else 0


def _live_record(state: State, address: str, market_id: int):
    account = state.accounts.get(address)
    position = account.positions.get(market_id) if account else None
    if position is None or not position.adl_round:
        return None
    market = state.markets[market_id]
    side_round = market.long_adl_round if position.size > 0 else market.short_adl_round
    return position if position.adl_round == side_round else None


def capacity(state: State, address: str, market_id: int) -> int:
    """What ADL may charge the position in the round: its PnL and the round's record."""
    return pnl(state, address, market_id) + round_profit(state, address, market_id)


def pnl_percent(state: State, address: str, market_id: int) -> Fraction:
    entry = abs(state.accounts[address].positions[market_id].entry_notional)
    upnl = capacity(state, address, market_id)
    return Fraction(upnl, entry) if entry else Fraction(10**80)


def deficit_share(state: State, bankrupt: str, market_id: int) -> int:
    """The part of a bankrupt account's (negative) equity a deleverage of ``market_id``
    resolves: weighted by the unrealized losses where it arose (M-W3), all of it when no
    position is at a loss; a delisted market's position closes at its final price first."""
    losses = {
        m: max(-pnl(state, bankrupt, m), 0)
        for m in state.accounts[bankrupt].positions
        if not state.markets[m].settled
    }
    own, total = (losses[market_id], sum(losses.values())) if any(losses.values()) else (1, 1)
    return equity(state, bankrupt) * own // total


def adl_budget(before: State, bankrupt: str, market_id: int, events: list) -> int:
    """What a deleverage of ``market_id`` must charge counterparties: the bankrupt
    position's share of the deficit (``deficit_share``) and the keeper's reward, which
    joins it (N9; its amount is ``keeper_reward.check``'s), less the fund's cover."""
    first = next(i for i, (name, _) in enumerate(events) if name == "Deleverage")
    cover = sum(
        args[2] for name, args in events[:first] if name == "InsuranceCover" and args[0] == bankrupt
    )
    reward = sum(args[2] for name, args in events if name == "KeeperReward" and args[1] == bankrupt)
    return -deficit_share(before, bankrupt, market_id) + reward - cover
