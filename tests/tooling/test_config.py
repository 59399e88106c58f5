"""Deployment configurations: every profile in configs/ loads, and a bad field fails with
the file, the key and the bound named (the bounds are the contract's own)."""

import re

import pytest
import yaml

from deployment.config import CONFIGS, ConfigError, load
from pyspec import governance
from pyspec.errors import Revert
from pyspec.state import State, Timelock
from pyspec.token import Token


def spec_state(delay: int) -> State:
    """An engine whose Governor "governor" is owned by "owner"."""
    state = State("engine", Token("token"), "governor", "oracle", "settlement", 0, 0)
    state.timelock = Timelock("governor", "engine", "settlement", delay, "owner")
    return state


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_profile_loads_and_lists_on_the_spec(path):
    config = load(path)
    state = spec_state(config.governance_delay)
    for market in config.markets:
        governance.process_add_market(state, "owner", market.listing(), market.asset)  # no Revert
    assert len(state.markets) == len(config.markets)


def write(tmp_path, change) -> str:
    data = yaml.safe_load((CONFIGS / "default.yaml").read_text())
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def set_market(key, value):
    return lambda data: data["markets"][1].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            set_market("maintenance_margin_ratio", 200_000),
            r"markets\[1\]\.maintenance_margin_ratio: 200000 is outside \[1, 199999\]",
        ),
        (
            set_market("liquidation_fee_ratio", 100_000),
            r"markets\[1\]\.liquidation_fee_ratio: 100000 is outside \[0, 99999\]",
        ),
        (
            set_market("initial_margin_ratio", 1_000_001),
            r"markets\[1\]\.initial_margin_ratio: 1000001 is outside \[2, 1000000\]",
        ),
        (
            set_market("price_band_ratio", 0),
            r"markets\[1\]\.price_band_ratio: 0 is outside \[1, 1000000\]",
        ),
        (
            set_market("taker_fee_ratio", 100_001),
            r"markets\[1\]\.taker_fee_ratio: 100001 is outside \[0, 100000\]",
        ),
        (
            set_market("initial_price", 0),
            r"markets\[1\]\.initial_price: 0 is outside \[1, 1000000000000\]",
        ),
        (
            set_market("maker_fee_ratio", 0.5),
            r"markets\[1\]\.maker_fee_ratio: expected an integer, got 0.5",
        ),
        (
            set_market("max_funding_rate", True),
            r"markets\[1\]\.max_funding_rate: expected an integer, got True",
        ),
        (set_market("lot", 1), r"markets\[1\]: unknown keys \['lot'\]"),
        (
            set_market("adl_policy", "fifo"),
            r"markets\[1\]\.adl_policy: 'fifo' is not one of queue, pnl_pro_rata, "
            r"leverage_pro_rata, contract_pro_rata",
        ),
        (
            lambda d: d["markets"][0].pop("taker_fee_ratio"),
            r"markets\[0\]: missing keys \['taker_fee_ratio'\]",
        ),
        (
            lambda d: d["engine"].__setitem__("liquidator_share_ratio", 10**6 + 1),
            r"engine\.liquidator_share_ratio: 1000001 is outside \[0, 1000000\]",
        ),
        (
            lambda d: d["engine"].__setitem__("insurance_floor", 0),
            r"engine\.insurance_floor: 0 is outside \[1, 1000000000000000\]",
        ),
        (
            lambda d: d["roles"].__setitem__("oracle", "0x12"),
            r"roles\.oracle: '0x12' is not deployer or test:<i>",
        ),
        (
            lambda d: d["collateral"].__setitem__("token", "usdc"),
            r"collateral\.token: 'usdc' is not mock",
        ),
        (
            lambda d: d.__setitem__("markets", []),
            r"markets: expected a list of 1 to MAX_MARKETS = 8",
        ),
        (
            lambda d: d.__setitem__("markets", d["markets"] * 5),
            r"markets: expected a list of 1 to MAX_MARKETS = 8",
        ),
    ],
    ids=lambda value: None if callable(value) else re.sub(r"\W+", "_", value)[:40],
)
def test_bad_field_names_file_key_and_bound(tmp_path, change, message):
    path = write(tmp_path, change)
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: {message}"):
        load(path)


def test_a_bound_the_config_accepts_is_one_the_spec_accepts(tmp_path):
    """The loader's bounds are the listing's: the largest accepted values list on the spec,
    and one beyond is refused by both."""
    edge = {"initial_margin_ratio": 10**6, "maintenance_margin_ratio": 10**6 - 1}
    path = write(tmp_path, lambda d: d["markets"][0].update(edge, liquidation_fee_ratio=10**6 - 2))
    market = load(path).markets[0]
    state = spec_state(load(path).governance_delay)
    governance.process_add_market(state, "owner", market.listing(), market.asset)
    beyond = market.listing()[:2] + (10**6 - 1,) + market.listing()[3:]
    with pytest.raises(Revert, match="market: invalid liquidation fee"):
        governance.process_add_market(state, "owner", beyond, market.asset)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"no such configuration \(profiles: default, sepolia\)"):
        load("mainnet")
