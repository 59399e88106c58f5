"""Calls as an auditor reads them: every argument named after the contract's ABI, and a
struct (an order) with its fields named after the struct's components (vyper's ABI does
not name the struct itself: the argument's name, maker or taker, says what it is)."""

from harness.campaign.scope import TARGETS
from harness.core.call import BUNDLE, Call, show
from harness.evm import artifacts


def _inputs(target: str, fn: str) -> list[dict] | None:
    if target not in TARGETS:
        return None  # the clock's wait, the views' pseudo-call
    for item in artifacts.load(TARGETS[target]).abi:
        if item.get("type") == "function" and item.get("name") == fn:
            return item["inputs"]
    return None


def _value(value, spec: dict | None) -> str:
    components = (spec or {}).get("components")
    if isinstance(value, tuple) and components and len(components) == len(value):
        pairs = zip(components, value, strict=True)
        return "(" + ", ".join(f"{c['name']}={_value(v, c)}" for c, v in pairs) + ")"
    return show(value)


def describe(call: Call) -> str:
    """``sender -> target.fn(name=value, ...)``; a bundle lists its calls, each described."""
    if call.target == BUNDLE:
        inner = "; ".join(describe(c) for c in call.args)
        return f"{call.sender} -> {call.target}.{call.fn}([{inner}])"
    inputs = _inputs(call.target, call.fn)
    if inputs is None or len(inputs) != len(call.args):
        return str(call)
    pairs = zip(inputs, call.args, strict=True)
    args = ", ".join(f"{spec['name']}={_value(v, spec)}" for spec, v in pairs)
    return f"{call.sender} -> {call.target}.{call.fn}({args})"
