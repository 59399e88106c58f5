"""``make audit`` (``python -m harness.deployed.audit``): a fork of an instance in use,
its code and parameters checked against its manifest, its state imported, found equal to
the chain's, and the differential campaign run from it; the node itself is only read."""

import itertools
import json
import re
from pathlib import Path
from types import SimpleNamespace

from live_instance import manifest_of

from harness.deployed import audit as audit_module
from harness.deployed.audit import main
from pyspec import fees
from pyspec.errors import Revert

# planted breaks: a fee one unit off from this notional on; a fee the spec refuses
THRESHOLD = 10**9


def refused(notional: int, ratio: int) -> int:
    raise Revert("fee: planted")


def url_of(live) -> str:
    return f"http://{live.chain.host}:{live.chain.port}"


def audit(live, manifest, *args) -> int:
    """The audit of ``manifest``'s instance; its report beside the manifest unless
    ``--out`` says where."""
    out = () if "--out" in args else ("--out", str(Path(manifest).parent / "audit"))
    return main(["--manifest", str(manifest), "--fork-url", url_of(live), *out, *args])


def test_the_audit_runs_the_campaign_from_an_instance_in_use(live, tmp_path, capsys):
    """Open positions on both markets, a fund, filled and cancelled orders, an exit
    request and a queued Governor call: 40 steps from there agree, twice alike."""
    manifest = manifest_of(live, tmp_path / "31337.json")
    block = live.chain.rpc("eth_blockNumber", [])
    assert audit(live, manifest, "--steps", "40", "--seed", "7") == 0
    out = capsys.readouterr().out
    assert "MISMATCH" not in out and "ok       market 1 (market-1) adl_policy: 1" in out
    assert "imported state equals the chain's" in out
    assert "the imported accounts add up to the engine's token balance" in out
    assert (
        "2 markets, 6 accounts with collateral or positions, 11 orders filled or cancelled, "
        "1 Governor calls queued, fund 1000154930" in out
    )
    assert "the instance's 2 other users (residents" in out
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
    assert "argument --steps: 0 is not a positive integer" in capsys.readouterr().err
    assert audit(live, manifest, "--seconds", "-1") == 2
    assert main(["--manifest", manifest, "--fork-url", "http://127.0.0.1:1"]) == 3
    assert "--fork-url http://127.0.0.1:1" in capsys.readouterr().err


def test_a_divergence_is_minimized_saved_with_its_deployment_and_replayed(
    live, tmp_path, capsys, monkeypatch
):
    """The spec's trading fee one unit off: the audit fails, minimizes the calls from
    the imported state, saves them with the deployment and writes its report; the
    replay on a fork at the recorded block fails again the same way, fails another way
    under another break (named as a different failure) and agrees once the spec is
    right again."""
    manifest = manifest_of(live, tmp_path / "31337.json")
    block = int(live.chain.rpc("eth_blockNumber", []), 16)
    fee = fees.compute_trading_fee
    monkeypatch.setattr(fees, "compute_trading_fee", lambda notional, r: fee(notional, r) + 1)
    out = tmp_path / "report"
    budget = ("--steps", "60", "--seed", "7", "--shrink-seconds", "600")
    assert audit(live, manifest, *budget, "--out", str(out)) == 1
    text = capsys.readouterr().out
    assert "DIVERGENCE Divergence:" in text and "result: divergence after" in text
    path = out / "counterexample.json"
    assert f"counterexample saved: {path}" in text
    found = json.loads(path.read_text())
    assert found["kind"] == "audit" and found["manifest"] == manifest
    deployment = found["deployment"]
    assert deployment["chain_id"] == 31337 and deployment["block"] == block
    record = json.loads(Path(manifest).read_text())["contracts"]
    for name, contract in deployment["contracts"].items():
        assert contract["address"] == record[name]["address"]
        assert contract["runtime_keccak"] == record[name]["runtime_keccak"]
    assert deployment["actors"]["oracle"] == live.actors["oracle"]
    assert found["failure"]["kind"] in ("events", "state", "revert")
    assert found["failure"]["entry_points"] == ["settlement.settle"]
    assert found["reproduced"] and found["minimized"]
    assert 0 < len(found["calls"]) < found["found_calls"]
    assert found["calls"][-1]["fn"] == "settle"
    report = (out / "report.md").read_text()
    assert (
        f"| PerpEngine | `{live.engine_address}` | `{record['PerpEngine']['runtime_keccak']}`"
        in (report)
    )
    assert f"forked at block {block}" in report and "## Counterexample" in report
    assert "**Result: divergence after" in report and "| reverts |" in report

    # recorded: the check, its kind, the failing call's step and function
    n = len(found["calls"])
    assert found["failure"]["step"] == n and found["failure"]["fn"] == "settlement.settle"
    recorded = f"{found['failure']['kind']} divergence in settlement.settle at step {n}"

    replay = ["--replay", str(path), "--fork-url", url_of(live)]
    assert main(replay) == 1  # (a) the same break: the same failure
    text = capsys.readouterr().out
    assert f"at block {block} ({n} calls; recorded failure: {recorded})" in text
    assert f"result: the recorded failure again: {recorded}" in text
    # (b) another break (the spec's fee refused): a failure, but not the recorded one
    monkeypatch.setattr(fees, "compute_trading_fee", refused)
    assert main(replay) == 1
    text = capsys.readouterr().out
    assert (
        f"result: a different failure: recorded {recorded}, "
        f"now revert divergence in settlement.settle at step {n}"
    ) in text
    monkeypatch.undo()  # (c) the spec's fee again
    assert main(replay) == 0
    text = capsys.readouterr().out
    assert f"all {n} steps agreed" in text
    assert "result: agreed: the recorded failure no longer reproduces" in text
    assert live.chain.rpc("eth_blockNumber", []) == hex(block)  # the node was not written to


def test_shrinking_simplifies_the_values_and_the_replay_fails_alike(
    live, tmp_path, capsys, monkeypatch
):
    """A fee one unit off from a notional of 10**9 on: the trade found is larger; the
    shrinking cuts its size (and its orders', signed again) to the least that still
    fails, and the replay fails the same way."""
    manifest = manifest_of(live, tmp_path / "31337.json")
    fee = fees.compute_trading_fee
    off = lambda notional, r: fee(notional, r) + (notional >= THRESHOLD)  # noqa: E731
    monkeypatch.setattr(fees, "compute_trading_fee", off)
    out = tmp_path / "report"
    budget = ("--steps", "60", "--seed", "7", "--shrink-seconds", "600")
    assert audit(live, manifest, *budget, "--out", str(out)) == 1
    text = capsys.readouterr().out
    found = json.loads((out / "counterexample.json").read_text())
    assert found["minimized"] and found["failure"]["kind"] == "events"
    *_, settle = found["calls"]
    maker, _, taker, _, size, price = settle["args"]
    least = -(-THRESHOLD // price)  # the least size whose notional is off at this price
    assert size == maker[3] == taker[3] == least
    changes = {c["argument"]: c for c in found["simplified"]}
    assert changes["size"]["to"] == least < changes["size"]["from"]
    assert changes["maker.size"]["to"] == changes["taker.size"]["to"] == least
    step = found["failure"]["step"]
    assert f"step {step} size {changes['size']['from']:,} -> {least:,}" in text
    report = (out / "report.md").read_text()
    assert f"- step {step}: size simplified from {changes['size']['from']:,} to {least:,}" in report
    assert main(["--replay", str(out / "counterexample.json"), "--fork-url", url_of(live)]) == 1
    again = capsys.readouterr().out
    assert (
        f"result: the recorded failure again: events divergence in settlement.settle at step {step}"
        in again
    )


def test_a_budget_spent_before_the_first_step_fails_loudly(live, tmp_path, capsys, monkeypatch):
    """An audit that compared nothing is no pass: a clock (the audit's alone) that jumps
    past the time budget before the first step."""
    manifest = manifest_of(live, tmp_path / "31337.json")
    clock = itertools.count(0, 1000)
    monkeypatch.setattr(audit_module, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    assert audit(live, manifest, "--seconds", "1", "--out", str(tmp_path / "none")) == 1
    out = capsys.readouterr().out
    assert "campaign: 0 steps in 0 sequences" in out
    assert "FAILED: the campaign ran no step: nothing was compared" in out
    report = (tmp_path / "none" / "report.md").read_text()
    assert "**Result: the campaign ran no step: nothing was compared**" in report
    assert not (tmp_path / "none" / "counterexample.json").exists()


def test_replay_usage_errors(live, tmp_path, capsys):
    assert main(["--replay", str(tmp_path / "none.json"), "--fork-url", url_of(live)]) == 2
    assert "none.json: no such counterexample" in capsys.readouterr().err
    (tmp_path / "trace.json").write_text('{"format": 1, "calls": []}')
    assert main(["--replay", str(tmp_path / "trace.json"), "--fork-url", url_of(live)]) == 2
    assert "not an audit's counterexample" in capsys.readouterr().err
    assert main(["--fork-url", url_of(live)]) == 2
    assert "--manifest is required (unless --replay)" in capsys.readouterr().err


def test_the_instances_own_users_act_and_agree(live, tmp_path, capsys, monkeypatch):
    """trader8 and trader9 are none of the audit's actors: impersonated as residents, they
    withdraw, ask to exit and withdraw the request, call deleverage as keepers, and take
    positions over (a trader's exit, a liquidation), from their imported accounts; spec
    and fork agree."""
    from harness.core.pair import Pair

    done = []
    apply = Pair.apply

    def recording(pair, call, before=None):
        outcome = apply(pair, call, before)
        done.append((call.sender, call.fn, outcome.success, outcome.reason))
        return outcome

    monkeypatch.setattr(Pair, "apply", recording)
    manifest = manifest_of(live, tmp_path / "31337.json")
    assert audit(live, manifest, "--steps", "400", "--seed", "3") == 0
    assert "result: agreed (400 steps from the imported state, seed 3)" in capsys.readouterr().out
    by_residents = {(who, fn) for who, fn, ok, _ in done if ok and who.startswith("resident")}
    assert {who for who, _ in by_residents} == {"resident0", "resident1"}
    assert {fn for _, fn in by_residents} >= {"withdraw", "request_exit", "cancel_exit"}
    # without a key they still take positions over: a trader's exit, an account liquidated
    tried = {fn for who, fn, _, _ in done if who.startswith("resident")}
    assert {"take_exit", "liquidate"} <= tried
    assert {fn for _, fn in by_residents} & {"take_exit", "liquidate"}
    # and as keepers (succeeding only when someone is bankrupt by then)
    assert any(who.startswith("resident") and fn == "deleverage" for who, fn, _, _ in done)


def balance_only_token(slot: int, vyper: bool, mask: bool = False) -> str:
    """Runtime code that answers any call with the word at the balance mapping's key of
    the address in calldata[4:36], the mapping at ``slot``: keccak(slot . address) as
    Vyper lays it out, keccak(address . slot) as Solidity does; with ``mask``, the word
    without its top bit (a flag packed beside the balance)."""
    address_at, slot_at = ("20", "00") if vyper else ("00", "20")
    return (
        f"0x600435 60{address_at} 52 60{slot:02x} 60{slot_at} 52"  # address, slot to memory
        " 6040 6000 20 54"  # sload(keccak(memory[0:64]))
        + (" 7f7f" + "ff" * 31 + " 16" if mask else "")  # and 2**255 - 1
        + " 6000 52 6020 6000 f3"  # return it
    ).replace(" ", "")


def test_storage_funding_reaches_through_a_proxy_and_keeps_packed_flags(live):
    """USDC's layout: a proxy delegates every call to its implementation (whose address is
    at the zeppelinos slot), so the balances live in the proxy's storage, at Solidity slot
    9; v2.2 keeps the blacklist flag in each word's top bit and ``balanceOf`` masks it.
    The probe finds the mapping through the proxy, and funding keeps a holder's flag."""
    from eth_utils import keccak

    from harness.deployed.fork import write_balances

    proxy, implementation = "0x" + "71" * 20, "0x" + "72" * 20
    slot = "0x" + keccak(b"org.zeppelinos.proxy.implementation").hex()
    delegating = (
        (
            "0x 36 6000 6000 37"  # calldata to memory
            f" 6000 6000 36 6000 7f{slot[2:]} 54 5a f4"  # delegatecall(sload(slot), calldata)
            " 50 3d 6000 6000 3e 3d 6000 f3"  # return what the implementation returned
        ).replace(" ", "")
    )
    live.chain.rpc("anvil_setCode", [implementation, balance_only_token(9, False, mask=True)])
    live.chain.rpc("anvil_setCode", [proxy, delegating])
    live.chain.rpc("anvil_setStorageAt", [proxy, slot, "0x" + implementation[2:].rjust(64, "0")])
    holder, blacklisted = live.address("trader6"), live.address("trader7")
    key = keccak(bytes.fromhex(blacklisted[2:]).rjust(32, b"\0") + (9).to_bytes(32, "big"))
    flagged = (1 << 255) | 5
    live.chain.rpc("anvil_setStorageAt", [proxy, "0x" + key.hex(), f"0x{flagged:064x}"])
    state = SimpleNamespace(token=SimpleNamespace(address=proxy, balances={}))
    write_balances(live.chain, state, [holder, blacklisted], 1_000)
    assert state.token.balances == {holder: 1_000, blacklisted: 1_005}
    word = live.chain.rpc("eth_getStorageAt", [proxy, "0x" + key.hex(), "latest"])
    assert int(word, 16) == flagged + 1_000  # still blacklisted, as on the chain forked
    for address in (proxy, implementation):
        live.chain.rpc("anvil_setCode", [address, "0x"])


def test_storage_funding_finds_the_balance_mapping_of_either_layout(live):
    """``--fund storage`` on a token that is not the project's: the mapping is found at
    any of the first 64 slots, in Vyper's or Solidity's key order, and written."""
    from harness.deployed.fork import write_balances

    token = "0x" + "70" * 20
    for slot, vyper in ((9, False), (0, False), (37, True)):
        live.chain.rpc("anvil_setCode", [token, balance_only_token(slot, vyper)])
        state = SimpleNamespace(token=SimpleNamespace(address=token, balances={}))
        holders = [live.address("trader6"), live.address("trader7")]
        write_balances(live.chain, state, holders, 1_000)
        write_balances(live.chain, state, holders[:1], 1)
        assert state.token.balances == {holders[0]: 1_001, holders[1]: 1_000}
    live.chain.rpc("anvil_setCode", [token, "0x"])


def test_an_account_the_import_misses_is_found_by_the_engines_balance(
    live, tmp_path, capsys, monkeypatch
):
    """The state comparison reads the accounts the import found, so an account the event
    scan missed would be missed on both sides; the books against the engine's token
    balance are not: trader9 (collateral only) dropped from the import is reported."""
    from harness.deployed import fork

    real = fork.import_state
    trader9 = live.address("trader9")

    def missing_one(*args, **kwargs):
        imported = real(*args, **kwargs)
        imported.accounts.remove(trader9)
        del imported.state.accounts[trader9]
        return imported

    monkeypatch.setattr(fork, "import_state", missing_one)
    manifest = manifest_of(live, tmp_path / "31337.json")
    assert audit(live, manifest, "--steps", "5", "--seed", "7") == 1
    out = capsys.readouterr().out
    assert "imported state equals the chain's" in out
    assert "DIFFERENCE the import's books: invariant custody" in out
    assert "the imported accounts do not add up to the engine's balance" in out
