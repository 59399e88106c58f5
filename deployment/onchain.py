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
CONTRACTS = (
    "AdlAllocator",
    "EngineGovernance",
    "PerpEngine",
    "Settlement",
    "PerpViews",
    "Governor",
)

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
    engine = _at(project.PerpEngine, address["PerpEngine"])
    settlement = _at(project.Settlement, address["Settlement"])
    governor = _at(project.Governor, address["Governor"])
    views = _at(project.PerpViews, address["PerpViews"])
    token = address["MockToken"] if request["token"] == "mock" else request["token"]
    lower = str.lower
    checks += [
        ("token", _read(engine, "token"), token.lower()),
        # other decimals would misprice every amount by powers of ten; any ERC20: only
        # the ABI of decimals() is borrowed from the mock
        ("token decimals", _read(_at(project.MockToken, token), "decimals"), COLLATERAL_DECIMALS),
        ("adl allocator", _read(engine, "adl_allocator"), lower(address["AdlAllocator"])),
        ("engine governance", _read(engine, "governance"), lower(address["EngineGovernance"])),
        (
            "governance allocator",
            _read(_at(project.EngineGovernance, address["EngineGovernance"]), "adl_allocator"),
            lower(address["AdlAllocator"]),
        ),
        ("governor", _read(engine, "governor"), lower(address["Governor"])),
        ("governor engine", _read(governor, "engine"), lower(address["PerpEngine"])),
        ("governor settlement", _read(governor, "settlement"), lower(address["Settlement"])),
        ("governance delay", _read(governor, "delay"), request["governance_delay"]),
        ("owner", _read(governor, "owner"), request["owner"]),
        ("guardian", _read(engine, "guardian"), request["owner"]),
        ("oracle", _read(engine, "oracle"), request["oracle"]),
        ("settlement", _read(engine, "settlement"), lower(address["Settlement"])),
        ("settlement engine", _read(settlement, "engine"), lower(address["PerpEngine"])),
        ("operator", _read(settlement, "operator"), request["operator"]),
        ("position views engine", _read(views, "engine"), lower(address["PerpEngine"])),
        (
            "liquidator share",
            _read(engine, "liquidator_share_ratio"),
            request["liquidator_share_ratio"],
        ),
        ("insurance floor", _read(engine, "insurance_floor"), request["insurance_floor"]),
        ("market count", market_count := _read(engine, "market_count"), len(request["markets"])),
    ]
    if not isinstance(market_count, int):
        return checks
    # a market the chain lacks is reported by the count
    for market_id, market in enumerate(request["markets"][:market_count]):
        stored = _read(engine, "markets", market_id)
        for field in LISTING_FIELDS:
            actual = stored if isinstance(stored, str) else getattr(stored, field)
            checks.append((f"market {market_id} ({market['name']}) {field}", actual, market[field]))
    return checks + published_prices(provider, manifest)


def published_prices(provider, manifest: dict) -> list[Check]:
    """Each initial price the deployment says it published (its ``update_price <market>
    <price>`` transactions): the price that transaction's ``PriceUpdated`` set, read from
    its receipt (the oracle may have moved the price since)."""
    engine = manifest["contracts"]["PerpEngine"]["address"].lower()
    names = [market["name"] for market in manifest["request"]["markets"]]
    topic = "0x" + keccak(text="PriceUpdated(uint256,uint256,uint256)").hex()
    checks = []
    for record in manifest.get("transactions", []):
        call, _, _ = record["call"].partition(" ")
        if call != "update_price":
            continue
        _, name, price = record["call"].split(" ")
        published = None
        receipt = provider.web3.eth.get_transaction_receipt(record["transaction"])
        for log in receipt["logs"]:
            topics = [t.hex() if isinstance(t, bytes) else t for t in log["topics"]]
            topics = [t if t.startswith("0x") else "0x" + t for t in topics]
            if log["address"].lower() == engine and topics[0] == topic:
                market_id = int(topics[1], 16)
                data = (
                    bytes(log["data"])
                    if not isinstance(log["data"], str)
                    else bytes.fromhex(log["data"][2:])
                )
                if market_id == names.index(name):
                    published = int.from_bytes(data[:32], "big")
        checks.append((f"initial price of {name} published", published, int(price)))
    return checks


def _at(container, address: str):
    """The contract at ``address``, or None where there is no code."""
    try:
        return container.at(address)
    except Exception:  # noqa: BLE001 (ape's ContractNotFoundError and kin)
        return None


def _read(contract, getter: str, *args):
    """A view's value (an address lowercase), or why there is none: a difference to
    report, not a crash halfway through the report."""
    if contract is None:
        return "no contract"
    try:
        value = getattr(contract, getter)(*args)
    except Exception as error:  # noqa: BLE001 (a revert, a short return, no such code)
        return f"call failed ({type(error).__name__})"
    return value.lower() if isinstance(value, str) else value


def mismatches(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check[1] != check[2]]
