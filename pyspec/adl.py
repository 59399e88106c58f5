"""Auto-deleveraging, the engine's side: read one side of a market and let the market's
policy allocate a bankrupt position over it. Contract: the ``_adl_*`` functions of
``contracts/PerpEngine.vy``; the policies are ``pyspec/adl_allocator.py``.

``allocate_adl`` is the one place that chooses counterparties and their shares; nothing
else in the waterfall depends on the policy. No policy ranks or weighs by anything an
account can change just before a public ``deleverage`` to push its charge onto others:
the leverage-weighted one's weight falls when its holder deposits (finding W7), and the
no-dodge gate holds that deposit while the deficit is pending (``engine._require_no_dodge``;
the stress lab's deposit scenario measures both).
"""

from pyspec import adl_allocator
from pyspec.adl_allocator import Fill, Holder
from pyspec.constants import ADL_POLICY_QUEUE
from pyspec.fixed_math import sign
from pyspec.margin import (
    adl_capacity,
    adl_paid,
    equity_after_repayment,
    maintenance_margin,
)
from pyspec.state import State


def side_holders(state: State, market_id: int, side: int, ranked: bool = True) -> list[Holder]:
    """Return the positions on ``side`` of a market, in holder order, as the allocator
    reads them: a holder's equity is what its repayment of the loss it owes leaves (M-1,
    ``margin.equity_after_repayment``), so an ADL
    charge never takes what repays its own record (a review: 1,000 USDC of an owing
    winner's equity paid another bankruptcy, and bad debt fell by that much less). The
    maintenance requirement only when ``ranked`` (the queue, the one policy capping by it;
    0 otherwise, which saves a deleverage the scan of every holder's markets).
    Contract: ``PerpEngine._adl_side`` (for the views: ``PerpViews._adl_side``).
    """
    market = state.markets[market_id]
    found = []
    for address in market.holders:
        position = state.accounts[address].positions[market_id]
        if sign(position.size) != side:
            continue
        found.append(
            Holder(
                address,
                abs(position.size),
                adl_capacity(position, market),  # the round's realized profit too
                abs(position.entry_notional),
                equity_after_repayment(state, address),  # what it owes repays first (M-1)
                maintenance_margin(state, address) if ranked else 0,
                adl_paid(position, market),  # the round's charges so far (issue 19)
            )
        )
    return found


def allocate_adl(state: State, market_id: int, side: int, size: int, loss: int) -> list[Fill]:
    """Return the fills that close ``size`` lots of a bankrupt position against ``side``'s
    holders under the market's policy, and the part of ``loss`` each absorbs.

    The fills sum to ``size`` exactly (the opposite side holds at least that much);
    ``loss`` minus what they absorb is left to the bankrupt account. Contract:
    ``PerpEngine._adl_allocate``.
    """
    market = state.markets[market_id]
    return adl_allocator.allocate(
        market.adl_policy,
        market.price,
        market.maintenance_margin_ratio,
        side_holders(state, market_id, side, market.adl_policy == ADL_POLICY_QUEUE),
        size,
        loss,
    )
