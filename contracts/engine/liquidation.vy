# pragma version ~=0.4.3
"""
@title Liquidation sizing, penalty and bankruptcy quote
@notice Spec: `pyspec/liquidation.py`. The bankruptcy quote follows dYdX v4's cross-margin
        formula: closing a delta is worth -DNNV at the oracle price and the account can
        give up its share of net collateral, floor(TNC x |DMMR| / TMMR).
"""

import lib.constants as constants
import lib.fixed_math as fixed_math


@internal
@pure
def compute_liquidation_size(
    equity: int256,
    maintenance: int256,
    abs_size: int256,
    price: uint256,
    maintenance_ratio: uint256,
    fee_ratio: uint256,
) -> int256:
    """
    @notice Return the most lots a liquidation may take: the fewest that restore
            maintenance; all of it at or below bankruptcy (equity <= 0).
    @dev c = ceil((maintenance - equity + LIQUIDATION_SIZE_SLACK) x RATIO_PRECISION
         / (price x (mmr - fee))); all of it when c reaches the size or leaves less than
         LIQUIDATION_DUST_NOTIONAL. Spec: `liquidation.compute_liquidation_size`.
    """
    if equity <= 0:
        return abs_size
    shortfall: int256 = maintenance - equity + constants.LIQUIDATION_SIZE_SLACK
    size: int256 = fixed_math.ceil_div(
        shortfall * constants.RATIO_PRECISION,
        convert(price, int256) * convert(maintenance_ratio - fee_ratio, int256),
    )
    if size >= abs_size or (abs_size - size) * convert(
        price, int256
    ) < constants.LIQUIDATION_DUST_NOTIONAL:
        return abs_size
    return size


@internal
@pure
def compute_equity_share(equity: int256, maintenance_delta: int256, maintenance: int256) -> int256:
    """
    @notice Return floor(TNC x |DMMR| / TMMR): the equity a close of that risk may consume;
            negative, the deficit it leaves (never understated).
            Spec: `liquidation.compute_equity_share`.
    """
    return fixed_math.floor_div(equity * maintenance_delta, maintenance)


@internal
@pure
def compute_bankruptcy_cash(oracle_cash: int256, equity_share: int256) -> int256:
    """
    @notice Return the cash of closing at the bankruptcy price: -DNNV - share.
            Spec: `liquidation.compute_bankruptcy_cash`.
    """
    return oracle_cash - equity_share


@internal
@pure
def compute_penalty(notional: int256, fee_ratio: uint256, equity_share: int256) -> int256:
    """
    @notice Return min(ceil(notional x fee), max(share, 0)). Spec: `liquidation.compute_penalty`.
    """
    return min(
        fixed_math.ceil_div(notional * convert(fee_ratio, int256), constants.RATIO_PRECISION),
        max(equity_share, 0),
    )


@internal
@pure
def compute_liquidator_reward(
    notional: int256, fee_ratio: uint256, liquidator_share_ratio: uint256
) -> int256:
    """
    @notice Return max(floor(ceil(notional x fee) x share), MIN_LIQUIDATION_REWARD): the
            liquidator's share of the full fee, paid by the fund, never zero.
            Spec: `liquidation.compute_liquidator_reward`.
    """
    fee: int256 = fixed_math.ceil_div(
        notional * convert(fee_ratio, int256), constants.RATIO_PRECISION
    )
    return max(
        fixed_math.floor_div(
            fee * convert(liquidator_share_ratio, int256), constants.RATIO_PRECISION
        ),
        constants.MIN_LIQUIDATION_REWARD,
    )


@internal
@pure
def compute_keeper_reward(
    notional: int256, fee_ratio: uint256, liquidator_share_ratio: uint256, deficit: int256
) -> int256:
    """
    @notice Return a deleverage keeper's reward (N9): a liquidator's reward on the closed
            position's notional, at most MAX_KEEPER_REWARD and at most `deficit`, the part
            of the account's deficit the call resolves. Spec:
            `liquidation.compute_keeper_reward`.
    """
    return min(
        min(
            self.compute_liquidator_reward(notional, fee_ratio, liquidator_share_ratio),
            constants.MAX_KEEPER_REWARD,
        ),
        deficit,
    )


@internal
@pure
def compute_haircut(amount: uint256, bad_debt: uint256, claims: uint256) -> uint256:
    """
    @notice Return the loss rule's haircut on the old part `amount` of a withdrawal while
            `bad_debt` B is recorded against the old `claims` O (all claims less the new
            money): min(ceil(amount x B / O), B), the payout rounding down.
            Spec: `liquidation.compute_haircut`.
    """
    return min(
        convert(
            fixed_math.ceil_div(convert(amount * bad_debt, int256), convert(claims, int256)),
            uint256,
        ),
        bad_debt,
    )


@internal
@pure
def compute_liquidation_terms(
    equity: int256,
    maintenance: int256,
    abs_size: int256,
    price: uint256,
    maintenance_ratio: uint256,
    fee_ratio: uint256,
    liquidator_share_ratio: uint256,
    max_size: uint256,
) -> (int256, int256, int256, int256):
    """
    @notice Return (lots, equity share, penalty, reward) of a liquidation taking at most
            `max_size` lots; |DMMR| from the requirements before and after, each rounded
            up. Spec: `liquidation.compute_liquidation_terms`.
    """
    lots: int256 = self.compute_liquidation_size(
        equity, maintenance, abs_size, price, maintenance_ratio, fee_ratio
    )
    if max_size < convert(lots, uint256):  # then max_size < abs_size fits in int256
        lots = convert(max_size, int256)
    scale: int256 = convert(price, int256) * convert(maintenance_ratio, int256)
    maintenance_delta: int256 = fixed_math.ceil_div(
        abs_size * scale, constants.RATIO_PRECISION
    ) - fixed_math.ceil_div((abs_size - lots) * scale, constants.RATIO_PRECISION)
    share: int256 = self.compute_equity_share(equity, maintenance_delta, maintenance)
    notional: int256 = lots * convert(price, int256)
    return (
        lots,
        share,
        self.compute_penalty(notional, fee_ratio, share),
        self.compute_liquidator_reward(notional, fee_ratio, liquidator_share_ratio),
    )
