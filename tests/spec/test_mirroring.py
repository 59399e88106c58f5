"""The spec and the contracts mirror each other: constants, reason strings, cross-references."""

import ast
import re
from pathlib import Path

import pyspec.constants as constants

ROOT = Path(__file__).resolve().parents[2]
SPEC = sorted((ROOT / "pyspec").glob("*.py"))
CONTRACTS = sorted(p for p in (ROOT / "contracts").rglob("*.vy") if "testing" not in p.parts)
MODULES = (
    "auth|market|oracle|deposit|withdraw|trade|liquidate|adl|insurance|config|token|funding"
    "|order|governor|exit"
)
REASON = re.compile(rf'"((?:{MODULES}): [^"{{}}]*)"')


def spec_reasons() -> set[str]:
    found = set()
    for path in SPEC:
        text = path.read_text()
        found |= set(REASON.findall(text))
        for template in re.findall(r'f"(trade: \{side\} [^"]*)"', text):
            found |= {template.replace("{side}", side) for side in ("buyer", "seller")}
    return found


def contract_reasons() -> set[str]:
    found = set()
    for path in CONTRACTS:
        text = path.read_text()
        found |= set(REASON.findall(text))
        # PerpEngine._require_side words "trade: buyer <what>" / "trade: seller <what>"
        for what in re.findall(r'is_buyer, "([^"]+)"', text):
            found |= {f"trade: {side} {what}" for side in ("buyer", "seller")}
    return {r for r in found if not r.endswith(" ")}  # the concatenation's prefixes


# Deployment wiring the spec has no part of: it models no code addresses.
WIRING = {"config: governance on another allocator"}


def test_same_reason_strings_on_both_sides():
    assert spec_reasons() == contract_reasons() - WIRING


def test_same_constants():
    text = (ROOT / "contracts/lib/constants.vy").read_text()
    for name, expression in re.findall(r"^(\w+): constant\(\w+\) = (.+)$", text, re.M):
        if name == "MAX_DUMP_ACCOUNTS":
            continue  # harness-only bound
        assert getattr(constants, name) == eval(expression, vars(constants)), name


def test_constant_bounds():
    assert 0 < constants.LIQUIDATION_SIZE_SLACK
    assert constants.MAX_POSITIONS_PER_MARKET <= 64
    assert constants.MAX_PRICE * constants.MAX_TRADE_SIZE < 2**127


def _contract_functions() -> dict[str, set[str]]:
    functions = {}
    for path in CONTRACTS:
        functions[path.stem] = set(re.findall(r"^def (\w+)\(", path.read_text(), re.M))
    return functions


def test_every_spec_reference_names_a_contract_function():
    functions = _contract_functions()
    for path in SPEC:
        for module, name in re.findall(r"Contract: ``(\w+)\.(\w+)``", path.read_text()):
            assert name in functions.get(module, set()), f"{path.name}: {module}.{name}"


def test_every_contract_reference_names_a_spec_function():
    spec_functions = {}
    for path in SPEC:
        tree = ast.parse(path.read_text())
        spec_functions[path.stem] = {
            n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
        }
    for path in CONTRACTS:
        for module, name in re.findall(r"Spec: `(\w+)\.(\w+)`", path.read_text()):
            assert name in spec_functions.get(module, set()), f"{path.name}: {module}.{name}"
