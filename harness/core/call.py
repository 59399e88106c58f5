"""One external call, named by actors, and its one JSON form (traces, vectors, exports).

Calls name accounts by actor ("trader3"), never by address, so a recorded sequence
replays on any deployment. ``VIEWS`` is a pseudo-target: a call to it compares the trader
views of the actors in its arguments instead of sending a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEWS = "views"
# A pseudo-target: ``Call(CLOCK, "wait", "", (seconds,))`` moves block time forward on
# both sides; every later transaction and view sees the new time.
CLOCK = "clock"
# A call to the attacker contract (``contracts/testing/Bundler.vy``): its arguments are
# the ``Call``s it makes in one transaction, each with the sender ``attacker``.
BUNDLE = "bundle"
# The largest integer every JSON reader holds exactly (IEEE double); larger ones are strings.
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True, slots=True)
class Calldata:
    """The calldata of an allowed Governor call (``pyspec.governor.ALLOWED``) by its parts,
    encoded when the call runs, after actor names become addresses."""

    fn: str
    args: tuple

    def __str__(self) -> str:
        return f"{self.fn}({', '.join(show(a) for a in self.args)})"


@dataclass(frozen=True, slots=True)
class Call:
    """``target`` is "engine", "settlement", "token", ``BUNDLE``, ``VIEWS`` or ``CLOCK``;
    address arguments are actor names (inside an order tuple too), signatures are bytes."""

    target: str
    fn: str
    sender: str
    args: tuple

    def __str__(self) -> str:
        args = ", ".join(show(a) for a in self.args)
        return f"{self.sender} -> {self.target}.{self.fn}({args})"


@dataclass(frozen=True, slots=True)
class Signed:
    """The signature of ``order`` (an order tuple naming its trader by actor), made by its
    trader for the deployment's own EIP-712 domain when the call runs: an exported test
    stays valid on any deployment instead of freezing bytes one deployment accepted."""

    order: tuple

    def __str__(self) -> str:
        return f"signed({self.order[0]})"


def bundle(sender: str, *calls: Call) -> Call:
    """``sender`` has the attacker contract make ``calls`` in one transaction."""
    return Call(BUNDLE, "execute", sender, calls)


def reached(call: Call) -> list[Call]:
    """The calls ``call`` makes to the contracts: a bundle's calls, else itself."""
    if call.target == BUNDLE:
        return [c for inner in call.args for c in reached(inner)]
    return [call]


def show(value) -> str:
    """An argument as a reader wants it: bytes (signatures) as short hex, tuples inside."""
    if isinstance(value, bytes):
        return f"0x{value[:4].hex()}..{value[-2:].hex()}" if len(value) > 8 else f"0x{value.hex()}"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    if isinstance(value, Calldata | Signed):
        return str(value)
    if isinstance(value, Call):  # a bundled call
        return f"[{value}]"
    return repr(value)


def to_json(value, names: dict[str, str]):
    """A spec or decoded-chain value as JSON: integers beyond 2**53 - 1 in magnitude as
    decimal strings, addresses as actor names (hex when no actor has them), tuples as lists."""
    if isinstance(value, bool):
        return value
    if isinstance(value, bytes):  # signatures and digests
        return "0x" + value.hex()
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INTEGER else str(value)
    if isinstance(value, str):
        return names.get(value.lower(), value)
    if isinstance(value, tuple | list):
        return [to_json(v, names) for v in value]
    if isinstance(value, Calldata):
        return {"call": value.fn, "args": to_json(value.args, names)}
    if isinstance(value, Call):  # a bundled call
        return call_to_json(value)
    raise TypeError(f"no JSON form for {value!r}")


def call_to_json(call: Call) -> dict:
    """A call as JSON; its address arguments are actor names already."""
    return {
        "sender": call.sender,
        "target": call.target,
        "fn": call.fn,
        "args": [to_json(a, {}) for a in call.args],
    }


def call_from_json(item: dict) -> Call:
    """Rebuild a ``Call``: decimal strings back to integers (actor names stay names).
    Reads plain JSON integers of any size too (traces written before the strings)."""

    def value(arg):
        if isinstance(arg, str) and arg.lstrip("-").isdigit():
            return int(arg)
        if isinstance(arg, str) and arg.startswith("0x") and len(arg) > 42:
            return bytes.fromhex(arg[2:])  # a signature (an address is 42 characters)
        if isinstance(arg, list):
            return tuple(value(a) for a in arg)
        if isinstance(arg, dict) and "sender" in arg:  # a bundled call
            return call_from_json(arg)
        if isinstance(arg, dict):
            return Calldata(arg["call"], tuple(value(a) for a in arg["args"]))
        return arg

    return Call(item["target"], item["fn"], item["sender"], tuple(value(a) for a in item["args"]))
