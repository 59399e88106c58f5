"""The campaign's promises as a command: exit status 0 / 1 / 2 / 3 / 130 / 143, hard step
and time budgets (shrinking included), --min-steps, partial reports on signals, the
spec-only report's title, --help, and ``make export`` refusing to overwrite."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness import REPO_ROOT
from harness.campaign import fuzz, trace
from harness.core.call import Call
from harness.core.pair import Pair
from harness.evm import anvil
from pyspec import fees


def campaign(tmp_path, *options) -> tuple[int, dict]:
    code = fuzz.main([*options, "--out", str(tmp_path / "run"), "--database", str(tmp_path / "db")])
    return code, json.loads((tmp_path / "run" / "summary.json").read_text())


@pytest.fixture
def fee_off_by_one(monkeypatch):
    real = fees.compute_trading_fee
    monkeypatch.setattr(
        fees, "compute_trading_fee", lambda notional, ratio: real(notional, ratio) + 1
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--chain", "nosuch"], "unknown chain 'nosuch'"),
        (["--chain", "ape:ethereum:local:test"], "ape's in-process test provider (eth-tester)"),
        (["--steps", "0"], "--steps: '0': must be a positive integer"),
        (["--batch", "0"], "--batch: '0': must be a positive integer"),
        (["--seconds", "-1"], "--seconds: '-1': must be a positive number"),
        (["--seconds", "0"], "--seconds: '0': must be a positive number"),
        (["--seconds", "nan"], "--seconds: 'nan': must be a positive number"),
        (["--seconds", "inf"], "--seconds: 'inf': must be a positive number"),
        (["--scheduler", "nosuch"], "'nosuch': expected local or tcp://host:port"),
        (["--scheduler", "tcp://host"], "'tcp://host': expected local or tcp://host:port"),
        (["--workers", "0"], "--workers: '0': must be a positive integer"),
        (["--max-steps", "-1"], "--max-steps: '-1': must be an integer >= 0"),
        (["--min-steps", "x"], "--min-steps: 'x' is not an integer >= 0"),
        (["--max-steps", "5", "--min-steps", "6"], "--max-steps 5 is below --min-steps 6"),
        (["--machine", "both"], "invalid choice: 'both'"),
        (["--adl-policy", "fifo"], "invalid choice: 'fifo'"),
        (["--nosuch"], "unrecognized arguments: --nosuch"),
    ],
)
def test_a_usage_error_exits_2_with_a_message_before_anything_runs(
    tmp_path, capsys, options, message
):
    with pytest.raises(SystemExit) as exit_:
        fuzz.main([*options, "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_help_shows_defaults_exit_codes_and_report_contents(capsys):
    with pytest.raises(SystemExit) as exit_:
        fuzz.main(["--help"])
    text = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "(default: 20.0)" in text and "(default: embedded)" in text
    for line in ("0    agreed", "1    a divergence", "2    usage error", "3    harness or"):
        assert line in text
    assert "130  interrupted by SIGINT" in text and "143 by SIGTERM" in text
    for name in ("report.md", "summary.json", "counterexample.json", "fund.png"):
        assert name in text


def test_agreement_exits_0_and_the_step_budget_is_exact(tmp_path):
    code, summary = campaign(tmp_path, "--max-steps", "10", "--seconds", "60", "--seed", "2")
    assert code == 0 and summary["result"] == "agreed"
    assert summary["steps"] == 10 and summary["stopped_by"] == ["step budget"]
    assert summary["setup_seconds"] > 0 and summary["elapsed_seconds"] < 30


def test_a_divergence_exits_1_and_shrinking_stays_inside_the_step_budget(tmp_path, fee_off_by_one):
    code, summary = campaign(tmp_path, "--max-steps", "30", "--seed", "1")
    assert code == 1 and summary["result"] == "divergence (not fully minimized)"
    assert summary["steps"] + summary["shrink_steps"] <= 30
    found = json.loads((tmp_path / "run" / "counterexample.json").read_text())
    assert found["minimized"] is False
    assert "not fully minimized" in (tmp_path / "run" / "report.md").read_text()
    # with room to shrink, the same failure is minimized to the two deposits and the trade
    code, summary = campaign(tmp_path / "more", "--max-steps", "2000", "--seed", "1")
    found = json.loads((tmp_path / "more" / "run" / "counterexample.json").read_text())
    assert code == 1 and summary["result"] == "divergence" and found["minimized"] is True
    assert len(found["calls"]) == 3


def test_the_random_explorer_finds_and_minimizes_a_divergence(tmp_path, fee_off_by_one):
    """The default explorer (``--explorer random``): the action policy on a seeded random
    source; the campaign's own minimizer takes the failure down to the two deposits and
    the trade, then makes their values the least that fail alike (one lot)."""
    code, summary = campaign(tmp_path, "--max-steps", "2000", "--seed", "3")
    found = json.loads((tmp_path / "run" / "counterexample.json").read_text())
    assert code == 1 and summary["result"] == "divergence" and found["minimized"] is True
    assert len(found["calls"]) == 3 and "--explorer" not in summary["reproduce"]
    # drawn values, no hypothesis to shrink them: simplified to the least that fails alike
    changed = {(c["step"], c["argument"]): c["to"] for c in found["simplified"]}
    assert changed[(3, "size")] == changed[(3, "maker.size")] == changed[(3, "taker.size")] == 1
    assert all(c["to"] < c["from"] for c in found["simplified"])


def test_the_time_budget_is_hard_while_shrinking(tmp_path, fee_off_by_one, monkeypatch):
    """Each call takes 0.1 s of a fake clock (deterministic on a loaded machine, where a
    wall-clock bound flaked): the deadline falls while the failure is being shrunk, and
    the run stops within one call of it."""
    now = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    apply = Pair.apply

    def slow(self, call, before=None):
        now[0] += 0.1
        return apply(self, call, before)

    monkeypatch.setattr(Pair, "apply", slow)
    code, summary = campaign(tmp_path, "--seconds", "2", "--seed", "1")
    assert code == 1 and summary["minimized"] is False
    assert 2 <= summary["elapsed_seconds"] < 2 + 0.15  # one call past the deadline at most


def test_too_few_steps_fail_with_exit_3(tmp_path, capsys):
    (tmp_path / "run").mkdir()  # a reused --out: an earlier run's counterexample goes
    (tmp_path / "run" / "counterexample.json").write_text("{}")
    code, summary = campaign(tmp_path, "--seconds", "0.5", "--min-steps", "1000000000")
    assert not (tmp_path / "run" / "counterexample.json").exists()
    assert code == 3 and 0 < summary["steps"] < 1_000_000_000
    assert summary["result"].startswith("FAILED: too few steps")
    err = capsys.readouterr().err
    assert "FAILED: too few steps" in err and "FAILED: FAILED" not in err
    assert "FAILED: too few steps" in (tmp_path / "run" / "report.md").read_text()


def test_a_missing_anvil_exits_3_naming_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ANVIL_BIN", raising=False)
    monkeypatch.setattr(anvil, "REPO_ROOT", tmp_path)  # a clone without node_modules
    code, summary = campaign(tmp_path, "--chain", "anvil", "--seconds", "1")
    assert code == 3 and summary["result"] == "harness or environment error"
    err = capsys.readouterr().err
    assert "anvil not found" in err and "`make setup` (it runs `npm ci`" in err
    assert "make setup" in (tmp_path / "run" / "report.md").read_text()


def test_an_unreachable_scheduler_exits_3_with_a_message(tmp_path, capsys):
    code, summary = campaign(tmp_path, "--scheduler", "tcp://127.0.0.1:1", "--seconds", "1")
    assert code == 3 and summary["result"] == "harness or environment error"
    assert "no Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err


def test_a_crashing_worker_exits_3_not_1(tmp_path, monkeypatch, capsys):
    def crash(self, call, before=None):
        raise RuntimeError("the harness broke")

    monkeypatch.setattr(Pair, "apply", crash)
    code, summary = campaign(tmp_path, "--seconds", "2")
    assert code == 3 and summary["result"] == "harness or environment error"
    assert "RuntimeError: the harness broke" in capsys.readouterr().err


def test_the_spec_only_report_says_what_it_is(tmp_path):
    code, summary = campaign(tmp_path, "--machine", "spec", "--max-steps", "50")
    report = (tmp_path / "run" / "report.md").read_text()
    assert code == 0 and summary["chain"] == "none (spec only)"
    assert report.startswith("# Spec-only fuzz campaign")
    assert "Differential" not in report and "| embedded |" not in report


@pytest.mark.parametrize(
    ("signum", "code", "workers"),
    [(signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "1"), (signal.SIGTERM, 143, "2")],
)
def test_a_signal_writes_a_partial_report(tmp_path, signum, code, workers):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.campaign", "--seconds", "120", "--workers", workers]
        + ["--out", str(out), "--database", str(tmp_path / "db")],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the seed line first, then the first progress line after the first 200 steps
    assert process.stdout.readline().startswith("seed ")
    assert process.stdout.readline().startswith("[")
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    name = signal.Signals(signum).name
    assert summary["partial"] is True and summary["interrupted"] == name
    assert summary["result"] == f"partial (interrupted by {name}): agreed so far"
    assert summary["steps"] >= 200 and summary["exit_code"] == code
    assert f"PARTIAL REPORT: the run was interrupted by {name}" in (out / "report.md").read_text()


@pytest.mark.parametrize("command", ["replay", "export"])
def test_a_trace_of_no_call_is_refused(tmp_path, capsys, command):
    path = tmp_path / "counterexample.json"
    trace.save(path, {"format": trace.FORMAT, "calls": []})
    with pytest.raises(SystemExit) as exit_:
        trace.main([command, str(path), *(["--name", "empty"] if command == "export" else [])])
    assert exit_.value.code == 2
    assert f"holds no call, nothing to {command}" in capsys.readouterr().err


def test_export_refuses_to_overwrite_without_force(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(trace, "REGRESSIONS", tmp_path / "regressions")
    path = tmp_path / "counterexample.json"
    one_call = [trace.call_to_json(Call("engine", "deposit", "trader0", (10**6,)))]
    trace.save(path, {"format": trace.FORMAT, "calls": one_call})
    assert trace.main(["export", str(path), "--name", "kept"]) == 0
    test = tmp_path / "regressions" / "test_kept.py"
    test.write_text("# a committed regression test\n")
    with pytest.raises(SystemExit) as exit_:
        trace.main(["export", str(path), "--name", "kept"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "test_kept.py exists" in err and "pass --force to overwrite it" in err
    assert test.read_text() == "# a committed regression test\n"
    assert trace.main(["export", str(path), "--name", "kept", "--force"]) == 0
    assert "def test_kept(pair)" in test.read_text()
