"""``python -m harness.deployed.rehearsal --round-trip``, as the README shows it: the round
trip a protocol team's CI makes, on an anvil playing a testnet, each step as its own
process (deploy, rerun, verify, audit, queue)."""

import re
import subprocess
import sys

from harness import REPO_ROOT


def test_the_round_trip_deploys_reruns_verifies_audits_and_queues():
    done = subprocess.run(
        [sys.executable, "-m", "harness.deployed.rehearsal", "--round-trip"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    steps = re.findall(r"^\$ ape run (\w+)", out, re.M)
    assert steps == ["deploy", "deploy", "verify", "audit", "queue"]
    assert "verified, nothing to do" in out and "verified: the instance is as" in out
    assert "imported state equals the chain's" in out
    assert "result: agreed (20 steps from the imported state, seed 1)" in out
    assert "ADL candidates of the engine" in out
    assert "MISMATCH" not in out and "IncompleteFieldDefinitionWarning" not in done.stderr
