"""``python -m harness.deployed.adl_queue`` (``ape run queue``) on an instance in use: the
queue market ranks by PnL%, not by profit; the pro-rata market shows each winner's weight
and share; the lights are the views' (and the spec's)."""

import json

import pytest
from live_instance import deployment_of

from harness.deployed.adl_queue import main
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
from harness.evm.anvil import ForkChain
from pyspec import views
from pyspec.constants import MAX_PRICE


def manifest_of(pair, tmp_path) -> str:
    addresses = {
        "PerpEngine": pair.engine_address,
        "Settlement": pair.settlement_address,
        "Governor": pair.governor_address,
        "PerpViews": pair.views_address,
    }
    manifest = {
        "format": 1,
        "chain_id": 31337,
        "contracts": {name: {"address": a, "block": 0} for name, a in addresses.items()},
    }
    path = tmp_path / "31337.json"
    path.write_text(json.dumps(manifest))
    return str(path)


def run(pair, tmp_path, capsys, *args) -> tuple[int, str]:
    url = f"http://{pair.chain.host}:{pair.chain.port}"
    code = main(["--rpc", url, "--manifest", manifest_of(pair, tmp_path), *args])
    return code, capsys.readouterr().out


def test_the_queue_ranks_by_pnl_percent_and_pro_rata_shows_shares(live, tmp_path, capsys):
    code, out = run(live, tmp_path, capsys, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["engine"] == deployment_of(live).engine
    queue, pro_rata = report["markets"]
    assert queue["policy"] == "queue" and pro_rata["policy"] == "pnl_pro_rata"
    who = {address: name for name, address in live.actors.items()}
    # trader0 has the larger profit (2.0 vs 0.6 USDC) but the smaller PnL% (5% vs 6.06%)
    longs = [(row["rank"], who[row["account"]], row["pnl_pct"]) for row in queue["long"]]
    assert longs == [
        (1, "trader2", [600_000, 9_900_000]),
        (2, "trader0", [2_000_000, 40_000_000]),
        (3, "trader8", [1_500_000, 30_000_000]),  # trader0's PnL%: the lower address first
    ]
    assert [row["rank"] for row in queue["short"]] == [None, None]
    shares = [(who[row["account"]], row["weight"], row["share"]) for row in pro_rata["long"]]
    assert shares == [
        ("trader1", 3_000_000, [3_000_000, 5_000_000]),
        ("trader3", 2_000_000, [2_000_000, 5_000_000]),
    ]
    for market in report["markets"]:
        for row in market["long"] + market["short"]:
            spec = views.adl_quantile(live.state, row["account"], market["market"])
            exposure = views.adl_exposure(live.state, row["account"], market["market"])
            assert (row["light"], row["exposure_lots"], row["exposure_collateral"]) == (
                spec,
                *exposure,
            )


def test_one_market_as_text(live, tmp_path, capsys):
    code, out = run(live, tmp_path, capsys, "--market", "1")
    assert code == 0
    assert "market 0" not in out
    assert "market 1: policy pnl_pro_rata" in out
    assert f"#1 {live.address('trader1')} position 3 upnl 3000000 weight 3000000" in out


@pytest.mark.parametrize("market", ["-1", "2"])
def test_a_market_the_instance_does_not_list_is_a_usage_error(live, tmp_path, capsys, market):
    with pytest.raises(SystemExit) as exit_:
        run(live, tmp_path, capsys, "--market", market)
    assert exit_.value.code == 2
    assert f"--market {market}: the instance lists markets 0 to 1" in capsys.readouterr().err


def test_a_missing_manifest_is_a_usage_error(tmp_path, capsys):
    assert main(["--rpc", "http://127.0.0.1:1", "--manifest", str(tmp_path / "no.json")]) == 2
    assert "no such manifest" in capsys.readouterr().err


def test_a_bankrupt_account_gives_the_other_side_a_nonzero_exposure(live, tmp_path, capsys):
    """On a fork of the instance (the node itself untouched), market 1's price jumps to
    ``MAX_PRICE``: its shorts (trader0: 3 lots, trader2: 1) lose far more than their
    collateral, so deleveraging the worst of them would take lots from each long."""
    url = f"http://{live.chain.host}:{live.chain.port}"
    block = live.chain.rpc("eth_blockNumber", [])
    fork = ForkChain(url)
    try:
        fork.impersonate(live.address("oracle"))
        later = fork.now() + 60
        fork.set_time(later)
        data = FunctionCodec(artifacts.load("PerpEngine").fn("update_price"))
        sent = fork.transact(
            live.address("oracle"), live.engine_address, data.encode((1, MAX_PRICE, later))
        )
        assert sent.success, sent.reason
        fork_url = f"http://{fork.host}:{fork.port}"
        code = main(["--rpc", fork_url, "--manifest", manifest_of(live, tmp_path), "--json"])
    finally:
        fork.close()
    assert code == 0
    who = {address: name for name, address in live.actors.items()}
    market = json.loads(capsys.readouterr().out)["markets"][1]
    exposures = {
        who[row["account"]]: (row["exposure_lots"], row["exposure_collateral"] > 0)
        for row in market["long"]
    }
    # the pro-rata policy takes 2 of trader1's 3 lots and 1 of trader3's
    assert exposures == {"trader1": (2, True), "trader3": (1, True)}
    assert live.chain.rpc("eth_blockNumber", []) == block
