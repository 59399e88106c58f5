"""The ape scripts run under ape (project framework: config, compilation, networks)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_script_deploys_and_checks():
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(
        [
            bin_dir / "ape",
            "run",
            "deploy",
            "--network",
            "ethereum:local:test",
            "--account",
            "TEST::0",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout
    # 3 per contract (code as built, as recorded, size), 19 roles and links, 10 per market
    # and its published initial price, the Settlement and the Governor where the engine
    # expects them
    assert result.stdout.count("  ok ") == 6 * 3 + 19 + 2 * (10 + 1) + 2
    assert "ok       initial price of market-1 published: 25000000" in result.stdout
    assert "initial price of market-1: 25000000" in result.stdout  # the oracle is test:1
    assert "no manifest on a local network" in result.stdout


def test_ape_run_fuzz_shows_the_campaigns_options():
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [bin_dir / "ape", "run", "fuzz", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for option in ("--seconds", "--max-steps", "--min-steps", "--chain", "exit status"):
        assert option in result.stdout


def ape_run_fuzz(*options: str) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent
    path = f"{bin_dir}:{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"  # ape-foundry's anvil
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [bin_dir / "ape", "run", "fuzz", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ape_run_fuzz_takes_apes_network_option(tmp_path):
    """``--network`` becomes the campaign's ``--chain ape:<choice>``: ape's anvil network
    runs the campaign; its in-process test provider is refused as a usage error."""
    refused = ape_run_fuzz("--network", "ethereum:local:test", "--seconds", "1")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "ape's in-process test provider (eth-tester)" in refused.stderr
    out = tmp_path / "run"
    ran = ape_run_fuzz(
        "--network", "ethereum:local:foundry", "--max-steps", "30", "--out", str(out),
        "--database", str(tmp_path / "db"),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "chain ape:ethereum:local:foundry" in (out / "report.md").read_text()
