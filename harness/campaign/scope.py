"""What a campaign could have reached, read off the contracts themselves: their
state-changing entry points (ABIs) and their revert reasons (every ``assert ..., "reason"``
and ``raise "reason"`` in the sources, and each side's trade reasons that
``PerpEngine._require_side`` composes), so the reports list what was never reached
without a hand-kept list going stale."""

from functools import cache

from harness import REPO_ROOT
from harness.core.readable import CONTRACTS
from harness.evm import artifacts

# a call's target -> the contract it reaches (``Pair``); views are compared, not called
TARGETS = {t: c for t, c in CONTRACTS.items() if t != "views"}
# harness-only contracts (the lens, hostile tokens, the math mock) revert for the tests
NOT_PROTOCOL = "testing"


@cache
def entry_points() -> tuple[str, ...]:
    """Every state-changing function of the called contracts, as "target.fn"."""
    return tuple(
        f"{target}.{item['name']}"
        for target, name in TARGETS.items()
        for item in artifacts.load(name).abi
        if item.get("type") == "function" and item["stateMutability"] not in ("view", "pure")
    )


@cache
def revert_reasons() -> tuple[str, ...]:
    """Every revert reason string in the protocol's sources, sorted."""
    import vyper.ast as vy_ast

    found = set()
    for path in sorted((REPO_ROOT / "contracts").rglob("*.vy")):
        if NOT_PROTOCOL in path.relative_to(REPO_ROOT / "contracts").parts:
            continue
        module = vy_ast.parse_to_ast(path.read_text())
        found.update(
            node.msg.value
            for node in module.get_descendants(vy_ast.Assert)
            if isinstance(node.msg, vy_ast.Str)
        )
        found.update(
            node.exc.value
            for node in module.get_descendants(vy_ast.Raise)
            if isinstance(node.exc, vy_ast.Str)
        )
        found.update(_side_reasons(module))
    return tuple(sorted(found))


def _side_reasons(module) -> set[str]:
    """The trade reasons ``PerpEngine._require_side`` composes: each side's prefix (its
    string constants) before each reason its callers pass."""
    import vyper.ast as vy_ast

    composer = [f for f in module.get_descendants(vy_ast.FunctionDef) if f.name == SIDE_REASON]
    if not composer:
        return set()
    prefixes = [s.value for s in composer[0].get_descendants(vy_ast.Str) if s.value.endswith(" ")]
    whats = [
        call.args[-1].value
        for call in module.get_descendants(vy_ast.Call)
        if getattr(call.func, "attr", None) == SIDE_REASON and isinstance(call.args[-1], vy_ast.Str)
    ]
    return {prefix + what for prefix in prefixes for what in whats}


SIDE_REASON = "_require_side"


def never_reached(reached: dict, possible) -> list[str]:
    return [name for name in possible if not reached.get(name)]
