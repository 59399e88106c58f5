"""The spec side of one call: what the differential pair, the bench's workload generator
and the ape baseline all run before (or instead of) the chain."""

from __future__ import annotations

from functools import cache

from harness.core import orders
from harness.core.call import BUNDLE, CLOCK, Call, Calldata, Signed
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
from pyspec import engine, governance, governor, settlement, token
from pyspec.errors import Revert
from pyspec.settlement import Order
from pyspec.state import State

_TOKEN_NAMES = {"transferFrom": "transfer_from"}  # the token's ABI name -> the spec's
_TOKEN_FUNCTIONS = {
    "mint": lambda t, sender, *args: token.mint(t, *args),
    "approve": token.approve,
    "transfer": token.transfer,
    "transferFrom": token.transfer_from,
}


def resolve(actors: dict[str, str], args: tuple) -> tuple:
    """``args`` with actor names replaced by their addresses, inside tuples (an order's
    trader) too; a 0x address (the zero address) stays as it is; a ``Calldata`` becomes
    its encoded bytes."""
    return tuple(_resolve(actors, a) for a in args)


def _resolve(actors: dict[str, str], arg):
    if isinstance(arg, str):
        return arg if arg.startswith("0x") else actors[arg]
    if isinstance(arg, tuple):
        return resolve(actors, arg)
    if isinstance(arg, Calldata):
        return encode_calldata(arg.fn, resolve(actors, arg.args))
    if isinstance(arg, Signed):
        return orders.sign_for(actors, Order(*resolve(actors, arg.order)))
    return arg


@cache
def _setters() -> dict:
    """The engine's and the Settlement's functions by name, from their ABIs."""
    return {
        item["name"]: FunctionCodec(item)
        for name in ("PerpEngine", "Settlement")
        for item in artifacts.load(name).abi
        if item.get("type") == "function"
    }


def encode_calldata(fn: str, args: tuple) -> bytes:
    """The calldata of the engine's or the Settlement's ``fn`` (a call the Governor
    schedules), encoded from the contracts' ABIs."""
    return _setters()[fn].encode(args)


def spec_function(target: str, fn: str):
    """The spec function a call to ``target.fn`` runs: ``process_<fn>`` of the engine's
    (or governance's), the Settlement's or the Governor's module, taking the state and the
    sender; the token's own function. AttributeError when there is none."""
    if target == "token":
        return getattr(token, _TOKEN_NAMES.get(fn, fn))
    modules = {"engine": engine, "settlement": settlement, "governor": governor}
    if target not in modules:
        raise AttributeError(f"no spec module for {target!r}")
    module = modules[target]
    if target == "engine" and hasattr(governance, "process_" + fn):
        module = governance
    return getattr(module, "process_" + fn)


def spec_apply(
    state: State, actors: dict[str, str], call: Call, saved: State | None = None
) -> tuple[State, str | None, list]:
    """Run ``call`` on the spec. Return the state after it (a saved copy when it reverted:
    a rejected call changes nothing), the revert reason (None on success) and the events.
    ``saved``: a copy of ``state`` the caller already made (its state before the call),
    kept for the revert instead of a second copy."""
    if call.target == CLOCK:  # time passes: no transaction
        state.events.clear()
        state.timestamp += call.args[0]
        return state, None, []
    if call.target == BUNDLE:
        return _spec_bundle(state, actors, call, saved)
    sender = actors[call.sender]
    args = resolve(actors, call.args)
    saved = state.copy() if saved is None else saved
    state.events.clear()
    try:
        if call.target == "token":
            _TOKEN_FUNCTIONS[call.fn](state.token, sender, *args)
        else:
            spec_function(call.target, call.fn)(state, sender, *args)
    except Revert as revert:
        saved.events.clear()
        return saved, revert.reason, []
    return state, None, list(state.events)


def _spec_bundle(state: State, actors: dict[str, str], call: Call, saved: State | None):
    """The attacker contract's transaction: every bundled call in order, on one state at
    one timestamp; the first revert undoes them all and is the bundle's reason."""
    saved, events = state.copy() if saved is None else saved, []
    for inner in call.args:
        state, reason, inner_events = spec_apply(state, actors, inner)
        if reason is not None:
            saved.events.clear()
            return saved, reason, []
        events += inner_events
    state.events[:] = events
    return state, None, events


def steps_of(actors: dict[str, str], call: Call, before: State, after: State, events: list):
    """The (call, state before, state after, events) of each call a successful ``call``
    made: itself, or each call of a bundle, replayed from ``before`` (not changed). The
    per-call properties and the branch counts read these."""
    if call.target != BUNDLE:
        return [(call, before, after, events)]
    steps, state = [], before
    for inner in call.args:
        inner_after, reason, inner_events = spec_apply(state.copy(), actors, inner)
        assert reason is None, f"a bundled call of a successful bundle reverted: {inner}"
        steps.append((inner, state, inner_after, inner_events))
        state = inner_after
    return steps
