"""Counterexample values made smaller (``simplify``): after ``trace.minimize`` dropped
the calls a failure does not need, each integer of the calls kept becomes the least that
still fails the same way. The audit and ``--explorer random`` use it; hypothesis shrinks
its own draws."""

import dataclasses
from functools import partial

from harness.campaign.trace import failure_of, identity
from harness.core import orders, readable
from harness.core.call import Call, Calldata
from harness.core.pair import Pair
from harness.core.spec_step import resolve
from pyspec.settlement import Order


def simplify(
    calls: list[Call], pair: Pair, target: dict, replay=None, stop=None
) -> tuple[list[Call], BaseException | None, list[dict], bool]:
    """Make the integer arguments of ``calls`` smaller wherever the failure stays the one
    ``target`` names (an ``identity``: the same check and kind, in the same call at the
    same step), replaying with ``replay`` (default ``failure_of``; the campaign's
    ``PrefixReplay`` starts each candidate after the calls it shares with the last).
    ``minimize`` drops calls; this simplifies the values of those it kept.

    Each call's integer arguments in turn, and the size of an order its trader signed (an
    order's other fields and every signature stay; a changed order is signed again, for
    the same domain), inside a bundle's calls too, and the integers of a Governor call's
    calldata (changed alike wherever the same calldata recurs: its schedule and its
    execution): 0, then 1, then half the value; when half still fails, a binary
    search between 1 and half for the least value that still does (exact when the
    failure is monotone in the value, a smaller failing value in any case). A negative
    value is simplified toward 0 alike. Passes over the calls until one changes nothing.

    ``stop(candidate)`` as for ``minimize``. Return the calls, the failure of the last
    candidate kept (None when none was), the changes (each ``{"step", "argument",
    "from", "to"}``, one per argument, from its first value to its last) and whether the
    search completed."""
    found, changes = None, {}

    def fails(candidate: list[Call]) -> bool | None:
        """Whether ``candidate`` fails as ``target`` (None: the budget is spent)."""
        nonlocal found
        if stop is not None and stop(candidate):
            return None
        failure = (replay or failure_of)(candidate, pair)
        if failure is not None and identity(failure) == target:
            found = failure
            return True
        return False

    changed = True
    while changed:
        changed = False
        for index in range(len(calls)):
            for path in _integer_paths(calls[index], pair):
                value = _at(calls[index].args, path)
                build = partial(_candidate, calls, index, path, -1 if value < 0 else 1, pair)
                kept, spent = _least(abs(value), fails, build)
                if kept is not None:
                    was, calls = calls, build(kept)
                    for j in range(len(calls)):  # the call, and any sharing its calldata
                        for p in _integer_paths(calls[j], pair) if calls[j] != was[j] else ():
                            old, new = _at(was[j].args, p), _at(calls[j].args, p)
                            if old != new:
                                _record(changes, j, calls[j], p, old, new)
                    changed = True
                if spent:
                    return calls, found, list(changes.values()), False
    return calls, found, list(changes.values()), True


def _least(magnitude: int, fails, build) -> tuple[int | None, bool]:
    """The least magnitude below ``magnitude`` that ``simplify`` finds failing alike
    (``fails(build(m))``): 0, 1, else half and a binary search below it; None when none
    does. With whether the budget ran out (then the least found so far)."""
    for m in sorted({0, 1, magnitude // 2}):
        if m >= magnitude:
            return None, False
        result = fails(build(m))
        if result is None:
            return None, True
        if result:
            break
    else:
        return None, False
    low, high = 1, m  # 0 and 1 do not fail alike (when ``m`` is more), ``m`` does
    while high - low > 1:
        middle = (low + high) // 2
        result = fails(build(middle))
        if result is None:
            return high, True
        low, high = (low, middle) if result else (middle, high)
    return high, False


def _candidate(calls: list[Call], index: int, path: tuple, sign: int, pair: Pair, m: int):
    """``calls`` with ``sign * m`` at ``path`` in call ``index``; a Governor call's
    calldata changed in every call that carries the same calldata (scheduled, then
    executed: one call id)."""
    changed = _with(calls[index], path, sign * m, pair)
    old = _calldata_at(calls[index], path)
    if old is None:
        return calls[:index] + [changed] + calls[index + 1 :]
    new = _calldata_at(changed, path)
    return [changed if i == index else _swap_calldata(c, old, new) for i, c in enumerate(calls)]


def _calldata_at(call: Call, path: tuple):
    """The Governor calldata ``path`` runs through in ``call`` (None: none)."""
    node = call
    for i in path[:-1]:
        node = node.args[i]
        if isinstance(node, Calldata):
            return node
    return None


def _swap_calldata(call: Call, old: Calldata, new: Calldata) -> Call:
    """``call`` with ``new`` for every ``old`` among its arguments (a bundle's calls too);
    ``call`` itself when it carries none (the minimizer replays from the first call that
    is not the same object)."""
    args = tuple(
        new if arg == old else _swap_calldata(arg, old, new) if isinstance(arg, Call) else arg
        for arg in call.args
    )
    return call if args == call.args else Call(call.target, call.fn, call.sender, args)


def _record(changes: dict, index: int, call: Call, path: tuple, old: int, new: int) -> None:
    key = (index, path)
    first = changes.get(key, {}).get("from", old)
    changes[key] = {
        "step": index + 1,
        "argument": readable.argument(call, path),
        "from": first,
        "to": new,
    }


# an order's field ``simplify`` makes smaller (the others stay as signed)
ORDER_SIZE = [field.name for field in dataclasses.fields(Order)].index("size")


def _integer_paths(call: Call, pair: Pair) -> list[tuple[int, ...]]:
    """Where ``simplify`` may make ``call``'s integers smaller: its integer arguments (not
    its booleans), the size of each order followed by its trader's own signature, the
    same in each call of a bundle, and a Governor calldata's integers."""
    paths = []
    for i, arg in enumerate(call.args):
        if _is_integer(arg):
            paths.append((i,))
        elif isinstance(arg, Call):  # a bundle's call
            paths += [(i, *path) for path in _integer_paths(arg, pair)]
        elif isinstance(arg, Calldata):
            paths += [(i, j) for j, value in enumerate(arg.args) if _is_integer(value)]
        elif _signed_here(call, i, pair) and call.args[i][ORDER_SIZE] > 0:
            paths.append((i, ORDER_SIZE))
    return paths


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _signed_here(call: Call, i: int, pair: Pair) -> bool:
    """Whether argument ``i`` is an order and argument ``i + 1`` its trader's signature
    for the pair's domain (an order signed otherwise is left as it is)."""
    args = call.args
    if not (isinstance(args[i], tuple) and i + 1 < len(args) and isinstance(args[i + 1], bytes)):
        return False
    try:
        return args[i + 1] == _sign(args[i], pair)
    except (KeyError, TypeError, ValueError):  # not an order, or a trader without a key
        return False


def _sign(order: tuple, pair: Pair) -> bytes:
    return orders.sign(pair.state.book, Order(*resolve(pair.actors, order)))


def _at(args: tuple, path: tuple[int, ...]):
    """The value at ``path`` (through a bundle's calls and a Governor calldata's args)."""
    for i in path:
        args = args.args[i] if isinstance(args, Call | Calldata) else args[i]
    return args


def _with(call: Call, path: tuple[int, ...], value: int, pair: Pair) -> Call:
    """``call`` with ``value`` at ``path``; an order changed is signed again."""
    args = list(call.args)
    arg = args[path[0]]
    if len(path) == 1:
        args[path[0]] = value
    elif isinstance(arg, Call):
        args[path[0]] = _with(arg, path[1:], value, pair)
    elif isinstance(arg, Calldata):
        inner = list(arg.args)
        inner[path[1]] = value
        args[path[0]] = Calldata(arg.fn, tuple(inner))
    else:
        i, field = path
        order = list(args[i])
        order[field] = value
        args[i], args[i + 1] = tuple(order), _sign(tuple(order), pair)
    return Call(call.target, call.fn, call.sender, tuple(args))
