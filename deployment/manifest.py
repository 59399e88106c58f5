"""The record of a deployed instance: ``deployments/<chain-id>.json``, kept in the repo.

    {"format": 1, "chain_id": 424242, "network": "...", "request": {...},
     "config": {"path": ..., "sha256": ..., "text": ...}, "compiler": "vyper 0.4.3",
     "contracts": {"PerpEngine": {"address", "transaction", "block", "constructor_args",
                                  "runtime_keccak"}, ...},
     "transactions": [{"call": "add_market market-0", "transaction": "0x..."}, ...],
     "superseded": [<earlier instances on this chain, newest last>]}

``request`` is what was asked for (the config's values, every role as an address): a rerun
compares it with its own request to know whether the instance is already there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from deployment.config import DeploymentConfig

FORMAT = 1
DEPLOYMENTS = Path(__file__).resolve().parent.parent / "deployments"


class ManifestError(ValueError):
    """A manifest that cannot be read: missing, not JSON or of another format."""


def default_path(chain_id: int) -> Path:
    return DEPLOYMENTS / f"{chain_id}.json"


def request(config: DeploymentConfig, owner: str, token: str, oracle: str, operator: str):
    """What a deployment is asked to be, as plain data (addresses lowercase): the part of
    a manifest a rerun compares."""
    return {
        "owner": owner.lower(),
        "token": token.lower(),
        "oracle": oracle.lower(),
        "operator": operator.lower(),
        "liquidator_share_ratio": config.liquidator_share_ratio,
        "insurance_floor": config.insurance_floor,
        "governance_delay": config.governance_delay,
        "markets": [asdict(market) for market in config.markets],
    }


def config_record(config: DeploymentConfig) -> dict:
    text = config.path.read_text()
    return {
        "path": config.path.name,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "text": text,
    }


def diff(old, new, at: str = "") -> list[str]:
    """Every leaf where ``new`` differs from ``old``, as ``key: old -> new`` lines."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(old) + [k for k in new if k not in old]
        return [
            line
            for k in keys
            for line in diff(old.get(k), new.get(k), f"{at}.{k}" if at else str(k))
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        pairs = enumerate(zip(old, new, strict=True))
        return [line for i, (a, b) in pairs for line in diff(a, b, f"{at}[{i}]")]
    return [] if old == new else [f"{at}: {old!r} -> {new!r}"]


def load(path: Path) -> dict:
    try:
        manifest = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: no such manifest (deploy first, or pass --manifest)"
        ) from None
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path}: not JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path}: not a deployment manifest of format {FORMAT}")
    return manifest


def for_network(chain_id: int, path: Path | None) -> tuple[Path, dict]:
    """The manifest at ``path`` (default: the chain's own) and its path, refused when it
    records another chain."""
    path = path or default_path(chain_id)
    manifest = load(path)
    if manifest["chain_id"] != chain_id:
        raise ManifestError(
            f"{path}: records chain {manifest['chain_id']}, the network is {chain_id}"
        )
    return path, manifest


def save(path: Path, manifest: dict, previous: dict | None) -> None:
    """Write ``manifest``; an instance it replaces moves to its ``superseded`` list."""
    if previous is not None:
        earlier = previous.pop("superseded", [])
        manifest["superseded"] = [*earlier, previous]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
