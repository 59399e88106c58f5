# pragma version ~=0.4.3
"""
@title Read the whole protocol state in one call
@notice Test helper for the differential harness (`harness/core/dump.py` decodes the
        result): it packs every field the spec holds into a flat array so that a
        comparison costs one eth_call, and keeps this code out of the engine's size budget.
"""

from ethereum.ercs import IERC20
import lib.constants as constants


struct Market:
    initial_margin_ratio: uint256
    maintenance_margin_ratio: uint256
    liquidation_fee_ratio: uint256
    price_band_ratio: uint256
    max_funding_rate: uint256
    maker_fee_ratio: uint256
    taker_fee_ratio: uint256
    adl_policy: uint256
    max_price_age: uint256
    min_position_notional: uint256
    price: uint256
    price_timestamp: uint256
    open_interest: uint256
    funding_index: int256
    funding_residue: uint256
    funding_rate: int256
    funding_timestamp: uint256
    paused: bool
    settled: bool
    generation: uint256
    long_adl_round: uint256
    short_adl_round: uint256


struct Position:
    size: int256
    entry_notional: int256
    funding_checkpoint: int256
    stamp: uint256


interface IPerpEngine:
    def guardian() -> address: view
    def oracle() -> address: view
    def insurance_fund() -> uint256: view
    def bad_debt() -> uint256: view
    def fill_count() -> uint256: view
    def market_count() -> uint256: view
    def markets(market_id: uint256) -> Market: view
    def market_holders(market_id: uint256) -> DynArray[address, constants.MAX_POSITIONS_PER_MARKET]: view
    def collateral(account: address) -> int256: view
    def booked(account: address) -> uint256: view
    def fresh(account: address) -> uint256: view
    def loss_epoch() -> uint256: view
    def fresh_total() -> uint256: view
    def positions(account: address, market_id: uint256) -> Position: view


struct ExitRequest:
    size: int256
    last_fill: uint256
    deadline: uint256


interface ISettlement:
    def operator() -> address: view
    def exit_requests(trader: address, market_id: uint256) -> ExitRequest: view
    def last_trade_time() -> uint256: view
    def min_nonce(trader: address) -> uint256: view
    def filled(order_hash: bytes32) -> uint256: view
    def cancelled(order_hash: bytes32) -> bool: view


interface IGovernor:
    def owner() -> address: view
    def pending_owner() -> address: view
    def eta(call_id: bytes32) -> uint256: view


MAX_WORDS: constant(uint256) = 4096
# Order digests compared per dump: the harness passes the latest ones the spec touched.
MAX_DUMP_ORDERS: constant(uint256) = 128


@internal
@pure
def _int(word: uint256) -> int256:
    return convert(word, int256)


@external
@view
def dump(
    engine: IPerpEngine,
    token: IERC20,
    accounts: DynArray[address, constants.MAX_DUMP_ACCOUNTS],
    settlement: ISettlement,
    governor: IGovernor,
    digests: DynArray[bytes32, MAX_DUMP_ORDERS],
    call_ids: DynArray[bytes32, MAX_DUMP_ORDERS],
    markets: uint256,
) -> DynArray[int256, MAX_WORDS]:
    """
    @notice Return [fund, bad debt, market count, engine token balance, block time, owner,
            pending owner, guardian, oracle, operator, fill count, last trade time, loss epoch,
            new money total, per
            market: 20 fields, holder count, holders..., per account: token balance,
            collateral, booked loss, new money, per market: size, entry notional, funding checkpoint, last fill;
            then the order book: per account: nonce floor, per market: exit request size,
            last fill and deadline; digest count, per digest: the digest (as a signed word), filled,
            cancelled; then the governor: call id count, per id: the id, its eta].
            Each account's positions and exit requests appear only in the markets
            whose bit is set in `markets` (`constants.EVERY_MARKET`: all): between two
            full comparisons the harness reads an account only in the markets a call
            can have changed. Every market's own fields and holders appear always.
    """
    out: DynArray[int256, MAX_WORDS] = []
    count: uint256 = staticcall engine.market_count()
    out.append(self._int(staticcall engine.insurance_fund()))
    out.append(self._int(staticcall engine.bad_debt()))
    out.append(self._int(count))
    out.append(self._int(staticcall token.balanceOf(engine.address)))
    out.append(self._int(block.timestamp))
    out.append(self._int(convert(staticcall governor.owner(), uint256)))
    out.append(self._int(convert(staticcall governor.pending_owner(), uint256)))
    out.append(self._int(convert(staticcall engine.guardian(), uint256)))
    out.append(self._int(convert(staticcall engine.oracle(), uint256)))
    out.append(self._int(convert(staticcall settlement.operator(), uint256)))
    out.append(self._int(staticcall engine.fill_count()))
    out.append(self._int(staticcall settlement.last_trade_time()))
    out.append(self._int(staticcall engine.loss_epoch()))
    out.append(self._int(staticcall engine.fresh_total()))
    for market_id: uint256 in range(count, bound=constants.MAX_MARKETS):
        market: Market = staticcall engine.markets(market_id)
        out.append(self._int(market.initial_margin_ratio))
        out.append(self._int(market.maintenance_margin_ratio))
        out.append(self._int(market.liquidation_fee_ratio))
        out.append(self._int(market.price_band_ratio))
        out.append(self._int(market.max_funding_rate))
        out.append(self._int(market.maker_fee_ratio))
        out.append(self._int(market.taker_fee_ratio))
        out.append(self._int(market.adl_policy))
        out.append(self._int(market.max_price_age))
        out.append(self._int(market.min_position_notional))
        out.append(self._int(market.price))
        out.append(self._int(market.price_timestamp))
        out.append(self._int(market.open_interest))
        out.append(market.funding_index)
        out.append(self._int(market.funding_residue))
        out.append(market.funding_rate)
        out.append(self._int(market.funding_timestamp))
        out.append(self._int(convert(market.paused, uint256)))
        out.append(self._int(convert(market.settled, uint256)))
        out.append(self._int(market.generation))
        out.append(self._int(market.long_adl_round))
        out.append(self._int(market.short_adl_round))
        holders: DynArray[address, constants.MAX_POSITIONS_PER_MARKET] = staticcall engine.market_holders(
            market_id
        )
        out.append(self._int(len(holders)))
        for holder: address in holders:
            out.append(self._int(convert(holder, uint256)))
    for account: address in accounts:
        out.append(self._int(staticcall token.balanceOf(account)))
        out.append(staticcall engine.collateral(account))
        out.append(self._int(staticcall engine.booked(account)))
        out.append(self._int(staticcall engine.fresh(account)))
        for market_id: uint256 in range(count, bound=constants.MAX_MARKETS):
            if markets >> market_id & 1 == 0:
                continue
            position: Position = staticcall engine.positions(account, market_id)
            out.append(position.size)
            out.append(position.entry_notional)
            out.append(position.funding_checkpoint)
            out.append(self._int(position.stamp))
    for account: address in accounts:
        out.append(self._int(staticcall settlement.min_nonce(account)))
        for market_id: uint256 in range(count, bound=constants.MAX_MARKETS):
            if markets >> market_id & 1 == 0:
                continue
            request: ExitRequest = staticcall settlement.exit_requests(account, market_id)
            out.append(request.size)
            out.append(self._int(request.last_fill))
            out.append(self._int(request.deadline))
    out.append(self._int(len(digests)))
    for digest: bytes32 in digests:
        out.append(convert(digest, int256))
        out.append(self._int(staticcall settlement.filled(digest)))
        out.append(self._int(convert(staticcall settlement.cancelled(digest), uint256)))
    out.append(self._int(len(call_ids)))
    for call_id: bytes32 in call_ids:
        out.append(convert(call_id, int256))
        out.append(self._int(staticcall governor.eta(call_id)))
    return out


@external
@view
def hand_written(engine: IPerpEngine, governor: IGovernor) -> DynArray[int256, MAX_WORDS]:
    """
    @notice The values of the getters written by hand, which the harness's storage reads
            do not stand in for (`harness/core/chain_state.py`): the Governor's owner,
            then per market the holder count and the holders, as `dump` has them.
    """
    out: DynArray[int256, MAX_WORDS] = [self._int(convert(staticcall governor.owner(), uint256))]
    count: uint256 = staticcall engine.market_count()
    for market_id: uint256 in range(count, bound=constants.MAX_MARKETS):
        holders: DynArray[address, constants.MAX_POSITIONS_PER_MARKET] = staticcall engine.market_holders(
            market_id
        )
        out.append(self._int(len(holders)))
        for holder: address in holders:
            out.append(self._int(convert(holder, uint256)))
    return out
