"""``ape run deploy`` and ``ape run verify`` as CI runs them against a testnet: an anvil
with its own chain id, automine and a base fee, a keyfile account whose passphrase is in
the environment, no terminal. Each command runs as its own process."""

import json
import re
from pathlib import Path

import pytest
from testnet import ALIAS, CHAIN_ID, MINTER, StandInTestnet, ape, keyfile_account, put_in_use

from harness import REPO_ROOT
from harness.deployed.audit import main as audit_main
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec

OPERATOR = "0x000000000000000000000000000000000000dEaD"
DEV_OPERATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # test:1, checksummed
# a contract whose every call returns 18: a token with 18 decimals, as far as decimals()
EIGHTEEN = "0x60126000526020" + "6000f3"
EIGHTEEN_AT = "0x00000000000000000000000000000000000e1812"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = StandInTestnet()
    testnet.folder = tmp_path_factory.mktemp("ape")
    testnet.deployer = keyfile_account(testnet.folder, testnet)
    testnet.token_address = testnet.token()
    yield testnet
    testnet.stop()


def deploy(net, manifest, *extra, config="sepolia", operator=OPERATOR, **kwargs):
    argv = ("run", "deploy", "--network", net.url, "--account", ALIAS, "--config", config)
    argv += ("--token", net.token_address, "--oracle", "deployer", "--operator", operator)
    argv += ("--token-holder", MINTER, "--manifest", str(manifest), *extra)
    return ape(net.folder, *argv, **kwargs)


def verify(net, manifest):
    return ape(net.folder, "run", "verify", "--network", net.url, "--manifest", str(manifest))


def audit(net, manifest, *args) -> int:
    """The audit of ``manifest``'s instance, its report in ``audit/`` beside it."""
    out = ("--out", str(manifest.parent / "audit"))
    return audit_main(["--manifest", str(manifest), "--fork-url", net.url, *out, *args])


def nonce(net) -> int:
    return net.nonce(net.deployer)


@pytest.fixture(scope="module")
def deployed(net, tmp_path_factory):
    """One instance deployed and recorded; the manifest's path."""
    manifest = tmp_path_factory.mktemp("deployments") / f"{CHAIN_ID}.json"
    done = deploy(net, manifest)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Sign:" not in done.stdout and "MISMATCH" not in done.stdout
    (manifest.parent / "deploy.log").write_text(done.stdout)
    return manifest


def test_deploy_records_the_instance(net, deployed):
    record = json.loads(deployed.read_text())
    assert record["chain_id"] == CHAIN_ID and record["request"]["owner"] == net.deployer
    assert record["compiler"] == "vyper 0.4.3" and len(record["config"]["sha256"]) == 64
    engine = record["contracts"]["PerpEngine"]
    assert engine["constructor_args"][0].lower() == net.token_address.lower()
    for contract in record["contracts"].values():
        receipt = net.rpc("eth_getTransactionReceipt", [contract["transaction"]])
        assert receipt["contractAddress"].lower() == contract["address"].lower()
        assert int(receipt["blockNumber"], 16) == contract["block"] <= record["block"]
    calls = [t["call"] for t in record["transactions"]]
    assert calls == ["add_market market-0", "update_price market-0 1000000"]


def test_ape_tracks_the_deployment(net, deployed):
    """ape's deployments hold each contract the manifest records (a live network's
    record, beside the manifest in the repository)."""
    log = (deployed.parent / "deploy.log").read_text()
    folder = Path(re.search(r"tracked in ape's deployments: (\S+)", log)[1])
    tracked = {
        (p.stem, json.loads(p.read_text())["address"].lower()) for p in folder.rglob("*.json")
    }
    for name, record in json.loads(deployed.read_text())["contracts"].items():
        assert (name, record["address"].lower()) in tracked, name


def test_a_rerun_verifies_and_deploys_nothing(net, deployed):
    before = nonce(net)
    done = deploy(net, deployed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified, nothing to do" in done.stdout and nonce(net) == before


def test_a_changed_config_is_refused_with_its_differences_unless_new_instance(
    net, deployed, tmp_path
):
    changed = tmp_path / "changed.yaml"
    source = json.loads(deployed.read_text())["config"]["text"]
    changed.write_text(source.replace("insurance_floor: 100_000_000", "insurance_floor: 2_000"))
    before = nonce(net)
    done = deploy(net, deployed, config=str(changed))
    assert done.returncode == 2 and nonce(net) == before
    assert "insurance_floor: 100000000 -> 2000" in done.stderr
    assert "--new-instance" in done.stderr
    # told to, it deploys another instance and keeps the first in the record
    copy = tmp_path / "copy.json"
    copy.write_text(deployed.read_text())
    done = deploy(net, copy, "--new-instance", config=str(changed))
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(copy.read_text())
    assert record["request"]["insurance_floor"] == 2_000 and nonce(net) > before
    assert [old["request"]["insurance_floor"] for old in record["superseded"]] == [100_000_000]


def test_verify_passes(net, deployed):
    done = verify(net, deployed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: the instance is as" in done.stdout and "MISMATCH" not in done.stdout
    assert "ok       initial price of market-0 published: 1000000" in done.stdout


def test_verify_reads_the_initial_prices_from_their_transactions(net, deployed, tmp_path):
    """The manifest says the deployment published 0.1 USDC for market-0; the transaction
    it records set 1 USDC."""
    manifest = json.loads(deployed.read_text())
    for record in manifest["transactions"]:
        if record["call"] == "update_price market-0 1000000":
            record["call"] = "update_price market-0 100000"
    changed = tmp_path / deployed.name
    changed.write_text(json.dumps(manifest))
    done = verify(net, changed)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISMATCH initial price of market-0 published: 1000000" in done.stdout


def test_the_audit_runs_the_campaign_on_a_fork_of_the_testnet(net, deployed, capsys):
    """The testnet's own chain id, base fee and automine; the token given by address (a
    MockToken, so the harness actors are funded by its mint); the node is only read."""
    before = net.rpc("eth_blockNumber", [])
    assert audit(net, deployed, "--steps", "30", "--seed", "5") == 0
    out = capsys.readouterr().out
    assert f"deployment: chain {CHAIN_ID}, forked at block {int(before, 16)}" in out
    assert "MISMATCH" not in out and "imported state equals the chain's" in out
    assert "result: agreed (30 steps from the imported state, seed 5)" in out
    assert net.rpc("eth_blockNumber", []) == before
    report = (deployed.parent / "audit" / "report.md").read_text()
    assert f"- chain {CHAIN_ID}, forked at block {int(before, 16)}" in report
    assert "**Result: agreed (30 steps from the imported state, seed 5)**" in report


def test_ape_run_audit_forks_the_network_it_is_given(net, deployed):
    """The audit as an ape script: ape's ``--network`` is the fork's source."""
    before = net.rpc("eth_blockNumber", [])
    out = deployed.parent / "ape-audit"
    argv = ("run", "audit", "--network", net.url, "--manifest", str(deployed))
    done = ape(net.folder, *argv, "--steps", "20", "--seed", "4", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"deployment: chain {CHAIN_ID}, forked at block {int(before, 16)}" in done.stdout
    assert "result: agreed (20 steps from the imported state, seed 4)" in done.stdout
    assert (out / "report.md").exists() and net.rpc("eth_blockNumber", []) == before


def test_verify_finds_a_parameter_changed_through_the_governor(net, tmp_path, capsys):
    """Another instance whose market 0 taker fee the owner changed after deployment."""
    manifest = tmp_path / "other.json"
    assert deploy(net, manifest).returncode == 0
    record = json.loads(manifest.read_text())
    engine, governor = (record["contracts"][n]["address"] for n in ("PerpEngine", "Governor"))
    market = record["request"]["markets"][0]
    fields = [f for f in market if f not in ("name", "initial_price")]
    params = tuple(market[f] + (1 if f == "taker_fee_ratio" else 0) for f in fields)
    data = codec("PerpEngine", "set_market_params").encode([0, params])
    net.rpc("anvil_impersonateAccount", [net.deployer])
    net.send(net.deployer, governor, codec("Governor", "schedule").encode([engine, data]))
    net.rpc("evm_increaseTime", [record["request"]["governance_delay"]])
    net.send(net.deployer, governor, codec("Governor", "execute").encode([engine, data]))
    done = verify(net, manifest)
    assert done.returncode == 1
    assert "1 of" in done.stderr and "market 0 (market-0) taker_fee_ratio: chain 501" in done.stderr
    # the audit finds it too, and runs no campaign on such an instance
    assert audit(net, manifest) == 1
    out = capsys.readouterr().out
    assert "DIFFERENCE market 0 (market-0) taker_fee_ratio: chain 501, manifest 500" in out
    assert "result: 1 differences from the manifest (campaign not run)" in out


def test_verify_finds_different_runtime_code(net, deployed, capsys):
    """PerpViews replaced by the allocator's code: neither the build's nor the recorded
    code, and its views fail (reported, not a crash)."""
    record = json.loads(deployed.read_text())
    views, allocator = (record["contracts"][n]["address"] for n in ("PerpViews", "AdlAllocator"))
    original = net.rpc("eth_getCode", [views, "latest"])
    net.rpc("anvil_setCode", [views, net.rpc("eth_getCode", [allocator, "latest"])])
    try:
        done = verify(net, deployed)
        audited = audit(net, deployed)
    finally:
        net.rpc("anvil_setCode", [views, original])
    assert done.returncode == 1 and audited == 1
    out = capsys.readouterr().out
    assert "DIFFERENCE PerpViews runtime code is the build's: chain 0x" in out
    assert "DIFFERENCE PerpViews runtime keccak as recorded: chain 0x" in out
    assert "3 of" in done.stderr
    for label in ("runtime code is the build's", "runtime keccak as recorded"):
        assert f"PerpViews {label}: chain 0x" in done.stderr
    assert "position views engine: chain call failed" in done.stderr


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (("--operator", DEV_OPERATOR), "operator: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 is "),
        (("--token", EIGHTEEN_AT), f"token: {EIGHTEEN_AT} has 18 decimals"),
        (
            ("--config", "{tmp}/bad.yaml"),
            "markets[0].maintenance_margin_ratio: 200000 is outside [1, 199999]",
        ),
    ],
)
def test_a_refused_request_exits_2_before_sending(net, tmp_path, extra, reason):
    net.rpc("anvil_setCode", [EIGHTEEN_AT, EIGHTEEN])
    sepolia = (REPO_ROOT / "configs" / "sepolia.yaml").read_text()
    (tmp_path / "bad.yaml").write_text(
        sepolia.replace("maintenance_margin_ratio: 100_000", "maintenance_margin_ratio: 200_000")
    )
    before = nonce(net)
    extra = tuple(arg.replace("{tmp}", str(tmp_path)) for arg in extra)
    done = deploy(net, tmp_path / "m.json", *extra)
    assert done.returncode == 2 and reason in done.stderr, done.stderr
    assert nonce(net) == before and not (tmp_path / "m.json").exists()


def test_no_passphrase_and_no_terminal_is_an_environment_error(net, tmp_path):
    done = deploy(net, tmp_path / "m.json", passphrase=None)
    assert done.returncode == 3
    assert f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE: not set" in done.stderr


def test_a_dry_run_deploys_on_a_fork_and_records_nothing(net, tmp_path):
    before = nonce(net)
    done = deploy(net, tmp_path / "m.json", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "dry run on a private fork of" in done.stdout and "ok       market count: 1" in done.stdout
    )
    assert nonce(net) == before and not (tmp_path / "m.json").exists()


def codec(contract: str, function: str) -> FunctionCodec:
    abi = artifacts.load(contract).abi
    return FunctionCodec(next(f for f in abi if f.get("name") == function))


def test_queue_reads_the_deployed_instance(net, deployed):
    done = ape(net.folder, "run", "queue", "--network", net.url, "--manifest", str(deployed))
    assert done.returncode == 0, done.stdout + done.stderr
    engine = json.loads(deployed.read_text())["contracts"]["PerpEngine"]["address"].lower()
    assert f"ADL candidates of the engine {engine}" in done.stdout
    assert "market 0: policy " in done.stdout and "  long: no positions" in done.stdout


def test_the_audit_agrees_from_the_deployed_instance_in_use(net, deployed, capsys):
    """Last in this module: it puts the instance ``ape run deploy`` made in use (two
    traders' open positions, a fund, filled and cancelled orders, a fresh price, a queued
    Governor call), then the audit imports all of it and its campaign agrees from there."""
    traders = put_in_use(net, json.loads(deployed.read_text()), OPERATOR)
    assert audit(net, deployed, "--steps", "30", "--seed", "6") == 0
    out = capsys.readouterr().out
    assert "imported state equals the chain's" in out
    assert "the imported accounts add up to the engine's token balance" in out
    assert re.search(
        r"1 markets, \d+ accounts with collateral or positions, 3 orders filled or cancelled, "
        r"1 Governor calls queued, fund [1-9]\d*", out
    ), out  # fmt: skip
    assert "the instance's 2 other users (residents" in out
    assert "result: agreed (30 steps from the imported state, seed 6)" in out
    done = ape(net.folder, "run", "queue", "--network", net.url, "--manifest", str(deployed))
    assert done.returncode == 0, done.stdout + done.stderr
    assert traders["long"] in done.stdout and traders["short"] in done.stdout
