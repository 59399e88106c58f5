"""``make audit`` (``python -m harness.deployed.audit``): a fork of an instance in use,
its code and parameters checked against its manifest, its state imported, found equal to
the chain's, and the differential campaign run from it; the node itself is only read."""

import json
import re

from live_instance import manifest_of

from harness.deployed.audit import main


def audit(live, manifest, *args) -> int:
    url = f"http://{live.chain.host}:{live.chain.port}"
    return main(["--manifest", manifest, "--fork-url", url, *args])


def test_the_audit_runs_the_campaign_from_an_instance_in_use(live, tmp_path, capsys):
    """Open positions on both markets, a fund, filled and cancelled orders, an exit
    request and a queued Governor call: 40 steps from there agree, twice alike."""
    manifest = manifest_of(live, tmp_path / "31337.json")
    block = live.chain.rpc("eth_blockNumber", [])
    assert audit(live, manifest, "--steps", "40", "--seed", "7") == 0
    out = capsys.readouterr().out
    assert "MISMATCH" not in out and "ok       market 1 (market-1) adl_policy: 1" in out
    assert "imported state equals the chain's" in out
    assert (
        "2 markets, 4 accounts with collateral or positions, 9 orders filled or cancelled, "
        "1 Governor calls queued, fund 1000133930" in out
    )
    assert "campaign: 40 steps in 1 sequences" in out
    assert "result: agreed (40 steps from the imported state, seed 7)" in out
    for name, address in (("PerpEngine", live.engine_address), ("Governor", live.governor_address)):
        record = json.loads(open(manifest).read())["contracts"][name]
        assert f"{name:12} {address} runtime keccak {record['runtime_keccak']}" in out
    assert live.chain.rpc("eth_blockNumber", []) == block  # the node was not written to
    # the same seed, the same campaign (its checks counted alike)
    assert audit(live, manifest, "--steps", "40", "--seed", "7") == 0
    again = capsys.readouterr().out
    campaign = re.compile(r"campaign: .* s; checks: (.*)")
    assert campaign.search(again).group(1) == campaign.search(out).group(1)


def test_a_time_budget_runs_steps_and_a_random_seed_is_printed(live, tmp_path, capsys):
    manifest = manifest_of(live, tmp_path / "31337.json")
    assert audit(live, manifest, "--seconds", "2") == 0
    out = capsys.readouterr().out
    seed = re.search(r"^seed (\d+)$", out, re.M).group(1)
    steps = int(re.search(r"campaign: (\d+) steps", out).group(1))
    assert (
        steps > 0 and f"result: agreed ({steps} steps from the imported state, seed {seed})" in out
    )


def test_the_actors_funded_through_the_token_storage_agree_too(live, tmp_path, capsys):
    """How a token other than the project's is funded: balances written on the fork."""
    manifest = manifest_of(live, tmp_path / "31337.json")
    assert audit(live, manifest, "--steps", "60", "--seed", "3", "--fund", "storage") == 0
    out = capsys.readouterr().out
    assert "8 harness traders funded by writing the token storage" in out
    assert "result: agreed (60 steps from the imported state, seed 3)" in out


def test_a_parameter_other_than_the_manifests_is_a_difference(live, tmp_path, capsys):
    manifest = tmp_path / "31337.json"
    record = json.loads(open(manifest_of(live, manifest)).read())
    record["request"]["markets"][1]["taker_fee_ratio"] += 1
    manifest.write_text(json.dumps(record))
    assert audit(live, str(manifest), "--steps", "5") == 1
    out = capsys.readouterr().out
    assert "DIFFERENCE market 1 (market-1) taker_fee_ratio: chain 1000, manifest 1001" in out
    assert "result: 1 differences from the manifest (campaign not run)" in out


def test_runtime_code_other_than_the_manifests_is_a_difference(live, tmp_path, capsys):
    manifest = tmp_path / "31337.json"
    record = json.loads(open(manifest_of(live, manifest)).read())
    recorded = record["contracts"]["Settlement"]["runtime_keccak"]
    record["contracts"]["Settlement"]["runtime_keccak"] = "0x" + "ab" * 32
    manifest.write_text(json.dumps(record))
    assert audit(live, str(manifest), "--steps", "5") == 1
    out = capsys.readouterr().out
    assert f"DIFFERENCE Settlement runtime keccak as recorded: chain {recorded}, manifest 0x" in out


def test_another_chains_manifest_is_refused(live, tmp_path, capsys):
    manifest = tmp_path / "other.json"
    record = json.loads(open(manifest_of(live, tmp_path / "31337.json")).read())
    manifest.write_text(json.dumps({**record, "chain_id": 5}))
    assert audit(live, str(manifest)) == 2
    assert "records chain 5" in capsys.readouterr().err


def test_usage_errors_and_no_node(live, tmp_path, capsys):
    manifest = manifest_of(live, tmp_path / "31337.json")
    assert audit(live, manifest, "--steps", "0") == 2
    assert audit(live, manifest, "--seconds", "-1") == 2
    assert main(["--manifest", manifest, "--fork-url", "http://127.0.0.1:1"]) == 3
    assert "--fork-url http://127.0.0.1:1" in capsys.readouterr().err
