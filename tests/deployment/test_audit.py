"""``make audit`` (``python -m harness.deployed.audit``): a fork of an instance in use,
attached to, imported and found equal to the chain; the node itself is only read."""

import json

from test_adl_queue import manifest_of

from harness.deployed.audit import main


def test_the_audit_imports_an_instance_in_use_equal_to_the_chain(live, tmp_path, capsys):
    manifest = manifest_of(live, tmp_path)
    record = json.loads(open(manifest).read())
    for name in record["contracts"]:
        record["contracts"][name]["runtime_keccak"] = f"0x{name}"
    open(manifest, "w").write(json.dumps(record))
    url = f"http://{live.chain.host}:{live.chain.port}"
    block = live.chain.rpc("eth_blockNumber", [])
    assert main(["--manifest", manifest, "--fork-url", url]) == 0
    out = capsys.readouterr().out
    assert "imported state equals the chain's" in out
    assert (
        "2 markets, 4 accounts with collateral or positions, 9 orders filled or cancelled, "
        "1 Governor calls queued" in out
    )
    assert live.chain.rpc("eth_blockNumber", []) == block  # the node was not written to


def test_another_chains_manifest_is_refused(live, tmp_path, capsys):
    manifest = tmp_path / "other.json"
    record = json.loads(open(manifest_of(live, tmp_path)).read())
    manifest.write_text(json.dumps({**record, "chain_id": 5}))
    url = f"http://{live.chain.host}:{live.chain.port}"
    assert main(["--manifest", str(manifest), "--fork-url", url]) == 2
    assert "records chain 5" in capsys.readouterr().err
