"""The timelock over roles and market parameters. Contract: ``contracts/Governor.vy``.

The engine's governor: its owner schedules an allowed call, the call is visible by event
for ``delay`` seconds, then anyone executes it before the grace period ends; the owner may
cancel it until then. The allowlist is the whole of what the owner can change later:
the engine's oracle, guardian, market parameters (the ADL policy among them), delisting,
listing and fund withdrawal, and the Settlement's operator (the owner lists at once only
while the engine holds no tokens: the deployment's markets). A call supersedes the
pending call of its kind, which dies (N6: a superseded operator came back 14 days
later). The owner changes in two steps.

Anchors: GMX v2 ``contracts/config/Timelock.sol`` (signalled, delayed role and feed
changes), Compound's ``Timelock`` (delay, grace period), OpenZeppelin Ownable2Step.
The Governor's storage lives at ``state.timelock``.
"""

from functools import lru_cache

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from pyspec import governance, settlement
from pyspec.constants import GOVERNANCE_GRACE_PERIOD, MAX_GOVERNANCE_DELAY, MIN_GOVERNANCE_DELAY
from pyspec.errors import require
from pyspec.keccak import keccak
from pyspec.state import State, Timelock
from pyspec.token import ZERO_ADDRESS

MARKET_PARAMS_ABI = "(" + ",".join(["uint256"] * len(governance.MARKET_PARAMS)) + ")"
# selector -> (target: "engine" or "settlement", signature, spec function)
ALLOWED = {
    function_signature_to_4byte_selector(signature): (target, signature, fn)
    for target, signature, fn in (
        ("engine", "set_oracle(address)", governance.process_set_oracle),
        ("engine", "set_guardian(address)", governance.process_set_guardian),
        (
            "engine",
            f"set_market_params(uint256,{MARKET_PARAMS_ABI})",
            governance.process_set_market_params,
        ),
        ("engine", "delist_market(uint256)", governance.process_delist_market),
        ("engine", f"add_market({MARKET_PARAMS_ABI},bytes32)", governance.process_add_market),
        ("engine", "withdraw_insurance(uint256)", governance.process_withdraw_insurance),
        ("settlement", "set_operator(address)", settlement.process_set_operator),
    )
}

# Each allowed call's calldata size: the selector and one word per argument (every one is
# a static one-word type: address, uint256, bytes32, the listing's ten uint256).
CALLDATA_SIZES = {
    selector: 4 + 32 * (signature.count(",") + 1) for selector, (_, signature, _) in ALLOWED.items()
}


def new_governor(
    address: str, deployer: str, engine_address: str, settlement_address: str, delay: int
) -> Timelock:
    """Return the Governor's storage right after ``deployer`` deployed it.

    Contract: ``Governor.__init__``.
    """
    require(
        MIN_GOVERNANCE_DELAY <= delay <= MAX_GOVERNANCE_DELAY, "config: invalid governance delay"
    )
    return Timelock(address, engine_address, settlement_address, delay, deployer)


@lru_cache(maxsize=4096)
def call_id(target: str, data: bytes) -> bytes:
    """keccak256(abi.encode(target, data)). Contract: ``Governor.call_id``. Cached
    (pure): a call is scheduled, read and executed under the same id."""
    return keccak(encode(["address", "bytes"], [target, data]))


def _types(signature: str) -> list[str]:
    """The argument types of ``name(t1,(t2,t3))``, tuples kept whole."""
    inner = signature[signature.index("(") + 1 : -1]
    types, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            types.append(inner[start:i])
            start = i + 1
    return [*types, inner[start:]] if inner else types


def _require_allowed(timelock: Timelock, target: str, data: bytes) -> None:
    """Only the allowlisted calls, each to its own contract.

    Contract: ``Governor._require_allowed``."""
    allowed = ALLOWED.get(data[:4]) if len(data) >= 36 else None  # every call has an argument
    # and its exact size (static arguments): trailing bytes would give the same call a
    # second id, scheduled beside the first (a review)
    if allowed is not None and len(data) != CALLDATA_SIZES[data[:4]]:
        allowed = None
    contract = (
        allowed and {"engine": timelock.engine, "settlement": timelock.settlement}[allowed[0]]
    )
    require(allowed is not None and target == contract, "governor: call not allowed")


def _require_listed(state: State, data: bytes) -> None:
    """A call for one market names a listing there now (``governance.market_slot``): one
    scheduled for a key not listed yet would apply to whichever market a later listing
    puts there.

    Contract: ``Governor._require_listed``."""
    if ALLOWED[data[:4]][1].startswith(("set_market_params", "delist_market")):
        governance.market_slot(state, int.from_bytes(data[4:36], "big"))


def kind(data: bytes) -> bytes | None:
    """What a call replaces: the setter's selector (a role, the fund withdrawal), the
    selector and market (a market's parameters, its delisting), or nothing (a listing:
    each stands alone). Contract: ``Governor._kind``."""
    name = ALLOWED[data[:4]][1]
    if name.startswith("add_market"):
        return None
    if name.startswith(("set_market_params", "delist_market")):
        return keccak(data[:36])
    return keccak(data[:4])


def process_schedule(state: State, caller: str, target: str, data: bytes) -> bytes:
    """Schedule an allowed call to run after the delay (owner only); the pending call of
    the same kind, if any, is cancelled: a superseded call can never run (N6).

    Contract: ``Governor.schedule``.
    """
    timelock = state.timelock
    require(caller == timelock.owner, "auth: not owner")
    _require_allowed(timelock, target, data)
    _require_listed(state, data)
    ident = call_id(target, data)
    require(ident not in timelock.eta, "governor: already scheduled")
    key = kind(data)
    if key is not None:
        superseded = timelock.latest.get(key)
        if superseded in timelock.eta:
            del timelock.eta[superseded]
            state.events.append(("CallCancelled", (superseded,)))
        timelock.latest[key] = ident
    eta = state.timestamp + timelock.delay
    timelock.eta[ident] = eta
    if ident not in timelock.touched:
        timelock.touched.append(ident)
    state.events.append(("CallScheduled", (ident, target, data, eta)))
    return ident


def process_cancel(state: State, caller: str, ident: bytes) -> None:
    """Drop a scheduled call (owner only). Contract: ``Governor.cancel``."""
    timelock = state.timelock
    require(caller == timelock.owner, "auth: not owner")
    require(ident in timelock.eta, "governor: not scheduled")
    del timelock.eta[ident]
    state.events.append(("CallCancelled", (ident,)))


def process_execute(state: State, caller: str, target: str, data: bytes) -> None:
    """Run a scheduled call once its delay has passed and before its grace period ends
    (anyone); the target's revert reason comes back unchanged.

    Contract: ``Governor.execute``. Only allowed calls can have been scheduled, so the
    spec dispatches by selector to the target's own spec function, as the Governor itself.
    """
    timelock = state.timelock
    ident = call_id(target, data)
    eta = timelock.eta.get(ident)
    require(eta is not None, "governor: not scheduled")
    require(state.timestamp >= eta, "governor: too early")
    require(state.timestamp <= eta + GOVERNANCE_GRACE_PERIOD, "governor: expired")
    del timelock.eta[ident]
    _, signature, fn = ALLOWED[data[:4]]
    args = decode(_types(signature), data[4:])
    fn(state, timelock.address, *(a.lower() if isinstance(a, str) else a for a in args))
    state.events.append(("CallExecuted", (ident, target, data)))


def process_transfer_ownership(state: State, caller: str, new_owner: str) -> None:
    """Name the next owner, who must accept; naming another, or the zero address,
    withdraws the offer. Contract: ``Governor.transfer_ownership``. Anchor: OpenZeppelin
    Ownable2Step, snekmate's ownable_2step: a typo cannot hand the protocol to nobody.
    """
    timelock = state.timelock
    require(caller == timelock.owner, "auth: not owner")
    timelock.pending_owner = new_owner
    state.events.append(("OwnershipTransferStarted", (caller, new_owner)))


def process_accept_ownership(state: State, caller: str) -> None:
    """Become the owner. Contract: ``Governor.accept_ownership``."""
    timelock = state.timelock
    require(caller == timelock.pending_owner, "auth: not pending owner")
    state.events.append(("OwnershipTransferred", (timelock.owner, caller)))
    timelock.owner = caller
    timelock.pending_owner = ZERO_ADDRESS
