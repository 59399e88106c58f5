# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Timelock over roles and market parameters
@notice Spec: `pyspec/governor.py`. The engine's governor: its owner schedules a call, the
        call is visible by event for `delay` seconds, then anyone executes it within the
        grace period; the owner may cancel it before. Only the calls in the allowlist
        below can be scheduled: the engine's oracle, guardian, market parameters,
        delisting, listing and fund withdrawal, and the Settlement's operator. A call
        supersedes the pending call of its kind (the same setter; for a market, the same
        setter and market), which dies; a call for a market names one listed now. The
        owner itself changes in two steps.
        Anchors: GMX v2 `Timelock.sol`, Compound's `Timelock`, OpenZeppelin Ownable2Step.
"""

import lib.constants as constants
import engine.storage as storage


interface IPerpEngine:
    def market_count() -> uint256: view
    def markets(market_id: uint256) -> storage.Market: view


event CallScheduled:
    call_id: indexed(bytes32)
    target: indexed(address)
    data: Bytes[MAX_CALLDATA]
    eta: uint256


event CallCancelled:
    call_id: indexed(bytes32)


event CallExecuted:
    call_id: indexed(bytes32)
    target: indexed(address)
    data: Bytes[MAX_CALLDATA]


event OwnershipTransferStarted:
    previous_owner: indexed(address)
    new_owner: indexed(address)


event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)


# The longest allowed call: set_market_params(uint256, (10 x uint256)).
MAX_CALLDATA: constant(uint256) = 4 + 11 * 32

SET_ORACLE: constant(bytes4) = method_id("set_oracle(address)", output_type=bytes4)
SET_GUARDIAN: constant(bytes4) = method_id("set_guardian(address)", output_type=bytes4)
SET_MARKET_PARAMS: constant(bytes4) = method_id(
    "set_market_params(uint256,(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256))",
    output_type=bytes4,
)
DELIST_MARKET: constant(bytes4) = method_id("delist_market(uint256)", output_type=bytes4)
ADD_MARKET: constant(bytes4) = method_id(
    "add_market((uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256),bytes32)",
    output_type=bytes4,
)
WITHDRAW_INSURANCE: constant(bytes4) = method_id("withdraw_insurance(uint256)", output_type=bytes4)
SET_OPERATOR: constant(bytes4) = method_id("set_operator(address)", output_type=bytes4)

engine: public(immutable(address))
settlement: public(immutable(address))
# Seconds between scheduling a call and the earliest time it may run.
delay: public(immutable(uint256))
# Read by the engine in the middle of `execute` (a fund withdrawal pays the owner), so
# its getter is exempt from the reentrancy lock: a view that changes nothing.
_owner: address
# Named by the owner; becomes the owner when it accepts.
pending_owner: public(address)
# When a scheduled call may run (0: not scheduled), by call id.
eta: public(HashMap[bytes32, uint256])
# The latest call scheduled of each kind (`_kind`): scheduling another supersedes it (N6).
latest: public(HashMap[bytes32, bytes32])


@deploy
def __init__(engine_address: address, settlement_address: address, governance_delay: uint256):
    """
    @notice Deploy for the engine and its Settlement with a delay within
            [MIN_GOVERNANCE_DELAY, MAX_GOVERNANCE_DELAY]; the deployer is the owner.
            Spec: `governor.new_governor`.
    """
    assert (
        constants.MIN_GOVERNANCE_DELAY <= governance_delay
        and governance_delay <= constants.MAX_GOVERNANCE_DELAY
    ), "config: invalid governance delay"
    engine = engine_address
    settlement = settlement_address
    delay = governance_delay
    self._owner = msg.sender


@internal
@pure
def _call_id(target: address, data: Bytes[MAX_CALLDATA]) -> bytes32:
    return keccak256(abi_encode(target, data))


@external
@pure
def call_id(target: address, data: Bytes[MAX_CALLDATA]) -> bytes32:
    """
    @notice The id of a call: keccak256(abi.encode(target, data)). Spec: `governor.call_id`.
    """
    return self._call_id(target, data)


@internal
@view
def _require_allowed(target: address, data: Bytes[MAX_CALLDATA]):
    """
    @notice The call is in the allowlist. Spec: `governor._require_allowed`.
    """
    # every allowed call has an argument: a shorter one is malformed
    assert len(data) >= 36, "governor: call not allowed"
    selector: bytes4 = convert(slice(data, 0, 4), bytes4)
    # and its exact size (static arguments): trailing bytes would give the same call a
    # second id, scheduled beside the first (a review)
    size: uint256 = 36
    if selector == SET_MARKET_PARAMS or selector == ADD_MARKET:
        size = 4 + 32 * 11
    assert len(data) == size, "governor: call not allowed"
    engine_call: bool = selector in [
        SET_ORACLE,
        SET_GUARDIAN,
        SET_MARKET_PARAMS,
        DELIST_MARKET,
        ADD_MARKET,
        WITHDRAW_INSURANCE,
    ]
    assert (target == engine and engine_call) or (
        target == settlement and selector == SET_OPERATOR
    ), "governor: call not allowed"


@internal
@view
def _require_listed(data: Bytes[MAX_CALLDATA]):
    """
    @notice A call for one market names a listing there now (its key: slot + MAX_MARKETS x
            generation, `markets(slot).generation`): one scheduled for a key not listed
            yet would apply to whichever market a later listing puts there. Spec:
            `governor._require_listed`.
    """
    selector: bytes4 = convert(slice(data, 0, 4), bytes4)
    if selector != SET_MARKET_PARAMS and selector != DELIST_MARKET:
        return
    market_key: uint256 = extract32(data, 4, output_type=uint256)
    slot: uint256 = market_key % constants.MAX_MARKETS
    assert (
        slot < staticcall IPerpEngine(engine).market_count()
        and market_key // constants.MAX_MARKETS
        == (staticcall IPerpEngine(engine).markets(slot)).generation
    ), "market: unknown market"


@internal
@pure
def _kind(data: Bytes[MAX_CALLDATA]) -> bytes32:
    """
    @notice What a call replaces: the setter's selector (a role, the fund withdrawal), the
            selector and market (a market's parameters, its delisting), or nothing (a
            listing: each stands alone). Spec: `governor.kind`.
    """
    selector: bytes4 = convert(slice(data, 0, 4), bytes4)
    if selector == ADD_MARKET:
        return empty(bytes32)
    if selector == SET_MARKET_PARAMS or selector == DELIST_MARKET:
        return keccak256(slice(data, 0, 36))
    return keccak256(slice(data, 0, 4))


@external
def schedule(target: address, data: Bytes[MAX_CALLDATA]) -> bytes32:
    """
    @notice Schedule an allowed call to run after the delay (owner only); the pending call
            of the same kind, if any, is cancelled: a superseded call can never run (N6).
            Spec: `governor.process_schedule`.
    """
    assert msg.sender == self._owner, "auth: not owner"
    self._require_allowed(target, data)
    self._require_listed(data)
    call_id: bytes32 = self._call_id(target, data)
    assert self.eta[call_id] == 0, "governor: already scheduled"
    kind: bytes32 = self._kind(data)
    if kind != empty(bytes32):
        superseded: bytes32 = self.latest[kind]
        if self.eta[superseded] != 0:
            self.eta[superseded] = 0
            log CallCancelled(call_id=superseded)
        self.latest[kind] = call_id
    eta: uint256 = block.timestamp + delay
    self.eta[call_id] = eta
    log CallScheduled(call_id=call_id, target=target, data=data, eta=eta)
    return call_id


@external
def cancel(call_id: bytes32):
    """
    @notice Drop a scheduled call (owner only). Spec: `governor.process_cancel`.
    """
    assert msg.sender == self._owner, "auth: not owner"
    assert self.eta[call_id] != 0, "governor: not scheduled"
    self.eta[call_id] = 0
    log CallCancelled(call_id=call_id)


@external
def execute(target: address, data: Bytes[MAX_CALLDATA]):
    """
    @notice Run a scheduled call once its delay has passed and before its grace period
            ends (anyone); the target's revert reason comes back unchanged.
            Spec: `governor.process_execute`.
    """
    call_id: bytes32 = self._call_id(target, data)
    eta: uint256 = self.eta[call_id]
    assert eta != 0, "governor: not scheduled"
    assert block.timestamp >= eta, "governor: too early"
    assert block.timestamp <= eta + constants.GOVERNANCE_GRACE_PERIOD, "governor: expired"
    self.eta[call_id] = 0
    raw_call(target, data)
    log CallExecuted(call_id=call_id, target=target, data=data)


@external
@view
@reentrant
def owner() -> address:
    """
    @notice The owner: schedules, cancels, hands the Governor over.
    """
    return self._owner


@external
def transfer_ownership(new_owner: address):
    """
    @notice Name the next owner, who must accept (owner only); naming another, or the
            zero address, withdraws the offer. Spec: `governor.process_transfer_ownership`.
    """
    assert msg.sender == self._owner, "auth: not owner"
    self.pending_owner = new_owner
    log OwnershipTransferStarted(previous_owner=msg.sender, new_owner=new_owner)


@external
def accept_ownership():
    """
    @notice Become the owner (the pending owner only). Spec: `governor.process_accept_ownership`.
    """
    assert msg.sender == self.pending_owner, "auth: not pending owner"
    log OwnershipTransferred(previous_owner=self._owner, new_owner=msg.sender)
    self._owner = msg.sender
    self.pending_owner = empty(address)
