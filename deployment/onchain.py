"""A deployed instance read back from the chain and compared with its manifest: runtime
code against the build, every role and parameter against the request, the markets.

    checks = instance_checks(project, provider, manifest)   # [(label, actual, expected)]

Used by ``ape run deploy`` after deploying (and on a rerun) and by ``ape run verify``.
"""

from __future__ import annotations

from eth_utils import keccak

from deployment.config import LISTING_FIELDS
from pyspec.constants import COLLATERAL_DECIMALS

EIP170_CODE_SIZE_LIMIT = 24_576
# the contracts of an instance, in deployment order
CONTRACTS = ("AdlAllocator", "PerpEngine", "Settlement", "PerpViews", "Governor")

Check = tuple[str, object, object]  # (label, actual, expected)


def code_hash(code: bytes) -> str:
    return "0x" + keccak(bytes(code)).hex()


def build_runtime(project, name: str) -> bytes:
    """The runtime code the compiler gives; a deployed copy appends its immutables."""
    return bytes(getattr(project, name).contract_type.get_runtime_bytecode())


def code_checks(project, provider, name: str, record: dict) -> list[Check]:
    code = bytes(provider.get_code(record["address"]))
    build = build_runtime(project, name)
    return [
        (f"{name} runtime code is the build's", code_hash(code[: len(build)]), code_hash(build)),
        (f"{name} runtime keccak as recorded", code_hash(code), record["runtime_keccak"]),
        (f"{name} runtime size under EIP-170", len(code) <= EIP170_CODE_SIZE_LIMIT, True),
    ]


def instance_checks(project, provider, manifest: dict) -> list[Check]:
    """Every check of the instance ``manifest`` records, each with what the chain holds."""
    request, contracts = manifest["request"], manifest["contracts"]
    address = {name: record["address"] for name, record in contracts.items()}
    checks = [
        c for name in CONTRACTS for c in code_checks(project, provider, name, contracts[name])
    ]
    engine = project.PerpEngine.at(address["PerpEngine"])
    settlement = project.Settlement.at(address["Settlement"])
    governor = project.Governor.at(address["Governor"])
    views = project.PerpViews.at(address["PerpViews"])
    token = address["MockToken"] if request["token"] == "mock" else request["token"]
    # any ERC20: only the ABI of decimals() is borrowed from the mock
    decimals = project.MockToken.at(token).decimals()
    lower = str.lower
    checks += [
        ("token", lower(engine.token()), token.lower()),
        # other decimals would misprice every amount by powers of ten
        ("token decimals", decimals, COLLATERAL_DECIMALS),
        ("adl allocator", lower(engine.adl_allocator()), address["AdlAllocator"].lower()),
        ("governor", lower(engine.governor()), address["Governor"].lower()),
        ("governor engine", lower(governor.engine()), address["PerpEngine"].lower()),
        ("governor settlement", lower(governor.settlement()), address["Settlement"].lower()),
        ("governance delay", governor.delay(), request["governance_delay"]),
        ("owner", lower(governor.owner()), request["owner"]),
        ("guardian", lower(engine.guardian()), request["owner"]),
        ("oracle", lower(engine.oracle()), request["oracle"]),
        ("settlement", lower(engine.settlement()), address["Settlement"].lower()),
        ("settlement engine", lower(settlement.engine()), address["PerpEngine"].lower()),
        ("operator", lower(settlement.operator()), request["operator"]),
        ("position views engine", lower(views.engine()), address["PerpEngine"].lower()),
        ("liquidator share", engine.liquidator_share_ratio(), request["liquidator_share_ratio"]),
        ("insurance floor", engine.insurance_floor(), request["insurance_floor"]),
        ("market count", market_count := engine.market_count(), len(request["markets"])),
    ]
    # a market the chain lacks is reported by the count
    for market_id, market in enumerate(request["markets"][:market_count]):
        stored = engine.markets(market_id)
        for field in LISTING_FIELDS:
            label = f"market {market_id} ({market['name']}) {field}"
            checks.append((label, getattr(stored, field), market[field]))
    return checks


def mismatches(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check[1] != check[2]]
