"""Deployment parameters as data: ``configs/<profile>.yaml``, loaded and checked.

    from deployment.config import load
    config = load("default")          # configs/default.yaml
    config = load("configs/x.yaml")   # any path

Every field is checked against the bound the contract enforces (``PerpEngine.__init__``
and ``add_market``, mirrored by ``pyspec.engine``), so a bad file fails here with its
file, key and bound named, not later as a revert halfway through a deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from pyspec.constants import (
    ADL_POLICY_NAMES,
    MAX_DEPOSIT,
    MAX_FEE_RATIO,
    MAX_FUNDING_RATE,
    MAX_GOVERNANCE_DELAY,
    MAX_MARKETS,
    MAX_MIN_POSITION_NOTIONAL,
    MAX_PRICE,
    MAX_PRICE_AGE,
    MIN_GOVERNANCE_DELAY,
    RATIO_PRECISION,
)
from pyspec.governance import MARKET_PARAMS

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
ADDRESS_LENGTH = 42
# The listing parameters: the fields of ``add_market``'s ``MarketParams``, in order.
LISTING_FIELDS = MARKET_PARAMS


class ConfigError(ValueError):
    """A configuration file that cannot be deployed; the message names file, key and bound."""


@dataclass(frozen=True, slots=True)
class MarketParams:
    """One market: the listing parameters of ``add_market`` and its first price. The ADL
    policy is written by name in the file (``ADL_POLICY_NAMES``) and held as its id."""

    name: str
    initial_margin_ratio: int
    maintenance_margin_ratio: int
    liquidation_fee_ratio: int
    price_band_ratio: int
    max_funding_rate: int
    maker_fee_ratio: int
    taker_fee_ratio: int
    adl_policy: int
    max_price_age: int
    min_position_notional: int
    initial_price: int

    def listing(self) -> tuple[int, ...]:
        """The ``MarketParams`` of ``add_market``, in order."""
        return tuple(getattr(self, name) for name in LISTING_FIELDS)

    @property
    def asset(self) -> bytes:
        """``add_market``'s ``asset``: the name, as bytes32 (issue 18: the key hashes it)."""
        return asset_id(self.name)


def asset_id(name: str) -> bytes:
    """A market's name as ``add_market``'s bytes32 ``asset``: UTF-8, zero-padded."""
    return name.encode().ljust(32, b"\0")


@dataclass(frozen=True, slots=True)
class DeploymentConfig:
    """A whole profile. Token and roles are as written: "mock", "deployer", "test:<i>",
    a 0x address, or None (to be given on the command line)."""

    path: Path
    token: str | None
    oracle: str | None
    operator: str | None
    liquidator_share_ratio: int
    insurance_floor: int
    governance_delay: int
    markets: tuple[MarketParams, ...]


def load(profile: str | Path = "default") -> DeploymentConfig:
    """Read and check ``configs/<profile>.yaml`` (or the file at ``profile``)."""
    path = Path(profile)
    if path.suffix not in (".yaml", ".yml"):
        path = CONFIGS / f"{profile}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIGS.glob("*.yaml")))
        raise ConfigError(f"{path}: no such configuration (profiles: {known})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    return _Reader(path).read(data)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str):
        raise ConfigError(f"{self.path}: {key}: {message}")

    def section(self, data, key: str, expected: set[str]) -> dict:
        if not isinstance(data, dict):
            self.fail(key, f"expected a mapping, got {data!r}")
        unknown, missing = set(data) - expected, expected - set(data)
        if unknown:
            self.fail(key, f"unknown keys {sorted(unknown)} (allowed: {sorted(expected)})")
        if missing:
            self.fail(key, f"missing keys {sorted(missing)}")
        return data

    def integer(self, data: dict, section: str, key: str, low: int, high: int) -> int:
        value = data[key]
        where = f"{section}.{key}"
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"expected an integer, got {value!r}")
        if not low <= value <= high:
            self.fail(where, f"{value} is outside [{low}, {high}]")
        return value

    def role(self, value, key: str, allowed: tuple[str, ...]) -> str | None:
        if value is None or value in allowed:
            return value
        if isinstance(value, str):
            if value.startswith("test:") and value[5:].isdigit():
                return value
            if value.startswith("0x") and len(value) == ADDRESS_LENGTH:
                try:
                    int(value, 16)
                    return value
                except ValueError:
                    pass
        choices = " or ".join((*allowed, "test:<i>", "a 0x address", "null"))
        self.fail(key, f"{value!r} is not {choices}")

    def read(self, data) -> DeploymentConfig:
        top = self.section(data, "(top level)", {"collateral", "roles", "engine", "markets"})
        collateral = self.section(top["collateral"], "collateral", {"token"})
        roles = self.section(top["roles"], "roles", {"oracle", "operator"})
        engine = self.section(
            top["engine"],
            "engine",
            {"liquidator_share_ratio", "insurance_floor", "governance_delay"},
        )
        markets = top["markets"]
        if not isinstance(markets, list) or not 1 <= len(markets) <= MAX_MARKETS:
            self.fail("markets", f"expected a list of 1 to MAX_MARKETS = {MAX_MARKETS} markets")
        return DeploymentConfig(
            path=self.path,
            token=self.role(collateral["token"], "collateral.token", ("mock",)),
            oracle=self.role(roles["oracle"], "roles.oracle", ("deployer",)),
            operator=self.role(roles["operator"], "roles.operator", ("deployer",)),
            liquidator_share_ratio=self.integer(
                engine, "engine", "liquidator_share_ratio", 0, RATIO_PRECISION
            ),
            insurance_floor=self.integer(engine, "engine", "insurance_floor", 1, MAX_DEPOSIT),
            governance_delay=self.integer(
                engine, "engine", "governance_delay", MIN_GOVERNANCE_DELAY, MAX_GOVERNANCE_DELAY
            ),
            markets=tuple(self.market(m, f"markets[{i}]") for i, m in enumerate(markets)),
        )

    def policy(self, value, key: str) -> int:
        if value not in ADL_POLICY_NAMES:
            self.fail(key, f"{value!r} is not one of {', '.join(ADL_POLICY_NAMES)}")
        return ADL_POLICY_NAMES.index(value)

    def market(self, data, key: str) -> MarketParams:
        """The listing checks of ``process_add_market``, each with its own bound."""
        names = {f.name for f in fields(MarketParams)}
        m = self.section(data, key, names)
        if not isinstance(m["name"], str) or not m["name"]:
            self.fail(f"{key}.name", "expected a non-empty string")
        if len(m["name"].encode()) > 32:
            self.fail(f"{key}.name", "at most 32 bytes (add_market's bytes32 asset)")
        imr = self.integer(m, key, "initial_margin_ratio", 2, RATIO_PRECISION)
        mmr = self.integer(m, key, "maintenance_margin_ratio", 1, imr - 1)
        fee = self.integer(m, key, "liquidation_fee_ratio", 0, mmr - 1)
        return MarketParams(
            name=m["name"],
            initial_margin_ratio=imr,
            maintenance_margin_ratio=mmr,
            liquidation_fee_ratio=fee,
            price_band_ratio=self.integer(m, key, "price_band_ratio", 1, RATIO_PRECISION),
            max_funding_rate=self.integer(m, key, "max_funding_rate", 0, MAX_FUNDING_RATE),
            maker_fee_ratio=self.integer(m, key, "maker_fee_ratio", 0, MAX_FEE_RATIO),
            taker_fee_ratio=self.integer(m, key, "taker_fee_ratio", 0, MAX_FEE_RATIO),
            adl_policy=self.policy(m["adl_policy"], f"{key}.adl_policy"),
            max_price_age=self.integer(m, key, "max_price_age", 1, MAX_PRICE_AGE),
            min_position_notional=self.integer(
                m, key, "min_position_notional", 0, MAX_MIN_POSITION_NOTIONAL
            ),
            initial_price=self.integer(m, key, "initial_price", 1, MAX_PRICE),
        )
