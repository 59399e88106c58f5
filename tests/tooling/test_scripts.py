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
    assert result.stdout.count("  ok ") == 40


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
