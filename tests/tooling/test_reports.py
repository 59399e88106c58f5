"""What the campaign's reports tell an auditor (issue 20, 3-8): provenance, the scope
never reached, counted checks, the failure in full with named fields, JUnit XML, SARIF
and merged reports."""

import hashlib
import io
import json
import re
from xml.etree import ElementTree

import pytest

from harness import REPO_ROOT
from harness.campaign import fuzz, merge, provenance, report, sarif, scope, simplify, trace
from harness.core import attacker, invariants, readable
from harness.core.actions import price_stamp
from harness.core.call import Call, bundle
from harness.core.genesis import USDC
from harness.core.orders import Match
from harness.core.pair import Divergence
from harness.core.sequence import CheckedSequence
from harness.core.spec_machine import spec_sequence
from harness.evm import artifacts
from pyspec import engine, fees, settlement
from pyspec.errors import require


def campaign(tmp_path, name, *extra) -> tuple[int, dict]:
    out = tmp_path / name
    code = fuzz.main(
        ["--max-steps", "120", "--seed", "3", "--out", str(out)]
        + ["--database", str(tmp_path / "db"), *extra]
    )
    return code, json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def agreed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("agreed")
    sarif_log = ["--sarif", str(tmp_path / "out.sarif")]
    code, summary = campaign(tmp_path, "run", "--junit", str(tmp_path / "junit.xml"), *sarif_log)
    assert code == 0
    return tmp_path, summary


def test_provenance_names_the_code_tools_and_command(agreed):
    _, summary = agreed
    origin = summary["provenance"]
    assert set(origin) == {"code", "versions", "date", "host", "command", "seeds"}
    assert set(origin["versions"]) == {
        "python",
        "vyper",
        "eth-ape",
        "hypothesis",
        "pyrevm",
        "anvil",
    }
    spec = hashlib.sha256()
    for path in sorted((REPO_ROOT / "pyspec").rglob("*.py")):
        spec.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    runtime = hashlib.sha256()
    for name in provenance.DEPLOYED:
        runtime.update(name.encode() + b"\0" + artifacts.load(name).runtime + b"\0")
    assert origin["code"]["spec"] == spec.hexdigest()[:20]
    assert origin["code"]["runtime_bytecode"] == runtime.hexdigest()[:20]
    assert origin["code"]["contracts_sources"] == artifacts.sources_hash()
    assert len(origin["code"]["commit"]) == 40 and isinstance(origin["code"]["dirty"], bool)
    assert origin["command"].startswith("python -m harness.campaign --max-steps 120 --seed 3")
    assert "seed batch_seed(3, i, b)" in origin["seeds"]["rule"]


def test_scope_lists_what_was_never_reached(agreed):
    _, summary = agreed
    never = summary["never_reached"]
    reasons = scope.revert_reasons()
    assert "order: expired" in reasons and "withdraw: zero amount" in reasons
    # a trade's side reasons, composed on chain (``PerpEngine._require_side``), each side
    assert {"trade: buyer position too large", "trade: seller ratio lowered"} <= set(reasons)
    seen = {*summary["reverts"], *summary["view_reverts"]}  # a view's reason counts too
    assert never["revert_reasons"] == [r for r in reasons if r not in seen]
    assert never["entry_points"] == [e for e, n in summary["entry_points"].items() if n == 0]
    assert "governor.accept_ownership" in scope.entry_points()
    assert never["invariants_and_properties"] == [
        name for name in invariants.INVARIANTS if summary["checks"][name] == 0
    ]
    report = (agreed[0] / "run" / "report.md").read_text()
    for missing in never["revert_reasons"]:
        assert f"`{missing}`" in report


def test_checks_are_counted_where_they_run(tmp_path, monkeypatch):
    """Each check_state call checks fund_non_negative once; each step's conservation once."""
    calls = {"check_state": 0}
    real = invariants.check_state

    def counting(parsed, side):
        calls["check_state"] += 1
        return real(parsed, side)

    monkeypatch.setattr(invariants, "check_state", counting)
    code, summary = campaign(tmp_path, "run", "--max-steps", "60")
    assert code == 0
    assert summary["checks"]["fund_non_negative"] == calls["check_state"] > 0
    transactions = sum(c["total"] for c in summary["calls"].values())
    assert (
        summary["checks"]["reverts"]
        == transactions - summary["calls"].get("wait", {"total": 0})["total"]
    )


def test_junit_is_valid_xml_with_a_testcase_per_invariant(agreed):
    tmp_path, summary = agreed
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == list(invariants.INVARIANTS)
    assert suite.get("failures") == "0"
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert skipped == summary["never_reached"]["invariants_and_properties"]


@pytest.fixture
def fee_off_by_one(monkeypatch):
    real = fees.compute_trading_fee
    monkeypatch.setattr(
        fees, "compute_trading_fee", lambda notional, ratio: real(notional, ratio) + 1
    )


def test_a_failure_reads_in_full_with_named_orders_and_a_state_diff(tmp_path, fee_off_by_one):
    # room to minimize in full (the step budget covers shrinking)
    argv = ["--junit", str(tmp_path / "junit.xml"), "--max-steps", "2000"]
    code, summary = campaign(tmp_path, "run", *argv)
    assert code == 1
    found = json.loads((tmp_path / "run" / "counterexample.json").read_text())
    assert found["provenance"] == summary["provenance"]
    text = "\n".join(summary["failure"])
    steps = [line for line in summary["failure"] if re.match(r"step \d+: ", line)]
    assert len(steps) == len(found["calls"])  # every call, not the first few
    assert "maker=(trader=" in text and "limit_price=" in text  # the Order struct's fields
    assert "state diff (field: spec | chain):" in text and "insurance_fund:" in text
    # the divergence names the call's fields and the field that differs, with both values
    assert "divergence after operator -> settlement.settle(maker=(trader='trader" in text
    assert re.search(
        r"^  differs: \S+: spec -?\d+ \| chain -?\d+ \(chain - spec = -1\)$", text, re.M
    )
    assert not re.search(r"\('trader\d+', \d+, (True|False), ", text)  # no positional order
    assert not re.search(r"0x[0-9a-f]{40}", text)  # every address by its actor's name
    assert found["failure"]["call"].startswith("operator -> settlement.settle(maker=(trader=")
    assert found["failure"]["differences"] and all(
        " | chain " in d for d in found["failure"]["differences"]
    )
    report = (tmp_path / "run" / "report.md").read_text()
    assert report.index("## Failure") < report.index("## Provenance")
    page = (tmp_path / "run" / "report.html").read_text()
    assert "\nstep 2: " in page  # the HTML transcript keeps one step per line
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == [found["failure"]["invariant"]] and failed[0] in ("state", "events")


def test_replay_warns_when_the_code_differs_from_the_traces(tmp_path, capsys):
    calls = [Call("engine", "deposit", "trader1", (1_000_000,))]
    recorded = trace.to_json(calls)
    recorded["provenance"] = {"code": provenance.code()}
    assert not trace.warn_if_code_changed(recorded)
    assert "WARNING" not in capsys.readouterr().err
    recorded["provenance"]["code"]["spec"] = "0" * 20
    assert trace.warn_if_code_changed(recorded)
    err = capsys.readouterr().err
    assert "WARNING: the code differs" in err and "spec: 00000000000000000000 then" in err
    path = trace.save(tmp_path / "trace.json", recorded)
    assert trace.main(["replay", str(path)]) == 0
    assert "WARNING: the code differs" in capsys.readouterr().err


def test_report_merge_sums_the_runs(agreed, tmp_path):
    first_dir, first = agreed
    code, second = campaign(tmp_path, "second", "--seed", "9")
    assert code == 0
    out = tmp_path / "merged"
    assert merge.main([str(first_dir / "run"), str(tmp_path / "second"), "--out", str(out)]) == 0
    merged = json.loads((out / "summary.json").read_text())
    assert merged["steps"] == first["steps"] + second["steps"]
    assert merged["checks"]["custody"] == first["checks"]["custody"] + second["checks"]["custody"]
    assert merged["reverts"] == {
        r: first["reverts"].get(r, 0) + second["reverts"].get(r, 0) for r in merged["reverts"]
    }
    both = set(first["never_reached"]["revert_reasons"]) & set(
        second["never_reached"]["revert_reasons"]
    )
    assert set(merged["never_reached"]["revert_reasons"]) == both
    assert len(merged["plot_data"]["sequence_funds"]) == len(
        first["plot_data"]["sequence_funds"]
    ) + len(second["plot_data"]["sequence_funds"])
    for name in ("report.md", "report.html", "fund.png", "waterfall.png", "throughput.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "reached.png").stat().st_size > 0
    reached = merged["plot_data"]["reached"]
    assert len(reached) == 2 and all(reached)
    for series in reached:  # counts of what was reached never fall, and end at the totals
        for column in range(1, 5):
            assert all(a[column] <= b[column] for a, b in zip(series, series[1:], strict=False))
    assert reached[0][-1][4] <= len(first["entry_points"])


LCOV = {
    "a": "SF:contracts/Governor.vy\nBRDA:3,40,0,2\nBRDA:3,40,1,-\nDA:3,2\nDA:4,0\nend_of_record\n",
    "b": "SF:contracts/Governor.vy\nBRDA:3,40,0,1\nBRDA:3,40,1,5\nDA:3,6\nDA:4,1\nend_of_record\n",
}


def test_report_merge_sums_coverage_and_refuses_what_would_mislead(agreed, tmp_path, capsys):
    """The runs' lcov summed line by line and branch by branch; a failed run makes the
    merge exit 1; a folder given twice, or a spec-only run beside a differential one, is
    refused (exit 2)."""
    first_dir, first = agreed
    runs = {}
    for name, text in LCOV.items():
        runs[name] = tmp_path / name
        runs[name].mkdir()
        (runs[name] / "summary.json").write_text(json.dumps(first))
        (runs[name] / "coverage.lcov").write_text(text)
    out = tmp_path / "merged"
    assert merge.main([str(runs["a"]), str(runs["b"]), "--out", str(out)]) == 0
    merged = json.loads((out / "summary.json").read_text())
    assert merged["coverage"]["contracts/Governor.vy"] | {"unreached": []} == {
        "hit": 2, "lines": 2, "percent": 100.0, "unreached": [], "branches_taken": 2,
        "branches": 2,
    }  # fmt: skip
    assert "DA:3,8" in (out / "coverage.lcov").read_text()
    assert "BRDA:3,40,1,5" in (out / "coverage.lcov").read_text()

    failed = dict(first, result="divergence")
    (runs["b"] / "summary.json").write_text(json.dumps(failed))
    assert merge.main([str(runs["a"]), str(runs["b"]), "--out", str(out)]) == 1
    assert "divergence" in json.loads((out / "summary.json").read_text())["result"]

    for folders, message in (
        ([runs["a"], runs["a"]], "a report folder is given twice"),
        ([runs["a"], runs["b"]], "the runs mix machines (differential, spec)"),
    ):
        (runs["b"] / "summary.json").write_text(json.dumps(dict(first, machine="spec")))
        with pytest.raises(SystemExit) as exit_:
            merge.main([*map(str, folders), "--out", str(out)])
        assert exit_.value.code == 2 and message in capsys.readouterr().err


TRADER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
NAMES = {TRADER: "trader3", OTHER: "trader4"}


def test_a_divergence_names_the_calls_fields_and_what_differs():
    order = (TRADER, 1, True, 7, 2_000, False, 4, 99)
    args = (order, b"\1" * 65, order, b"\2" * 65, 7, 2_000)
    settle = Call("settlement", "settle", "operator", args)
    trade = ("Trade", (TRADER, OTHER, 1, 7, 2_000, 30, 20))
    other = ("Trade", (*trade[1][:5], 31, 20))
    message = str(Divergence(settle, "events", "event #0", trade, other, NAMES))
    assert (
        "events divergence after operator -> settlement.settle(maker=(trader='trader3', market=1, "
        "is_buy=True, size=7, limit_price=2000 (0.002 USDC), reduce_only=False, nonce=4, "
        "expiry=99), "
        "maker_signature=0x01010101..0101, taker=(trader='trader3'"
    ) in message
    assert (
        "  spec:  Trade(buyer='trader3', seller='trader4', market=1, size=7, "
        "price=2000 (0.002 USDC), buyer_fee=30 (0.00003 USDC), seller_fee=20 (0.00002 USDC))"
    ) in message
    assert message.endswith("  differs: Trade.buyer_fee: spec 30 | chain 31 (chain - spec = +1)")
    assert "(1, True, 7" not in message and TRADER not in message
    # a missing event, a revert, a view with two outputs, a state field
    missing = Divergence(settle, "events", "event #1", trade, None, NAMES)
    assert missing.differences() == ["event #1: spec Trade | chain (none)"]
    revert = Divergence(settle, "revert", "outcome", "ok", "revert 'order: expired'", NAMES)
    assert revert.differences() == ["outcome: spec ok | chain revert 'order: expired'"]
    rank = Call("views", "adl_rank", "trader3", (TRADER, 1))
    view = Divergence(rank, "view", readable.signature(rank, NAMES), (2, 5), (2, 6), NAMES)
    assert view.differences() == [
        "views.adl_rank(account='trader3', market_id=1)[1]: spec 5 | chain 6 (chain - spec = +1)"
    ]
    state = Divergence(settle, "state", "trader3.collateral", 10, 9, NAMES)
    assert state.differences() == ["trader3.collateral: spec 10 | chain 9 (chain - spec = -1)"]
    assert trace.to_json([settle], state)["failure"]["differences"] == state.differences()


def named_only(message: str, pair) -> bool:
    """No address of a known actor is left in ``message``."""
    known = {address.lower() for address in pair.actors.values()}
    return not any(a.lower() in known for a in readable.ADDRESS.findall(message))


@pytest.fixture
def stuck_deleverage(monkeypatch):
    """A planted spec bug: every deleverage reverts, so the liveness drain cannot resolve
    a bankrupt account."""

    def stuck(state, caller, address):
        require(False, "deleverage: planted")

    monkeypatch.setattr(engine, "process_deleverage", stuck)


@pytest.mark.parametrize("make_sequence", [CheckedSequence, spec_sequence])
def test_a_property_detail_names_actors(embedded_pair, stuck_deleverage, make_sequence):
    """A violated property's detail names actors, not the addresses the state keys, as
    both machines raise it, counterexample.json keeps it and the replay (the report's
    transcript) prints it; the failure carries its calls (the spec machine's liveness
    failure had none, so the minimizer saved an empty trace)."""
    sequence = make_sequence(embedded_pair)
    for trader in ("trader0", "trader1"):
        sequence.call(Call("engine", "deposit", trader, (1_000 * USDC,)))
    sequence.call(Match("trader0", "trader1", 0, 9_000, 10**6))  # trader0 9x long
    waits, timestamp = price_stamp(embedded_pair.state, 0)  # no call waited: either clock
    for call in [*waits, Call("engine", "update_price", "oracle", (0, 800_000, timestamp))]:
        sequence.call(call)  # trader0 bankrupt
    with pytest.raises(invariants.InvariantViolation) as caught:
        sequence.finish()
    detail = "invariant liveness: deleverage of trader0 reverted: deleverage: planted"
    assert str(caught.value) == detail and caught.value.calls == sequence.history
    assert trace.to_json(sequence.history, caught.value)["failure"]["message"] == detail
    replayed = io.StringIO()
    assert trace.replay(sequence.history, embedded_pair, out=replayed) == len(sequence.history) + 1
    assert f"end of sequence\nInvariantViolation: {detail}" in replayed.getvalue()


def test_a_signed_order_in_a_property_detail_names_its_trader(embedded_pair, monkeypatch):
    """A planted spec bug (a settle forgets the lots it filled) breaks trade_has_consent;
    its detail shows the order's trader and signer by name."""
    real = settlement._fill

    def forgetful(state, order, signature, market_id, size, price):
        digest = real(state, order, signature, market_id, size, price)
        state.book.filled[digest] -= size
        return digest

    monkeypatch.setattr(settlement, "_fill", forgetful)
    sequence = spec_sequence(embedded_pair)
    for trader in ("trader0", "trader1"):
        sequence.call(Call("engine", "deposit", trader, (1_000 * USDC,)))
    with pytest.raises(invariants.InvariantViolation, match="trade_has_consent") as caught:
        sequence.call(Match("trader0", "trader1", 0, 10, 10**6))
    message = str(caught.value)
    assert "order (trader='trader1', market=0, " in message and "(signer trader1)" in message
    assert named_only(message, embedded_pair)


def test_name_actors_keeps_unknown_addresses():
    """A dict keyed by addresses (an actor's, checksummed or not): the actors by name, an
    address no actor holds (the drain's outside liquidator) as it is."""
    checksummed = "0x" + TRADER[2:].upper()
    unknown = "0x" + "1d" * 20
    failure = invariants.InvariantViolation(
        "adl_order_free", f"charged {{{checksummed!r}: 5, {OTHER!r}: 7, {unknown!r}: 1}}"
    )
    readable.name_actors(failure, NAMES)
    assert str(failure) == (
        f"invariant adl_order_free: charged {{'trader3': 5, 'trader4': 7, '{unknown}': 1}}"
    )


def sarif_log(path) -> dict:
    """The SARIF log at ``path``, its structure checked by hand against SARIF 2.1.0's
    required properties (the schema's ``required`` lists) and the forms this log uses."""
    log = json.loads(path.read_text())
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    assert set(log) <= {"$schema", "version", "runs"} and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "perp-spec campaign" and re.fullmatch(
        r"\d+\.\d+\.\d+", driver["version"]
    )
    assert re.match(r"(https|file)://", driver["informationUri"])
    assert [r["id"] for r in driver["rules"]] == [*invariants.INVARIANTS, "divergence"]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["defaultConfiguration"]["level"] == "error"
    (invocation,) = run["invocations"]
    assert isinstance(invocation["executionSuccessful"], bool)
    assert isinstance(invocation["exitCode"], int) and invocation["commandLine"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", invocation["endTimeUtc"])
    for note in invocation.get("toolExecutionNotifications", []):
        assert note["level"] == "error" and note["message"]["text"]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == REPO_ROOT.as_uri() + "/"
    for result in run["results"]:
        assert result["message"]["text"] and result["level"] == "error"
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        places = [*result["locations"], *(a for a in result.get("attachments", []))]
        for flow in result.get("codeFlows", []):
            for thread in flow["threadFlows"]:
                places += [step["location"] for step in thread["locations"]]
        for place in places:
            where = place.get("physicalLocation", place).get("artifactLocation")
            if where is None:
                continue  # a step with no contract (the clock)
            assert where["uri"] and where.get("uriBaseId", "SRCROOT") == "SRCROOT"
            region = place.get("physicalLocation", {}).get("region")
            assert region is None or region["startLine"] >= 1
    return log


def test_sarif_of_a_green_run_has_every_rule_and_no_result(agreed):
    tmp_path, summary = agreed
    run = sarif_log(tmp_path / "out.sarif")["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["invocations"][0]["exitCode"] == 0
    assert "toolExecutionNotifications" not in run["invocations"][0]
    assert run["properties"]["provenance"] == summary["provenance"]
    assert run["properties"]["steps"] == summary["steps"] > 0
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"]: r["properties"].get("checks") for r in rules[:-1]} == summary["checks"]


def source_line(location: dict) -> str:
    """The source line a SARIF location points at."""
    physical = location["physicalLocation"]
    path = REPO_ROOT / physical["artifactLocation"]["uri"]
    return path.read_text().splitlines()[physical["region"]["startLine"] - 1]


def test_sarif_of_a_failing_run_locates_the_failure(tmp_path, fee_off_by_one):
    out = tmp_path / "out.sarif"
    code, summary = campaign(tmp_path, "run", "--sarif", str(out))
    assert code == 1
    found = json.loads((tmp_path / "run" / "counterexample.json").read_text())
    run = sarif_log(out)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is True  # it ran; it found a failure
    assert run["invocations"][0]["exitCode"] == 1
    (result,) = run["results"]
    assert result["ruleId"] == found["failure"]["invariant"] in invariants.INVARIANTS
    text = result["message"]["text"]
    assert text == "\n".join(summary["failure"]) and "differs: " in text
    assert "maker=(trader=" in text and not re.search(r"\('trader\d+', \d+, ", text)
    contract, spec, trace_file = result["locations"]
    assert found["failure"]["entry_points"] == ["settlement.settle"]
    assert contract["physicalLocation"]["artifactLocation"]["uri"] == "contracts/Settlement.vy"
    assert source_line(contract).startswith("def settle(")
    assert spec["physicalLocation"]["artifactLocation"]["uri"] == "pyspec/settlement.py"
    assert source_line(spec).startswith("def process_settle(")
    uri = trace_file["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == (tmp_path / "run" / "counterexample.json").as_uri()
    assert result["attachments"][0]["artifactLocation"]["uri"] == uri
    steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(steps) == len(found["calls"]) and steps[-1]["importance"] == "essential"
    assert run["properties"]["provenance"] == summary["provenance"]


@pytest.mark.parametrize(("min_steps", "exit_code"), [("0", 0), ("1", 3)])
def test_sarif_of_a_run_without_steps_is_no_success(tmp_path, min_steps, exit_code):
    out = tmp_path / "out.sarif"
    code, summary = campaign(
        tmp_path, "run", "--seconds", "1e-9", "--min-steps", min_steps, "--sarif", str(out)
    )
    assert code == exit_code and summary["steps"] == 0
    invocation = sarif_log(out)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == exit_code
    notes = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert notes and (exit_code == 3 or "no step ran: nothing was checked" in notes)


def test_a_usage_error_writes_no_sarif(tmp_path):
    out = tmp_path / "out.sarif"
    with pytest.raises(SystemExit) as exit_:
        fuzz.main(["--workers", "0", "--sarif", str(out), "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2 and not out.exists()


def test_a_failure_names_the_entry_points_its_call_ran():
    deposit = Call("engine", "deposit", "trader1", (5,))
    attack = bundle("trader2", deposit, Call("settlement", "cancel_exit", "attacker", (0,)))
    violation = invariants.InvariantViolation("custody", "off by one")
    violation.calls = [deposit, attack]
    assert trace.to_json([deposit, attack], violation)["failure"]["entry_points"] == [
        "engine.deposit",
        "settlement.cancel_exit",
    ]
    stuck = invariants.InvariantViolation("liveness", "a drain reverted")
    stuck.calls = [deposit]  # checked after the last call: no call to blame
    assert "entry_points" not in trace.to_json([deposit], stuck)["failure"]
    # a view divergence: the views' contract function and the spec's view
    contract, spec = sarif.entry_locations("views.health", "ran")
    assert source_line(contract).startswith("def health(")
    assert spec["physicalLocation"]["artifactLocation"]["uri"] == "pyspec/views.py"
    assert source_line(spec).startswith("def health(")
    # a public variable a module exports: its declaration
    (getter, *_) = sarif.entry_locations("engine.markets", "ran")
    assert source_line(getter).startswith("markets: public(")
    assert sarif.entry_locations("clock.wait", "ran") == []


def violation(name: str, calls: list, step: int) -> invariants.InvariantViolation:
    """An invariant's failure as a ``CheckedSequence`` raises it: its calls and step."""
    failure = invariants.InvariantViolation(name, "off by one")
    failure.calls, failure.step = calls, step
    return failure


def test_a_replay_names_the_recorded_failure_another_or_none():
    """``trace.verdict``: the same check, kind, failing step and function is the recorded
    failure; anything else is a different one, said with both."""
    deposit = Call("engine", "deposit", "trader1", (5,))
    withdraw = Call("engine", "withdraw", "trader1", (5,))
    recorded = trace.to_json([deposit, withdraw], violation("custody", [deposit, withdraw], 2))
    failure = recorded["failure"]
    assert (failure["invariant"], failure["kind"], failure["step"], failure["fn"]) == (
        "custody",
        "InvariantViolation",
        2,
        "engine.withdraw",
    )
    again = violation("custody", [deposit, withdraw], 2)
    assert trace.verdict(failure, again) == (
        trace.SAME,
        "the recorded failure again: invariant custody in engine.withdraw at step 2",
    )
    earlier = violation("custody", [deposit], 1)
    assert trace.verdict(failure, earlier) == (
        trace.OTHER,
        "a different failure: recorded invariant custody in engine.withdraw at step 2, "
        "now invariant custody in engine.deposit at step 1",
    )
    stuck = violation("liveness", [deposit, withdraw], 3)  # after the last call
    assert trace.verdict(failure, stuck)[1].endswith(
        "now property liveness at the end of the sequence (step 3)"
    )
    assert trace.verdict(failure, None) == (
        trace.AGREED,
        "agreed: the recorded failure no longer reproduces",
    )
    # a trace written before the step was recorded: by check, kind and call
    assert trace.same_failure({"invariant": "custody", "kind": "InvariantViolation"}, earlier)


def test_simplify_makes_each_integer_the_least_that_fails_alike():
    """A failure at the withdrawal whenever it takes 1,000 or more: its amount goes to
    1,000 exactly, the deposit's to 0 (it plays no part), and a value that fails
    otherwise (at the deposit) is never kept."""
    calls = [
        Call("engine", "deposit", "trader1", (123_456_789,)),
        Call("engine", "withdraw", "trader1", (98_765_432,)),
    ]

    def replay(candidate, pair):
        deposit, withdraw = (c.args[0] for c in candidate)
        if deposit == 1:  # another failure: at the first call
            return violation("custody", candidate[:1], 1)
        if withdraw >= 1000:
            return violation("custody", candidate, 2)
        return None

    target = trace.identity(violation("custody", calls, 2))
    simpler, failure, changes, complete = simplify.simplify(calls, None, target, replay)
    assert complete and [c.args[0] for c in simpler] == [0, 1000]
    assert trace.identity(failure) == target
    assert changes == [
        {"step": 1, "argument": "amount", "from": 123_456_789, "to": 0},
        {"step": 2, "argument": "amount", "from": 98_765_432, "to": 1000},
    ]
    # the budget spent at once: nothing changed, not complete
    kept, _, changes, complete = simplify.simplify(calls, None, target, replay, lambda _: True)
    assert kept == calls and changes == [] and not complete


def test_simplify_reaches_into_bundles_and_governor_calldata():
    """A bundle's withdrawal and a scheduled parameter are made the least that fails
    alike; the calldata changes in its schedule and its execution together (one call id),
    so a failure that needs both to match is kept."""
    from harness.core.call import Calldata, bundle

    fee = Calldata("set_market_params", (1, (10**5, 5 * 10**4, 777)))
    deposit = Call("engine", "deposit", "attacker", (5_000,))
    calls = [
        Call("governor", "schedule", "owner", ("engine", Calldata("set_oracle", ("trader1",)))),
        bundle("owner", deposit, Call("engine", "withdraw", "attacker", (4_321,))),
        Call("governor", "schedule", "owner", ("engine", Calldata("withdraw_insurance", (900,)))),
        Call("governor", "execute", "outsider", ("engine", Calldata("withdraw_insurance", (900,)))),
        Call("governor", "schedule", "owner", ("engine", fee)),
    ]

    def replay(candidate, pair):
        withdrawn = candidate[1].args[1].args[0]
        scheduled, executed = (c.args[1].args[0] for c in candidate[2:4])
        if withdrawn >= 17 and scheduled == executed and scheduled >= 300:
            return violation("custody", candidate, 4)
        return None

    target = trace.identity(violation("custody", calls, 4))
    simpler, _, changes, complete = simplify.simplify(calls, None, target, replay)
    assert complete
    assert simpler[1].args[1].args[0] == 17 and simpler[1].args[0].args[0] == 0
    assert [c.args[1].args[0] for c in simpler[2:4]] == [300, 300]
    assert simpler[4].args[1].args[0] == 0  # plays no part: the market id goes to 0
    named = {c["argument"]: (c["step"], c["from"], c["to"]) for c in changes}
    assert named["call 1: amount"] == (2, 5_000, 0)
    assert named["call 2: amount"] == (2, 4_321, 17)
    # recorded in both calls that carry the calldata (found by review: only the first was)
    steps = sorted(c["step"] for c in changes if c["argument"] == "withdraw_insurance.amount")
    assert steps == [3, 4] and named["withdraw_insurance.amount"][1:] == (900, 300)
    assert named["set_market_params.market_key"] == (5, 1, 0)


def test_a_trace_recorded_before_steps_and_usdc_notes_is_still_recognised():
    """A trace written before the failing step was recorded names its failure by the
    failing call as then described, without the USDC notes calls now carry (found by
    review: such a trace was taken for a different failure)."""
    deposit = Call("engine", "deposit", "trader0", (10_706 * 10**6,))
    failure = Divergence(deposit, "revert", "outcome", "ok", "revert 'x'")
    failure.calls, failure.step = [deposit], 1
    assert "(10,706 USDC)" in trace.failure_record(failure)["call"]
    legacy = {
        "invariant": "reverts",
        "kind": "revert",
        "call": "trader0 -> engine.deposit(amount=10706000000)",
    }
    assert trace.same_failure(legacy, failure)
    assert not trace.same_failure(legacy | {"call": "trader0 -> engine.deposit(amount=1)"}, failure)


def test_the_attacker_gain_is_broken_down_and_reported(tmp_path):
    """The best gain's parts (rewards, its own deficits written off, the rest) add up to
    it, and the report shows them with the sequence; a merge keeps the best run's."""
    code, summary = campaign(tmp_path, "spec", "--machine", "spec", "--max-steps", "3000")
    assert code == 0
    attacker = summary["attacker"]
    assert attacker["best_gain"] > 0 and attacker["sequence"]
    assert sum(attacker["parts"].values()) == attacker["best_gain"]
    assert attacker["parts"]["rest"] <= 0  # attacker_gain_bounded, call by call
    report = (tmp_path / "spec" / "report.md").read_text()
    assert "## The attacker contract's best gain" in report
    assert readable.in_usdc(attacker["parts"]["rewards"]) + " USDC" in report
    assert attacker["sequence"][-1] in report
    code, other = campaign(tmp_path, "other", "--machine", "spec", "--seed", "9")
    out = tmp_path / "merged"
    assert merge.main([str(tmp_path / "spec"), str(tmp_path / "other"), "--out", str(out)]) == 0
    merged = json.loads((out / "summary.json").read_text())
    assert merged["attacker"] == max(attacker, other["attacker"], key=lambda a: a["best_gain"])


def test_the_best_gain_keeps_its_parts_and_the_calls_that_reached_it(monkeypatch):
    values = iter([5, 0, 9, 5, 4, 9])  # the attacker's value after, then before, each call
    monkeypatch.setattr(attacker, "value", lambda state, address: next(values))
    monkeypatch.setattr(attacker, "fair_pnl", lambda *args: 0)
    meter = attacker.GainMeter("0xa")
    rewarded = [("Liquidation", ("0xb", "0xa", 0, 0, 0, 0, 20))]  # 20 to the attacker
    for calls in (2, 5, 7):  # gains 5, 4, -5: the best, 9, after the 5th call
        meter.step(None, None, rewarded, calls)
    assert (meter.gain, meter.best, meter.best_at) == (4, 9, 5)
    assert meter.best_parts == (40, 0, -31) and sum(meter.parts) == 4
    old = {"attacker": {"best_gain": 5, "sequence": ["x"]}}  # a summary from before parts
    assert report.attacker_line(old).endswith("its parts were not recorded")
