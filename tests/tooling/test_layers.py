"""The harness keeps its layers: no import circles, no import upward, no private name
taken from another module, no module over 600 lines, and nothing under scripts/ or
deployment/ imports the test harness."""

import ast
from graphlib import CycleError, TopologicalSorter

from harness import REPO_ROOT

PACKAGES = ("harness", "deployment", "pyspec", "scripts")
# Lower layers first; a module may import its own layer and the ones before it.
LAYERS = (
    "pyspec",
    "deployment",
    "harness",  # the package root: REPO_ROOT and the map
    "harness.evm",
    "harness.core",
    "harness.vectors",
    "harness.measure",
    "harness.lab",
    "harness.campaign",
    "harness.deployed",
    "scripts",
)
MAX_LINES = 600


def modules() -> dict[str, ast.Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = ast.parse(path.read_text())
    return found


def imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names) of every import, lazy ones inside functions included."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.module, [alias.name for alias in node.names]))
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    edges = {name: set() for name in found}
    for name, tree in found.items():
        for module, names in imports(tree):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in found]
            targets = targets or [module]
            edges[name].update(t for t in targets if t in found and t != name)
    return edges


def layer(module: str) -> int:
    return max(
        i
        for i, prefix in enumerate(LAYERS)
        if module.split(".")[0] == prefix.split(".")[0]
        and (module == prefix or module.startswith(prefix + "."))
    )


def test_no_import_circles():
    try:
        list(TopologicalSorter(graph()).static_order())
    except CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None


def test_no_import_upward():
    upward = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if layer(target) > layer(name)
    ]
    assert not upward, upward


def test_no_private_names_across_modules():
    private = [
        f"{name}: from {module} import {n}"
        for name, tree in modules().items()
        for module, names in imports(tree)
        for n in names
        if n.startswith("_") and module.split(".")[0] in PACKAGES
    ]
    assert not private, private


def test_deployment_and_scripts_do_not_import_the_harness():
    offenders = [
        f"{name} imports {module}"
        for name, tree in modules().items()
        if name.split(".")[0] in ("scripts", "deployment")
        for module, _ in imports(tree)
        if module.split(".")[0] == "harness"
    ]
    assert not offenders, offenders


def test_modules_stay_small():
    long = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                long[str(path.relative_to(REPO_ROOT))] = lines
    assert not long, long
