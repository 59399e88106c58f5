# pragma version ~=0.4.3
# pragma optimize codesize
# pragma nonreentrancy on
"""
@title Signed-order settlement
@notice Spec: `pyspec/settlement.py`. Traders sign orders off-chain as EIP-712 typed data
        (domain "Perp Settlement", version "1", the chain id at call time, this contract);
        an order names its market by key, slot + MAX_MARKETS x the listing's generation
        (a hash of its asset, its parameters and its predecessor), so an order signed for
        another listing, settled or not yet made, never fills on the one there;
        the operator submits a matched pair, and each order is checked against its
        expiry, its trader's nonce floor, cancellation, the lots left, its limit price,
        its signature and reduce-only flag before the engine settles the trade. The engine
        runs its own checks (band, margins, sizes, self-trade); none are repeated here.
        Signatures are ECDSA only (no EIP-1271): a contract account cannot sign an order.
        The escape hatch lives here too: a trader's exit request is its consent to be
        closed at the oracle price; anyone may take it; unserved for EXIT_DELAY while
        nobody trades at all, it settles the market at a fresh price (`escape`).
"""

import lib.constants as constants
import engine.storage as storage


interface IPerpEngine:
    def settle_trade(
        buyer: address,
        seller: address,
        market_id: uint256,
        size: uint256,
        price: uint256,
        buyer_is_taker: bool,
    ): nonpayable
    def positions(account: address, market_id: uint256) -> storage.Position: view
    def markets(market_id: uint256) -> storage.Market: view
    def governor() -> address: view
    def delist_market(market_key: uint256): nonpayable
    def market_count() -> uint256: view


struct Order:
    trader: address
    # The market's key: its slot + MAX_MARKETS x the slot's generation (`_market_slot`).
    market: uint256
    is_buy: bool
    # Lots: the most this order may fill in total.
    size: uint256
    # Worst price: the most a buy pays, the least a sell takes.
    limit_price: uint256
    # Fill only against an opposite position of the trader, up to its size.
    reduce_only: bool
    nonce: uint256
    # Last block time at which the order may fill.
    expiry: uint256


event OrderFilled:
    order_hash: indexed(bytes32)
    trader: indexed(address)
    size: uint256
    filled: uint256


event OrderCancelled:
    order_hash: indexed(bytes32)
    trader: indexed(address)


event OperatorSet:
    operator: indexed(address)


event ExitRequested:
    trader: indexed(address)
    market: indexed(uint256)
    size: int256
    deadline: uint256


event ExitTaken:
    trader: indexed(address)
    taker: indexed(address)
    market: indexed(uint256)
    size: int256
    price: uint256


event ExitEscaped:
    trader: indexed(address)
    market: indexed(uint256)


event ExitCancelled:
    trader: indexed(address)
    market: indexed(uint256)


struct ExitRequest:
    # The position the trader asked to leave, by its size and its last fill (the engine's
    # fill counter): any change of the position voids the request for good (N1).
    size: int256
    last_fill: uint256
    # From this block time on, an unserved request may settle the market.
    deadline: uint256


event NoncesInvalidated:
    trader: indexed(address)
    min_nonce: uint256


DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
NAME_HASH: constant(bytes32) = keccak256("Perp Settlement")
VERSION_HASH: constant(bytes32) = keccak256("1")
ORDER_TYPEHASH: constant(bytes32) = keccak256(
    "Order(address trader,uint256 market,bool is_buy,uint256 size,uint256 limit_price,bool reduce_only,uint256 nonce,uint256 expiry)"
)
# secp256k1n / 2 = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0: a higher
# s is the malleable twin of a valid signature (EIP-2).
MAX_S: constant(uint256) = (
    57896044618658097711785492504343953926418782139537452191302581570759080747168
)

engine: public(immutable(IPerpEngine))
operator: public(address)
# Lots filled per order digest; never above the order's size.
filled: public(HashMap[bytes32, uint256])
cancelled: public(HashMap[bytes32, bool])
# A trader's orders with a lower nonce are void.
min_nonce: public(HashMap[address, uint256])
# Standing exit requests, by trader and market; a settled trade of the trader in the
# market clears them.
exit_requests: public(HashMap[address, HashMap[uint256, ExitRequest]])
# Block time of the latest match or exit takeover: an escape needs none since its request.
last_trade_time: public(uint256)


@deploy
def __init__(engine_address: address, operator: address):
    """
    @notice Deploy for the engine at `engine_address` (named apart from the `engine`
            immutable), matched orders submitted by `operator`.
    """
    engine = IPerpEngine(engine_address)
    self.operator = operator


@internal
@view
def _domain_separator() -> bytes32:
    # chain.id at call time: a signature made for one chain is void on a fork.
    return keccak256(abi_encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chain.id, self))


@internal
@pure
def _struct_hash(order: Order) -> bytes32:
    """
    @notice EIP-712 hashStruct of an order. Spec: `settlement.struct_hash`.
    """
    return keccak256(
        abi_encode(
            ORDER_TYPEHASH,
            order.trader,
            order.market,
            order.is_buy,
            order.size,
            order.limit_price,
            order.reduce_only,
            order.nonce,
            order.expiry,
        )
    )


@internal
@view
def _order_hash(order: Order) -> bytes32:
    return keccak256(concat(x"1901", self._domain_separator(), self._struct_hash(order)))


@external
@view
def domain_separator() -> bytes32:
    """
    @notice The EIP-712 domain separator on the current chain.
            Spec: `settlement.domain_separator`.
    """
    return self._domain_separator()


@external
@view
def order_hash(order: Order) -> bytes32:
    """
    @notice The EIP-712 digest a trader signs for `order`. Spec: `settlement.order_hash`.
    """
    return self._order_hash(order)


@internal
@view
def _recover_signer(digest: bytes32, signature: Bytes[65]) -> address:
    """
    @notice The signer of `digest`, or the zero address for a signature that is not 65
            bytes r || s || v with v in {27, 28} and a low s, or that does not recover.
            Spec: `settlement.recover_signer`.
    """
    if len(signature) != 65:
        return empty(address)
    r: uint256 = extract32(signature, 0, output_type=uint256)
    s: uint256 = extract32(signature, 32, output_type=uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    if v != 27 and v != 28:
        return empty(address)
    if s > MAX_S:
        return empty(address)
    # The precompile returns nothing (the zero address) for r or s outside [1, n).
    return ecrecover(digest, v, r, s)


@internal
def _fill(
    order: Order, signature: Bytes[65], market_id: uint256, size: uint256, price: uint256
) -> bytes32:
    """
    @notice Check one side of a match in the market listed in slot `market_id` and record
            `size` more lots filled on it; return the order's digest. Spec: `settlement._fill`.
    """
    assert block.timestamp <= order.expiry, "order: expired"
    assert order.nonce >= self.min_nonce[order.trader], "order: nonce invalidated"
    digest: bytes32 = self._order_hash(order)
    assert not self.cancelled[digest], "order: cancelled"
    # filled never exceeds order.size: no underflow.
    assert size <= order.size - self.filled[digest], "order: overfilled"
    if order.is_buy:
        assert price <= order.limit_price, "order: price beyond limit"
    else:
        assert price >= order.limit_price, "order: price beyond limit"
    signer: address = self._recover_signer(digest, signature)
    assert signer != empty(address) and signer == order.trader, "order: invalid signature"
    if order.reduce_only:
        # The engine bounds |position size| by MAX_POSITION_SIZE: negating cannot overflow.
        position: int256 = (staticcall engine.positions(order.trader, market_id)).size
        reduces: bool = False
        if order.is_buy:
            if position < 0:
                reduces = size <= convert(-position, uint256)
        elif position > 0:
            reduces = size <= convert(position, uint256)
        assert reduces, "order: not reduce-only"
    filled: uint256 = self.filled[digest] + size
    self.filled[digest] = filled
    log OrderFilled(order_hash=digest, trader=order.trader, size=size, filled=filled)
    return digest


@external
def settle(
    maker: Order,
    maker_signature: Bytes[65],
    taker: Order,
    taker_signature: Bytes[65],
    size: uint256,
    price: uint256,
):
    """
    @notice Settle `size` lots at `price` between two signed orders on opposite sides of
            one market (operator only): the maker's order is checked and filled first,
            then the taker's, then the engine settles the trade. Spec: `settlement.process_settle`.
    """
    assert msg.sender == self.operator, "auth: not operator"
    assert maker.market == taker.market, "order: market mismatch"
    assert maker.is_buy != taker.is_buy, "order: same side"
    market_id: uint256 = self._market_slot(maker.market)
    self._fill(maker, maker_signature, market_id, size, price)
    self._fill(taker, taker_signature, market_id, size, price)
    buyer: address = maker.trader
    seller: address = taker.trader
    buyer_is_taker: bool = taker.is_buy
    if buyer_is_taker:
        buyer = taker.trader
        seller = maker.trader
    self.exit_requests[buyer][market_id] = empty(ExitRequest)
    self.exit_requests[seller][market_id] = empty(ExitRequest)
    self.last_trade_time = block.timestamp
    extcall engine.settle_trade(buyer, seller, market_id, size, price, buyer_is_taker)


@internal
@view
def _market_slot(market_key: uint256) -> uint256:
    """
    @notice The slot of the listing an order's `market` names: slot + MAX_MARKETS x
            generation. An order signed for another listing (settled since, or not yet
            made) never fills on the one in its slot. Spec: `governance.market_slot`.
    """
    slot: uint256 = market_key % constants.MAX_MARKETS
    assert (
        slot < staticcall engine.market_count()
        and market_key // constants.MAX_MARKETS
        == (staticcall engine.markets(slot)).generation
    ), "market: unknown market"
    return slot


@external
def cancel_order(order: Order):
    """
    @notice Void an order for good (its trader only). Spec: `settlement.process_cancel_order`.
    """
    assert msg.sender == order.trader, "order: not signer"
    digest: bytes32 = self._order_hash(order)
    assert not self.cancelled[digest], "order: already cancelled"
    self.cancelled[digest] = True
    log OrderCancelled(order_hash=digest, trader=order.trader)


@external
def invalidate_nonces(min_nonce: uint256):
    """
    @notice Void every order of the caller with a nonce below `min_nonce`.
            Spec: `settlement.process_invalidate_nonces`.
    """
    assert min_nonce > self.min_nonce[msg.sender], "order: nonce not increasing"
    self.min_nonce[msg.sender] = min_nonce
    log NoncesInvalidated(trader=msg.sender, min_nonce=min_nonce)


@external
def set_operator(operator: address):
    """
    @notice Name the operator (the engine's governor only, so after its delay).
            Spec: `settlement.process_set_operator`.
    """
    assert msg.sender == staticcall engine.governor(), "auth: not governor"
    self.operator = operator
    log OperatorSet(operator=operator)


@internal
@pure
def _last_fill(position: storage.Position) -> uint256:
    """
    @notice The fill that last changed the position, from its stamp (`storage.Position.stamp`),
            which the spec keeps as the field `last_fill`.
    """
    return (position.stamp >> constants.LAST_FILL_SHIFT) & constants.LAST_FILL_MASK


@external
def request_exit(market_id: uint256):
    """
    @notice Ask to leave the caller's whole position in a live market at the oracle price:
            anyone may take it over (`take_exit`); unserved for EXIT_DELAY while nobody
            trades, anyone may settle the market (`escape`). Asking again restarts the
            clock. The request names the position by its last fill (N1).
            Spec: `settlement.process_request_exit`.
    """
    position: storage.Position = staticcall engine.positions(msg.sender, market_id)
    assert position.size != 0, "exit: no position"
    assert not (staticcall engine.markets(market_id)).settled, "market: settled"
    deadline: uint256 = block.timestamp + constants.EXIT_DELAY
    self.exit_requests[msg.sender][market_id] = ExitRequest(
        size=position.size, last_fill=self._last_fill(position), deadline=deadline
    )
    log ExitRequested(trader=msg.sender, market=market_id, size=position.size, deadline=deadline)


@external
def cancel_exit(market_id: uint256):
    """
    @notice Withdraw the caller's exit request. Spec: `settlement.process_cancel_exit`.
    """
    assert self.exit_requests[msg.sender][market_id].deadline != 0, "exit: not requested"
    self.exit_requests[msg.sender][market_id] = empty(ExitRequest)
    log ExitCancelled(trader=msg.sender, market=market_id)


@internal
@view
def _require_request(trader: address, market_id: uint256) -> ExitRequest:
    """
    @notice The standing request, unexpired, for the very position it named.
            Spec: `settlement._require_request`.
    """
    request: ExitRequest = self.exit_requests[trader][market_id]
    assert request.deadline != 0, "exit: not requested"
    assert block.timestamp <= request.deadline + constants.EXIT_WINDOW, "exit: expired"
    position: storage.Position = staticcall engine.positions(trader, market_id)
    assert (
        position.size == request.size and self._last_fill(position) == request.last_fill
    ), "exit: position changed"
    return request


@external
def take_exit(trader: address, market_id: uint256):
    """
    @notice Take a requested position over whole at the oracle price (anyone: the caller
            is the taker and pays the taker fee); the engine checks the trade as any other.
            Spec: `settlement.process_take_exit`.
    """
    request: ExitRequest = self._require_request(trader, market_id)
    self.exit_requests[trader][market_id] = empty(ExitRequest)
    self.last_trade_time = block.timestamp
    price: uint256 = (staticcall engine.markets(market_id)).price
    log ExitTaken(trader=trader, taker=msg.sender, market=market_id, size=request.size, price=price)
    size: uint256 = convert(abs(request.size), uint256)
    if request.size > 0:
        extcall engine.settle_trade(msg.sender, trader, market_id, size, price, True)
    else:
        extcall engine.settle_trade(trader, msg.sender, market_id, size, price, False)


@external
def escape(trader: address, market_id: uint256):
    """
    @notice Settle the market of an exit request nobody served (anyone): from its deadline
            to EXIT_WINDOW after, for the very position requested, and only if no match
            was settled and no exit taken since the request (the operator is gone, N1);
            the engine freezes the market at its fresh oracle price (N3).
            Spec: `settlement.process_escape`.
    """
    request: ExitRequest = self._require_request(trader, market_id)
    assert block.timestamp >= request.deadline, "exit: too early"
    assert (
        self.last_trade_time < request.deadline - constants.EXIT_DELAY
    ), "exit: operator active"
    self.exit_requests[trader][market_id] = empty(ExitRequest)
    log ExitEscaped(trader=trader, market=market_id)
    extcall engine.delist_market(
        market_id + constants.MAX_MARKETS * (staticcall engine.markets(market_id)).generation
    )
