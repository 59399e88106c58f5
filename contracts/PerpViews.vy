# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Position price views, kept out of the engine's EIP-170 budget
@notice Spec: `pyspec/views.py` (`liquidation_price`, `bankruptcy_price`). Reads the engine's
        getters and views and applies the engine modules' own arithmetic, so a price here
        is the price the engine's liquidation and waterfall would act on.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.storage as storage
import engine.margin as margin
import engine.liquidation as liquidation


interface IPerpEngine:
    def markets(market_id: uint256) -> storage.Market: view
    def positions(account: address, market_id: uint256) -> storage.Position: view
    def equity(account: address) -> int256: view
    def maintenance_margin(account: address) -> int256: view


engine: public(immutable(IPerpEngine))


@deploy
def __init__(perp_engine: IPerpEngine):
    engine = perp_engine


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
    others: int256 = staticcall engine.maintenance_margin(
        account
    ) - margin.compute_margin_requirement(size, market.price, market.maintenance_margin_ratio)
    numerator: int256 = (
        others - staticcall engine.equity(account) + size * convert(market.price, int256)
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
        staticcall engine.equity(account),
        margin.compute_margin_requirement(size, market.price, market.maintenance_margin_ratio),
        staticcall engine.maintenance_margin(account),
    )
    cash: int256 = liquidation.compute_bankruptcy_cash(size * convert(market.price, int256), share)
    price: int256 = 0
    if size > 0:
        price = fixed_math.ceil_div(cash, size)
    else:
        price = fixed_math.floor_div(-cash, -size)
    return convert(max(price, 0), uint256)
