"""Liquidation sizing, penalty and bankruptcy quote. Contract: ``contracts/engine/liquidation.vy``.

The bankruptcy quote follows dYdX v4's cross-margin formula
(v4-chain protocol/x/clob/keeper/liquidations.go, ``GetBankruptcyPriceInQuoteQuantums``):
closing a delta is worth -DNNV to the account at the oracle price, and the account can
afford to give up its share of net collateral, TNC x |DMMR| / TMMR. The share is floored,
so a close at the bankruptcy quote leaves the account at or above its share of zero
equity, never below; closing the last position leaves exactly zero.
"""

from pyspec.constants import (
    LIQUIDATION_DUST_NOTIONAL,
    LIQUIDATION_SIZE_SLACK,
    MAX_KEEPER_REWARD,
    MIN_LIQUIDATION_REWARD,
    RATIO_PRECISION,
)
from pyspec.fixed_math import ceil_div, floor_div


def compute_liquidation_size(
    equity: int,
    maintenance: int,
    abs_size: int,
    price: int,
    maintenance_ratio: int,
    fee_ratio: int,
) -> int:
    """Return the most lots a liquidation may take: the fewest that restore maintenance;
    all of it when the account is at or below bankruptcy (equity <= 0), when that many
    reach the size, or when they would leave less than LIQUIDATION_DUST_NOTIONAL.

    Moving c lots at the oracle price leaves equity unchanged but for the penalty
    (<= c x price x fee) and frees c x price x mmr of requirement, so c must satisfy
    c x price x (mmr - fee) >= maintenance - equity (+ rounding slack):
    c = ceil((maintenance - equity + LIQUIDATION_SIZE_SLACK) x RATIO_PRECISION
    / (price x (mmr - fee))). The whole position goes when c reaches it or would leave
    less than LIQUIDATION_DUST_NOTIONAL. Rounds up (toward the protocol). The liquidator
    may take less (``process_liquidate``'s ``max_size``).
    Contract: ``liquidation.compute_liquidation_size``. Anchor: Mango v4 liquidates to a
    target health, dYdX v4 partially with a minimum notional.
    """
    if equity <= 0:
        return abs_size
    shortfall = maintenance - equity + LIQUIDATION_SIZE_SLACK
    size = ceil_div(shortfall * RATIO_PRECISION, price * (maintenance_ratio - fee_ratio))
    if size >= abs_size or (abs_size - size) * price < LIQUIDATION_DUST_NOTIONAL:
        return abs_size
    return size


def compute_equity_share(equity: int, maintenance_delta: int, maintenance: int) -> int:
    """Return floor(TNC x |DMMR| / TMMR): the equity a close of that risk may consume.

    Positive: what the account can pay (penalty cap). Negative: the deficit the close
    leaves, which the insurance fund, then ADL counterparties, must absorb. Rounded down,
    so a deficit is never understated. Contract: ``liquidation.compute_equity_share``.
    Anchor: dYdX v4 ``GetBankruptcyPriceInQuoteQuantums``.
    """
    return floor_div(equity * maintenance_delta, maintenance)


def compute_bankruptcy_cash(oracle_cash: int, equity_share: int) -> int:
    """Return the cash the account receives closing at the bankruptcy price: -DNNV - share.

    ``oracle_cash`` is the cash of the same close at the oracle price (-DNNV, exact).
    Contract: ``liquidation.compute_bankruptcy_cash``. Anchor: dYdX v4, as above.
    """
    return oracle_cash - equity_share


def compute_penalty(notional: int, fee_ratio: int, equity_share: int) -> int:
    """Return min(ceil(notional x fee), max(share, 0)): capped at what is above bankruptcy.

    The fee is a charge and rounds up; the cap never rounds. Contract:
    ``liquidation.compute_penalty``. Anchor: dYdX v4 insurance delta, min(fill - bankruptcy
    quote, |quote| x max liquidation fee).
    """
    return min(ceil_div(notional * fee_ratio, RATIO_PRECISION), max(equity_share, 0))


def compute_liquidator_reward(notional: int, fee_ratio: int, liquidator_share_ratio: int) -> int:
    """Return max(floor(ceil(notional x fee) x share), MIN_LIQUIDATION_REWARD).

    The liquidator's share of the full fee, whatever the account could pay: the penalty
    goes to the fund and the fund pays the reward, so a liquidation at or below
    bankruptcy (penalty capped at zero) is still worth doing; bounded by the fee share.
    The reward, a payout, rounds down, but is never zero. Contract:
    ``liquidation.compute_liquidator_reward``. Anchor: Drift v2 pays the liquidator from
    the insurance fund on bankruptcy (``resolve_perp_bankruptcy``, ``liquidator_fee``).
    """
    fee = ceil_div(notional * fee_ratio, RATIO_PRECISION)
    return max(floor_div(fee * liquidator_share_ratio, RATIO_PRECISION), MIN_LIQUIDATION_REWARD)


def compute_keeper_reward(
    notional: int, fee_ratio: int, liquidator_share_ratio: int, deficit: int
) -> int:
    """Return a deleverage keeper's reward (N9): a liquidator's reward on the closed
    position's notional, at most MAX_KEEPER_REWARD (enough for the gas of a complete
    deleverage at the bounds, never a prize worth bankrupting a position for) and at most
    ``deficit``, the part of the account's deficit the call resolves: a keeper earns no
    more than the loss it clears, so a position a unit under water carries a unit, not a
    reward (a review's carrier). Contract: ``liquidation.compute_keeper_reward``."""
    return min(
        compute_liquidator_reward(notional, fee_ratio, liquidator_share_ratio),
        MAX_KEEPER_REWARD,
        deficit,
    )


def compute_haircut(amount: int, bad_debt: int, claims: int) -> int:
    """Return the loss rule's haircut on the old part ``amount`` of a withdrawal while
    ``bad_debt`` B is recorded against the old ``claims`` O (the engine's balance - fund +
    B - new money): ceil(amount x B / O), the payout rounding down, and never more than B.
    Contract: ``liquidation.compute_haircut``."""
    return min(ceil_div(amount * bad_debt, claims), bad_debt)


def compute_liquidation_terms(
    equity: int,
    maintenance: int,
    abs_size: int,
    price: int,
    maintenance_ratio: int,
    fee_ratio: int,
    liquidator_share_ratio: int,
    max_size: int,
) -> tuple[int, int, int, int]:
    """Return (lots, equity share, penalty, reward) of a liquidation taking at most
    ``max_size`` lots: the size above capped by the liquidator, the share of the risk it
    closes (|DMMR| from the requirements before and after, each rounded up), the penalty
    and the liquidator's reward on the lots' notional. Contract:
    ``liquidation.compute_liquidation_terms`` (the engine calls it through
    ``AdlAllocator.liquidation_terms``, out of its EIP-170 budget).
    """
    lots = min(
        compute_liquidation_size(
            equity, maintenance, abs_size, price, maintenance_ratio, fee_ratio
        ),
        max_size,
    )
    maintenance_delta = ceil_div(abs_size * price * maintenance_ratio, RATIO_PRECISION) - ceil_div(
        (abs_size - lots) * price * maintenance_ratio, RATIO_PRECISION
    )
    share = compute_equity_share(equity, maintenance_delta, maintenance)
    notional = lots * price
    return (
        lots,
        share,
        compute_penalty(notional, fee_ratio, share),
        compute_liquidator_reward(notional, fee_ratio, liquidator_share_ratio),
    )
