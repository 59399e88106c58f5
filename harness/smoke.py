"""``make smoke``: every command the README shows, run in tiny form, in a temporary folder.

    python -m harness.smoke [--list] [--only SUBSTRING]

Each entry names the README command it stands for and the command actually run (the
same target or script, with a small budget and its output under a temporary folder),
and what its output must show. A command that exits with another status, or whose
output lacks what it must show, fails the smoke run, which names it; ``make smoke``
then exits 1. ``tests/tooling/test_smoke.py`` runs it under ``make test`` and checks
that every ``make`` target and ``ape run`` script the README shows has an entry.

Sub-makes run with ``-o .venv/.setup-stamp``: ``make smoke`` has set up already.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness import REPO_ROOT

MAKE = ("make", "-s", "--no-print-directory", "-o", ".venv/.setup-stamp")
BIN = REPO_ROOT / ".venv" / "bin"
# three calls after the standard deployment, by actor name (a counterexample's form)
TRACE = {
    "format": 1,
    "calls": [
        {"sender": "trader4", "target": "engine", "fn": "deposit", "args": ["882000000"]},
        {"sender": "trader5", "target": "engine", "fn": "deposit", "args": ["1000000000"]},
        {"sender": "trader4", "target": "engine", "fn": "withdraw", "args": ["100000000"]},
    ],
}
ROUNDS_CSV = """round,D,B_needed,H_pro,m_pro,H_greedy,m_greedy
1,100,50,50,0.25,60,0.5
2,200,100,90,0.25,100,1
"""

# the published per-wave data of 2025-10-10, scored as the paper's Table 2 is (its README)
HYPERLIQUID = "data/hyperliquid-2025-10-10/policy_per_wave_metrics.csv"
ILP = "fixed_point_ilp_integer"


@dataclass(frozen=True)
class Entry:
    readme: str  # the command as the README shows it
    argv: tuple[str, ...]  # what runs ({tmp} is the temporary folder)
    shows: tuple[str, ...] = ()  # strings its output must contain
    code: int = 0  # the exit status it must end with
    # an entry known to fail until a fix lands elsewhere (reported, not failing the run)
    expected_to_pass: bool = True
    variant: str = ""  # which form of the README command, when several entries share one

    @property
    def name(self) -> str:
        return self.readme + (f"  [{self.variant}]" if self.variant else "")


def fuzz(args: str) -> tuple[str, ...]:
    return (*MAKE, "fuzz", f"ARGS={args} --out {{out}} --database {{tmp}}/db")


AGREED = "RESULT: spec and chain agreed on every step"
# two tiny spec-only runs, then their merge
TWO_RUNS = tuple(
    f"{BIN / 'python'} -m harness.campaign --max-steps 30 --machine spec --seed {seed} "
    f"--out {{out}}/{seed} --database {{tmp}}/merge-db >/dev/null"
    for seed in (1, 2)
)
MERGE = " ".join(MAKE) + " report-merge REPORTS='{out}/1 {out}/2' OUT={out}/merged"
# the default trader count (the market's capacity): the crash a full market once caused
LAB = "--cascades 1 --rounds 2 --replay 1 --out {out}"

ENTRIES = (
    Entry("make help", (*MAKE, "help"), ("smoke", "fuzz", "adl-lab")),
    Entry("make fuzz", fuzz("--max-steps 80 --seed 1"), (AGREED,)),
    Entry(
        "make fuzz ARGS='--seconds 30 --seed 7 --chain anvil'",
        fuzz("--max-steps 60 --seed 7 --chain anvil"),
        (AGREED,),
    ),
    Entry(
        "make fuzz ARGS='--workers 2 --scheduler local'",
        fuzz("--max-steps 60 --workers 2 --scheduler local --seed 3"),
        (AGREED,),
    ),
    Entry(
        "make fuzz ARGS='--machine spec'",
        fuzz("--max-steps 80 --machine spec"),
        ("RESULT: the spec kept every invariant and property",),
    ),
    Entry(
        "make fuzz ARGS='--seconds 60 --chain anvil --coverage'",
        fuzz("--max-steps 30 --seed 4 --chain anvil --coverage"),
        (AGREED, "Vyper line coverage:", "PerpEngine.vy ", "coverage.lcov"),
    ),
    Entry("make fuzz ARGS='--adl-policy P'", fuzz("--max-steps 60 --adl-policy queue"), (AGREED,)),
    Entry(
        "python -m harness.campaign --seconds 60 --seed 11",
        (str(BIN / "python"), "-m", "harness.campaign", "--max-steps", "40", "--seed", "11")
        + ("--out", "{out}", "--database", "{tmp}/db"),
        (AGREED,),
    ),
    Entry(
        "make report-merge REPORTS='reports/<run1> reports/<run2>' OUT=reports/merged",
        ("bash", "-c", " && ".join((*TWO_RUNS, MERGE))),
        ("merged 2 runs", "agreed in all 2 runs"),
    ),
    Entry(
        "make replay TRACE=reports/<run>/counterexample.json",
        (*MAKE, "replay", "TRACE={tmp}/trace.json"),
        ("all 3 steps agreed",),
    ),
    Entry(
        "make replay TRACE=... ARGS='--chain anvil'",
        (*MAKE, "replay", "TRACE={tmp}/trace.json", "ARGS=--chain anvil"),
        ("all 3 steps agreed", "on anvil"),
    ),
    Entry(
        "make export TRACE=reports/<run>/counterexample.json NAME=withdraw_at_exact_margin",
        (*MAKE, "export", "TRACE={tmp}/trace.json", "NAME=smoke", "ARGS=--dir {out}"),
        ("/test_smoke.py",),
    ),
    Entry("make adl-lab", (*MAKE, "adl-lab", f"ARGS={LAB}"), ("report",)),
    Entry(
        "make adl-lab ARGS='--seed 7 --cascades 100 --rounds 16 --policies queue,pnl_pro_rata'",
        (*MAKE, "adl-lab", f"ARGS=--seed 7 --policies queue,pnl_pro_rata {LAB}"),
        ("report",),
    ),
    *(
        Entry(
            "make adl-lab ARGS='--scenario close-and-reopen'",
            (*MAKE, "adl-lab", f"ARGS=--scenario {scenario} {LAB}"),
            ("report",),
            variant=f"--scenario {scenario}",
        )
        for scenario in ("cascade", "sybil", "alternating", "deposit", "close-and-reopen")
    ),
    Entry(
        "make adl-lab ARGS='--generator wide --scenario cascade'",
        (*MAKE, "adl-lab", f"ARGS=--generator wide --scenario cascade {LAB}"),
        ("report",),
    ),
    Entry(
        ".venv/bin/python -m harness.campaign --seconds 60 --junit reports/junit.xml"
        " --sarif reports/campaign.sarif --out reports/ci",
        (
            str(BIN / "python"),
            "-m",
            "harness.campaign",
            "--max-steps",
            "40",
            "--junit",
            "{out}/junit.xml",
            "--sarif",
            "{out}/campaign.sarif",
            "--out",
            "{out}",
            "--database",
            "{tmp}/db",
        ),
        (AGREED,),
    ),  # fmt: skip
    Entry(
        "make adl-lab ARGS='--rounds FILE.csv --reference NAME [--json]'",
        (*MAKE, "adl-lab", "ARGS=--rounds {tmp}/rounds.csv --reference pro"),
        ("greedy",),
    ),
    Entry(
        "make adl-lab ARGS='--rounds data/hyperliquid-2025-10-10/policy_per_wave_metrics.csv"
        " --layout oss-adl --reference fixed_point_ilp_integer'",
        (*MAKE, "adl-lab", f"ARGS=--rounds {HYPERLIQUID} --layout oss-adl --reference {ILP}"),
        ("53782490.53", "11077031.68", "64859522.21", "129699802.43", "50.01"),
    ),
    Entry(
        "make vectors",
        (*MAKE, "vectors", "PYTEST_ARGS=-k test_deposit"),
        ("passed",),
    ),
    Entry(
        "make bench",
        (*MAKE, "bench", "ARGS=--sequences 1 --steps 15 --ape-steps 5 --repeat 1"),
        ('"embedded"', '"anvil"', '"ape_baseline"'),
    ),
    Entry("make gas", (*MAKE, "gas", "ARGS=--quick --out {out}"), ("| deposit |",)),
    Entry(
        "make mutate ARGS='--max 40 --seconds 15 --seed 1'",
        (*MAKE, "mutate", "ARGS=--max 1 --seconds 3 --max-steps 200 --seed 1 --out {out}"),
        ("report:",),
    ),
    Entry(
        "python -m harness.campaign.time_to_report --seconds 60 --seed 3",
        (str(BIN / "python"), "-m", "harness.campaign.time_to_report", "--only", "overfill_lt")
        + ("--seconds", "20", "--seed", "3", "--out", "{out}"),
        ("killed 1 of 1", "time to report"),
    ),
    Entry(
        "ape run deploy --network ethereum:local:test --account TEST::0",
        (str(BIN / "ape"), "run", "deploy", "--network", "ethereum:local:test")
        + ("--account", "TEST::0"),
        ("PerpEngine at", "ok       market 1"),
    ),
    Entry(
        "python -m harness.deployed.rehearsal -- ape run deploy --network {url} --account"
        " {account} --config sepolia --token {token} --token-holder {holder} --oracle deployer"
        " --operator 0x000000000000000000000000000000000000dEaD --dry-run",
        (str(BIN / "python"), "-m", "harness.deployed.rehearsal", "--", "ape", "run", "deploy")
        + ("--network", "{url}", "--account", "{account}", "--config", "sepolia")
        + ("--token", "{token}", "--token-holder", "{holder}", "--oracle", "deployer")
        + ("--operator", "0x000000000000000000000000000000000000dEaD", "--dry-run"),
        ("ok       initial price of market-0 published", "dry run: nothing sent"),
    ),
    # the local test chain lives as long as one process, so no manifest outlives the
    # deploy: verify shows its refusal (tests/deployment runs the whole round trip)
    *(
        Entry(
            readme,
            (str(BIN / "ape"), "run", script, "--network", "ethereum:local:test")
            + ("--manifest", "{tmp}/no-manifest.json", *extra),
            ("no such manifest",),
            code=2,
        )
        for readme, script, extra in (
            ("ape run verify --network ethereum:sepolia:node", "verify", ()),
            (
                "ape run queue --network ethereum:sepolia:node --market 0",
                "queue",
                ("--market", "0"),
            ),
            (
                "ape run audit --network <network> [--manifest PATH] [--seconds N | --steps N]"
                " [--seed S]",
                "audit",
                ("--steps", "5"),
            ),
        )
    ),
    Entry(
        "make audit ARGS='--manifest deployments/<chain-id>.json --fork-url <rpc>'",
        (*MAKE, "audit", "ARGS=--manifest {tmp}/no-manifest.json --fork-url http://127.0.0.1:1"),
        ("no such manifest",),
        code=2,
    ),
    Entry(
        "make audit ARGS='--replay reports/audit-<time>/counterexample.json --fork-url <rpc>'",
        (*MAKE, "audit", "ARGS=--replay {tmp}/no-trace.json --fork-url http://127.0.0.1:1"),
        ("no such counterexample",),
        code=2,
    ),
    Entry(
        "ape run fuzz -- --seconds 60",
        (str(BIN / "ape"), "run", "fuzz", "--", "--max-steps", "30")
        + ("--out", "{out}", "--database", "{tmp}/db"),
        (AGREED,),
    ),
)


def prepare(tmp: Path) -> None:
    (tmp / "trace.json").write_text(json.dumps(TRACE))
    (tmp / "rounds.csv").write_text(ROUNDS_CSV)


def run(entry: Entry, tmp: Path, out: Path, timeout: float = 300) -> tuple[bool, str, float]:
    """Run one entry; return (passed, why it failed or "", seconds)."""
    argv = [a.replace("{tmp}", str(tmp)).replace("{out}", str(out)) for a in entry.argv]
    path = f"{BIN}:{REPO_ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(REPO_ROOT)}
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout:.0f} s", time.monotonic() - started
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    if done.returncode != entry.code:
        tail = "\n".join(output.strip().splitlines()[-12:])
        return False, f"exit status {done.returncode} (expected {entry.code}):\n{tail}", seconds
    missing = [s for s in entry.shows if s not in output]
    if missing:
        return False, f"its output lacks {missing}", seconds
    return True, "", seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.smoke",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", action="store_true", help="list the entries and exit")
    parser.add_argument("--only", default=None, help="run the entries whose README form has this")
    parser.add_argument("--jobs", type=int, default=2, help="entries run at once")
    args = parser.parse_args(argv)
    entries = [e for e in ENTRIES if args.only is None or args.only in e.readme]
    if args.list:
        for entry in entries:
            print(f"{entry.name}\n    runs: {' '.join(entry.argv)}")
        return 0
    broken = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smoke-") as folder:
        tmp = Path(folder)
        prepare(tmp)
        with ThreadPoolExecutor(max(args.jobs, 1)) as pool:
            jobs = [pool.submit(run, e, tmp, tmp / f"out{i}") for i, e in enumerate(entries)]
            for entry, job in zip(entries, jobs, strict=True):
                passed, why, seconds = job.result()
                status = "ok" if passed else ("FAILED" if entry.expected_to_pass else "known")
                print(f"{status:6} {seconds:5.1f}s  {entry.name}", flush=True)
                if not passed:
                    runs = " ".join(
                        a.replace("{tmp}", "TMP").replace("{out}", "OUT") for a in entry.argv
                    )
                    print(
                        f"       ran: {runs}\n       {why}".replace("\n", "\n       "), flush=True
                    )
                    if entry.expected_to_pass:
                        broken.append(entry.name)
    elapsed = time.monotonic() - started
    print(
        f"smoke: {len(entries) - len(broken)} of {len(entries)} passed in {elapsed:.0f} s",
        flush=True,
    )
    if broken:
        print("SMOKE FAILED: these README commands broke:", file=sys.stderr)
        for readme in broken:
            print(f"  {readme}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
