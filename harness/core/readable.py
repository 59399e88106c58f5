"""Calls, events and divergences as an auditor reads them: every argument named after the
contract's ABI, a struct (an order) with its fields named after the struct's components
(vyper's ABI does not name the struct itself: the argument's name, maker or taker, says
what it is), an event with its fields named, addresses by actor name, and of two values
that differ, which fields differ, with both values."""

import re
from functools import cache

from harness.core.call import BUNDLE, Call, Calldata, show
from harness.evm import artifacts
from pyspec.constants import COLLATERAL_DECIMALS

# a call's target -> the contract it reaches (``Pair``); the views' contract too, for a
# view divergence (``Pair.check_views``)
CONTRACTS = {
    "engine": "PerpEngine",
    "settlement": "Settlement",
    "governor": "Governor",
    "token": "MockToken",
    "bundle": "Bundler",
    "views": "PerpViews",
}


@cache  # a failure's note describes every call of its sequence: read each ABI once
def _inputs(target: str, fn: str) -> list[dict] | None:
    if target not in CONTRACTS:
        return None  # the clock's wait
    for item in artifacts.load(CONTRACTS[target]).abi:
        if item.get("type") == "function" and item.get("name") == fn:
            return item["inputs"]
    return None  # the views' pseudo-call


@cache
def _events() -> dict[str, list[str]]:
    """Every event the called contracts emit -> its fields' names, in ABI order."""
    return {
        item["name"]: [i["name"] for i in item["inputs"]]
        for name in CONTRACTS.values()
        for item in artifacts.load(name).abi
        if item.get("type") == "event"
    }


def _is_address(value) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) == 42


def actor(value, names: dict[str, str] | None):
    """An address as its actor's name (when ``names``, address -> name, has it)."""
    if names and _is_address(value):
        return next((n for a, n in names.items() if a.lower() == value.lower()), value)
    return value


# Arguments and event fields in collateral units (a price is collateral units per lot):
# shown exactly, then in USDC for a reader (``amount=10706000000 (10,706 USDC)``).
COLLATERAL_FIELDS = frozenset(
    (
        "amount", "value", "price", "limit_price", "penalty", "liquidator_reward", "buyer_fee",
        "seller_fee", "cash", "absorbed", "booked", "funding",
    )
)  # fmt: skip
_UNIT = 10**COLLATERAL_DECIMALS


USDC_NOTE = re.compile(r" \(-?[\d,]+(?:\.\d+)? USDC\)")


def without_usdc(text: str) -> str:
    """``text`` without the USDC notes (as a call was described before they were added)."""
    return USDC_NOTE.sub("", text)


def in_usdc(units: int) -> str:
    """``units`` of collateral as USDC, exact (``-710``, ``3.804347``, ``10,706``)."""
    whole, fraction = divmod(abs(units), _UNIT)
    text = f"{whole:,}" + (f".{fraction:0{COLLATERAL_DECIMALS}d}".rstrip("0") if fraction else "")
    return ("-" if units < 0 else "") + text


def _value(value, spec: dict | None = None, names: dict[str, str] | None = None) -> str:
    """One value: a struct with its components named (``spec``: its ABI entry), an
    address by its actor's name, bytes as short hex, collateral units with their USDC."""
    components = (spec or {}).get("components")
    if isinstance(value, tuple) and components and len(components) == len(value):
        pairs = zip(components, value, strict=True)
        return "(" + ", ".join(f"{c['name']}={_value(v, c, names)}" for c, v in pairs) + ")"
    if isinstance(value, tuple):
        return "(" + ", ".join(_value(v, None, names) for v in value) + ")"
    return show(actor(value, names)) + _usdc_note((spec or {}).get("name"), value)


def _usdc_note(name: str | None, value) -> str:
    """`` (N USDC)`` for a value in collateral units below a trillion USDC (beyond: a
    sentinel such as an unlimited approval, shown as it is)."""
    if name not in COLLATERAL_FIELDS or not _integer(value) or abs(value) >= 10**12 * _UNIT:
        return ""
    return f" ({in_usdc(value)} USDC)"


def describe(call: Call, names: dict[str, str] | None = None) -> str:
    """``sender -> target.fn(name=value, ...)``; a bundle lists its calls, each described."""
    if call.target == BUNDLE:
        inner = "; ".join(describe(c, names) for c in call.args)
        return f"{call.sender} -> {call.target}.{call.fn}([{inner}])"
    return f"{call.sender} -> {signature(call, names)}"


def signature(call: Call, names: dict[str, str] | None = None) -> str:
    """``target.fn(name=value, ...)``; positional where the ABI has no such function."""
    inputs = _inputs(call.target, call.fn)
    if inputs is None or len(inputs) != len(call.args):
        args = ", ".join(_value(v, None, names) for v in call.args)
    else:
        pairs = zip(inputs, call.args, strict=True)
        args = ", ".join(f"{spec['name']}={_value(v, spec, names)}" for spec, v in pairs)
    return f"{call.target}.{call.fn}({args})"


def argument(call: Call, path: tuple[int, ...]) -> str:
    """The name of the argument at ``path`` (indices into the arguments, then into a
    struct's components): ``size``, ``maker.size``; positional (``arg 2``, ``arg 0.3``)
    where the ABI does not say. Into a bundle's call: ``call 2: amount``; into a Governor
    calldata: ``set_market_params.market_key``."""
    inner = call.args[path[0]] if path and path[0] < len(call.args) else None
    if isinstance(inner, Call) and len(path) > 1:
        return f"call {path[0] + 1}: {argument(inner, path[1:])}"
    if isinstance(inner, Calldata) and len(path) > 1:
        target = call.args[0] if call.args[0] in CONTRACTS else "engine"  # schedule's
        return f"{inner.fn}.{argument(Call(target, inner.fn, '', inner.args), path[1:])}"
    spec = {"components": _inputs(call.target, call.fn) or []}
    names = []
    for index in path:
        components = spec.get("components") or []
        if index >= len(components):
            return "arg " + ".".join(str(i) for i in path)
        spec = components[index]
        names.append(spec["name"])
    return ".".join(names)


def _event_fields(item) -> list[str] | None:
    """The field names of ``item`` when it is an event ``(name, args)`` the ABIs know."""
    if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], tuple)):
        return None
    fields = _events().get(item[0]) if isinstance(item[0], str) else None
    return fields if fields is not None and len(fields) == len(item[1]) else None


def event(item, names: dict[str, str] | None = None) -> str:
    """An event ``(name, args)`` as ``Name(field=value, ...)``; anything else as a value."""
    fields = _event_fields(item)
    if fields is None:
        return "(none)" if item is None else _value(item, None, names)
    name, args = item
    return (
        f"{name}("
        + ", ".join(
            f"{f}={_value(v, {'name': f}, names)}" for f, v in zip(fields, args, strict=True)
        )
        + ")"
    )


def differences(field: str, spec, chain, names: dict[str, str] | None = None) -> list[str]:
    """Which part of ``field`` differs, as ``part: spec X | chain Y``: each differing field
    of an event, each differing output of a view, else the value itself (with the
    difference chain - spec of two integers)."""
    fields = _event_fields(spec)
    if fields is not None and _event_fields(chain) is not None and spec[0] == chain[0]:
        return [
            _difference(f"{spec[0]}.{f}", a, b, names)
            for f, a, b in zip(fields, spec[1], chain[1], strict=True)
            if a != b
        ]
    if _event_fields(spec) is not None or _event_fields(chain) is not None:
        left = spec[0] if _event_fields(spec) is not None else event(spec, names)
        right = chain[0] if _event_fields(chain) is not None else event(chain, names)
        return [f"{field}: spec {left} | chain {right}"]
    if isinstance(spec, tuple) and isinstance(chain, tuple) and len(spec) == len(chain) > 1:
        return [
            _difference(f"{field}[{i}]", a, b, names)
            for i, (a, b) in enumerate(zip(spec, chain, strict=True))
            if a != b
        ]
    if isinstance(spec, tuple) and isinstance(chain, tuple) and len(spec) == len(chain) == 1:
        spec, chain = spec[0], chain[0]  # a view's one output
    return [_difference(field, spec, chain, names)]


def _difference(field: str, spec, chain, names) -> str:
    text = f"{field}: spec {shown(spec, names)} | chain {shown(chain, names)}"
    if _integer(spec) and _integer(chain):
        text += f" (chain - spec = {chain - spec:+,})"
    return text


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def shown(v, names) -> str:
    """A compared value: text (an outcome: "ok", "revert '...'") as it is, an address
    by its actor's name."""
    if isinstance(v, str):
        return actor(v, names)
    return event(v, names)


ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\b")


def name_addresses(text: str, names: dict[str, str]) -> str:
    """``text`` with each address an actor has replaced by the actor's name."""
    return ADDRESS.sub(lambda m: actor(m.group(0), names), text)


def name_actors(failure: BaseException, names: dict[str, str]) -> None:
    """Rewrite ``failure``'s message with each actor's address by its name: the checks
    write addresses as the state keys them, and every report (counterexample.json, the
    summary, JUnit, SARIF) prints the message as it is."""
    if len(failure.args) == 1 and isinstance(failure.args[0], str):
        failure.args = (name_addresses(failure.args[0], names),)


def order(item: tuple, names: dict[str, str] | None = None) -> str:
    """A signed order tuple with its fields named (the Settlement's ``Order`` struct)."""
    maker = _inputs("settlement", "settle")[0]
    return _value(tuple(item), maker, names)
