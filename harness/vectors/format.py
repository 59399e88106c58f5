"""The test vectors' JSON form (documented in ``docs/vectors.md``).

A vector is one JSON file: the deployment (``setup_json``), the calls from the deployed
state to a pre-state, the pre-state in full, one action, and the post-state with the
action's events, or no post-state and the revert reason when the action is rejected.
"""

from __future__ import annotations

import json

from harness import REPO_ROOT
from harness.core import genesis
from harness.core.call import to_json
from harness.core.dump import labelled
from harness.evm.base import CHAIN_ID, GENESIS_TIME
from pyspec.constants import ADL_POLICY_NAMES

FORMAT = 1
VECTORS_DIR = REPO_ROOT / "tests" / "vectors"
CATEGORIES = (
    "deposit",
    "withdraw",
    "trade",
    "order",
    "oracle",
    "funding",
    "liquidation",
    "adl",
    "bad_debt",
    "insurance",
    "market",
    "governance",
    "lifecycle",
)
TOKEN_EVENTS = frozenset({"Transfer", "Approval"})
SETTLEMENT_EVENTS = frozenset(
    {
        "OrderFilled",
        "OrderCancelled",
        "NoncesInvalidated",
        "OperatorSet",
        "ExitRequested",
        "ExitTaken",
        "ExitEscaped",
        "ExitCancelled",
    }
)
GOVERNOR_EVENTS = frozenset(
    {
        "CallScheduled",
        "CallCancelled",
        "CallExecuted",
        "OwnershipTransferStarted",
        "OwnershipTransferred",
    }
)
# A value or container that fits in this many characters stays on one line.
LINE = 140


def state_json(dump: list[int], accounts: list[str], names: dict[str, str]) -> dict:
    """The labelled full state of a dump as a JSON object {field path: value}."""
    return {path: to_json(value, names) for path, value in labelled(dump, accounts, names)}


def events_json(events: list, names: dict[str, str], emitters: list[str] | None = None) -> list:
    """Events as JSON: the emitting contract ("engine", "settlement", "governor" or
    "token"), the name, the arguments in ABI order. ``emitters`` defaults to what the spec
    knows: only the token emits ``Transfer`` and ``Approval``, only the Settlement the
    order and exit events, only the Governor the call and ownership events."""
    if emitters is None:
        emitters = [
            "token"
            if name in TOKEN_EVENTS
            else "settlement"
            if name in SETTLEMENT_EVENTS
            else "governor"
            if name in GOVERNOR_EVENTS
            else "engine"
            for name, _ in events
        ]
    return [
        {"emitter": emitter, "name": name, "args": to_json(args, names)}
        for emitter, (name, args) in zip(emitters, events, strict=True)
    ]


def setup_json(
    actors: dict[str, str],
    token_address: str,
    engine_address: str,
    config=genesis.DEFAULT_CONFIG,
) -> dict:
    """The deployment every vector starts from (``harness.core.genesis``)."""
    return {
        "block_time": GENESIS_TIME,
        "token": {"address": token_address, "decimals": 6, "deployer": "owner"},
        "engine": {
            "address": engine_address,
            "deployer": "owner",
            "governor": "governor",
            "guardian": "owner",
            "oracle": "oracle",
            "settlement": "settlement",
            "liquidator_share_ratio": config.liquidator_share_ratio,
            "insurance_floor": config.insurance_floor,
        },
        "markets": [
            {
                "initial_margin_ratio": m.initial_margin_ratio,
                "maintenance_margin_ratio": m.maintenance_margin_ratio,
                "liquidation_fee_ratio": m.liquidation_fee_ratio,
                "price_band_ratio": m.price_band_ratio,
                "max_funding_rate": m.max_funding_rate,
                "maker_fee_ratio": m.maker_fee_ratio,
                "taker_fee_ratio": m.taker_fee_ratio,
                "adl_policy": ADL_POLICY_NAMES[m.adl_policy],
                "max_price_age": m.max_price_age,
                "min_position_notional": m.min_position_notional,
                "initial_price": m.initial_price,
                "initial_price_timestamp": GENESIS_TIME,
            }
            for m in config.markets
        ],
        "settlement": {
            "address": actors["settlement"],
            "deployer": "owner",
            "engine": "engine",
            "operator": "operator",
            "chain_id": CHAIN_ID,
            "eip712_domain": {"name": "Perp Settlement", "version": "1"},
        },
        "governor": {
            "address": actors["governor"],
            "deployer": "owner",
            "owner": "owner",
            "engine": "engine",
            "settlement": "settlement",
            "delay": config.governance_delay,
        },
        "actors": {
            name: actors[name]
            for name in (*genesis.actor_names(), "engine", "settlement", "governor")
        },
        "funded_actors": {name: genesis.TRADER_FUNDS for name in genesis.state_accounts()},
        "engine_allowance": str(genesis.MAX_UINT256),
        "initial_insurance": {"from": "owner", "amount": genesis.INITIAL_INSURANCE},
        "state_accounts": genesis.state_accounts(),
    }


def dumps(vector: dict) -> str:
    """JSON text of a vector: one space of indent, any object or array that fits in
    ``LINE`` characters on one line (so a call, an event, a state field: one line each)."""
    return _format(vector, 0) + "\n"


def _format(value, depth: int) -> str:
    flat = json.dumps(value, separators=(", ", ": "))
    if not isinstance(value, dict | list) or not value or depth + len(flat) <= LINE:
        return flat
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {_format(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = [pad + _format(v, depth + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"


def committed() -> dict[str, str]:
    """Every committed vector as {path relative to tests/vectors: JSON text}."""
    return {
        p.relative_to(VECTORS_DIR).as_posix(): p.read_text()
        for p in sorted(VECTORS_DIR.glob("*/*.json"))
    }
