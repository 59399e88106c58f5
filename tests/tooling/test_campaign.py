"""The campaign CLI end to end: report files, and a divergence shrunk, saved, replayed and
exported (the spec is broken on purpose with monkeypatch, so the chain disagrees)."""

import json
import os

import pytest

from harness import REPO_ROOT
from harness.campaign import fuzz, trace
from harness.core.pair import Divergence, Pair
from harness.evm import make_chain
from pyspec import fees


def test_campaign_reports(tmp_path):
    code = fuzz.main(
        [
            "--seconds",
            "3",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "run"),
            "--database",
            str(tmp_path / "db"),
        ]
    )
    assert code == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["result"] == "agreed" and summary["steps"] > 0
    for name in ("report.md", "report.html", "fund.png", "waterfall.png"):
        assert (tmp_path / "run" / name).stat().st_size > 0


@pytest.fixture
def fee_off_by_one(monkeypatch):
    real = fees.compute_trading_fee
    monkeypatch.setattr(
        fees, "compute_trading_fee", lambda notional, ratio: real(notional, ratio) + 1
    )


def test_divergence_is_shrunk_saved_replayed_and_exported(tmp_path, fee_off_by_one, monkeypatch):
    out = tmp_path / "run"
    code = fuzz.main(
        ["--seconds", "30", "--seed", "1", "--out", str(out), "--database", str(tmp_path / "db")]
    )
    assert code == 1
    found = json.loads((out / "counterexample.json").read_text())
    assert found["failure"]["kind"] in ("state", "events")
    calls = trace.load_calls(found)
    assert calls[-1].fn == "settle" and len(calls) <= 4  # deposits, then the trade
    assert trace.replay(calls, Pair(make_chain("embedded"))) == len(calls)
    monkeypatch.setattr(trace, "REGRESSIONS", tmp_path / "regressions")
    exported = trace.export(found, "fee off by one", str(out / "counterexample.json"))
    assert exported.name == "test_fee_off_by_one.py"
    namespace = {}
    exec(compile(exported.read_text(), str(exported), "exec"), namespace)
    with pytest.raises(Divergence):  # the exported test fails while the fee bug is in
        namespace["test_fee_off_by_one"](pair=Pair(make_chain("embedded")))


def test_campaign_on_an_ape_network(tmp_path, monkeypatch):
    """``--chain ape:<network>``: ape starts the network's node (here ape-foundry's anvil)."""
    root = REPO_ROOT
    bins = f"{root / 'node_modules' / '.bin'}:{root / '.venv' / 'bin'}"
    monkeypatch.setenv("PATH", f"{bins}:{os.environ['PATH']}")
    code = fuzz.main(
        [
            "--seconds",
            "60",
            "--max-steps",
            "150",
            "--seed",
            "3",
            "--chain",
            "ape:ethereum:local:foundry",
            "--out",
            str(tmp_path / "run"),
            "--database",
            str(tmp_path / "db"),
        ]
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert code == 0 and summary["steps"] >= 150
