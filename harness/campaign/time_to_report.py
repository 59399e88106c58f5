"""Time-to-report over deliberate bugs: how long from the first failing step to a saved,
minimized counterexample (issue 21, "budgeted shrinking").

    python -m harness.campaign.time_to_report --seconds 60 --seed 3
    python -m harness.campaign.time_to_report --only fee_floor,no_expiry --seconds 20

Each bug is a source patch (one-token mutants of ``harness.campaign.mutate`` and bugs
written by hand: a rounding direction on one side, a missing event, a role check, an
order check, the ADL allocator's remainder, and one in the spec) applied to a copy of
``contracts/`` and ``pyspec/`` in a temporary folder. Each gets one differential
campaign on the embedded chain (the copy's contracts through ``HARNESS_SOURCE_ROOT``,
its spec first on the path); a bug is killed when the campaign saves a counterexample
and ``python -m harness.campaign.trace replay`` of it fails again on the same copy, the
same way (``--same-failure``: the same invariant, kind and failing call, by its step and
function: ``trace.same_failure``). The campaign's ``summary.json`` says when the first
failing run failed and how long the counterexample took from there
(``time_to_report``). Prints a table and the distribution (median, p90, max over the
killed bugs) and writes it all as JSON, with the rates a hunter sees running the
campaigns one after another (``rates``): bugs found, and bugs reported, per minute of
campaign budget spent (a survivor spends its whole budget). ``--workers N`` runs each
campaign on N workers, so the rates of 1 and 2 workers compare what a second core adds.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import REPO_ROOT as ROOT
from harness.arguments import POSITIVE


@dataclass(frozen=True)
class Bug:
    """``old`` replaced by ``new`` (once: it must occur exactly once) in ``file``, and each
    pair of ``also`` after it, the same way (a bug that takes more than one edit)."""

    name: str
    kind: str
    origin: str  # "mutate" (one of ``mutate.enumerate_mutants``) or "hand"
    file: str
    old: str
    new: str
    also: tuple[tuple[str, str], ...] = ()


def mutant(name: str, kind: str, file: str, old: str, new: str) -> Bug:
    """A one-token mutant ``make mutate`` enumerates (checked in ``check_mutants``)."""
    return Bug(name, kind, "mutate", file, old, new)


def hand(name: str, kind: str, file: str, old: str, new: str, *also: tuple[str, str]) -> Bug:
    return Bug(name, kind, "hand", file, old, new, also)


FEES, MARGIN = "contracts/engine/fees.vy", "contracts/engine/margin.vy"
POSITIONS, LIQUIDATION = "contracts/engine/positions.vy", "contracts/engine/liquidation.vy"
TRACE = "counterexample.json"
MODULE = "harness.campaign.time_to_report"
ENGINE, SETTLEMENT = "contracts/PerpEngine.vy", "contracts/Settlement.vy"
ALLOCATOR, VIEWS = "contracts/AdlAllocator.vy", "contracts/PerpViews.vy"
GOVERNANCE = "contracts/EngineGovernance.vy"

FEE_OLD = "return fixed_math.ceil_div(notional * convert(fee_ratio, int256), "
MARGIN_OLD = (
    "    return fixed_math.ceil_div(\n"
    "        abs(size) * convert(price, int256) * convert(ratio, int256), "
    "constants.RATIO_PRECISION\n"
    "    )"
)
# fmt: off
BUGS = [
    # one-token mutants (``make mutate``'s operators)
    mutant("fee_floor", "rounding", FEES, FEE_OLD, FEE_OLD.replace("ceil", "floor")),
    mutant(
        "entry_removed_floor", "rounding", POSITIONS,
        "removed: int256 = fixed_math.ceil_div(position.entry_notional * closed",
        "removed: int256 = fixed_math.floor_div(position.entry_notional * closed",
    ),
    mutant("margin_floor", "rounding", MARGIN, MARGIN_OLD, MARGIN_OLD.replace("ceil", "floor")),
    mutant(
        "overfill_lt", "comparison", SETTLEMENT,
        'assert size <= order.size - self.filled[digest], "order: overfilled"',
        'assert size < order.size - self.filled[digest], "order: overfilled"',
    ),
    mutant(
        "buy_limit_lt", "comparison", SETTLEMENT,
        'assert price <= order.limit_price, "order: price beyond limit"',
        'assert price < order.limit_price, "order: price beyond limit"',
    ),
    mutant(
        "expiry_lt", "comparison", SETTLEMENT,
        'assert block.timestamp <= order.expiry, "order: expired"',
        'assert block.timestamp < order.expiry, "order: expired"',
    ),
    mutant(
        "guardian_ne", "role check", GOVERNANCE,
        'assert msg.sender == storage.guardian, "auth: not guardian"',
        'assert msg.sender != storage.guardian, "auth: not guardian"',
    ),
    mutant(
        "filled_minus", "arithmetic", SETTLEMENT,
        "filled: uint256 = self.filled[digest] + size",
        "filled: uint256 = self.filled[digest] - size",
    ),
    mutant(
        "nonce_increasing_ge", "comparison", SETTLEMENT,
        'assert min_nonce > self.min_nonce[msg.sender], "order: nonce not increasing"',
        'assert min_nonce >= self.min_nonce[msg.sender], "order: nonce not increasing"',
    ),
    mutant(
        "topup_zero_ge", "comparison", ENGINE,
        'assert amount > 0, "insurance: zero amount"\n    assert amount <= constants.MAX_DEPOSIT',
        'assert amount >= 0, "insurance: zero amount"\n    assert amount <= constants.MAX_DEPOSIT',
    ),
    # written by hand
    hand(
        # shorts' requirements round down: ceil of a negative amount, then its magnitude
        # (byte for byte as long as the right code, which PerpEngine's 17 spare bytes need)
        "margin_floor_shorts", "rounding (one side)", MARGIN, MARGIN_OLD,
        "    return abs(\n"
        "        fixed_math.ceil_div(\n"
        "            size * convert(price, int256) * convert(ratio, int256), "
        "constants.RATIO_PRECISION\n"
        "        )\n"
        "    )",
    ),
    hand(
        "no_nonces_event", "missing event", SETTLEMENT,
        "    log NoncesInvalidated(trader=msg.sender, min_nonce=min_nonce)\n", "",
    ),
    hand(
        "no_cancel_event", "missing event", SETTLEMENT,
        "    log OrderCancelled(order_hash=digest, trader=order.trader)\n", "",
    ),
    hand(
        "no_guardian_check", "role check", GOVERNANCE,
        '    assert msg.sender == storage.guardian, "auth: not guardian"\n', "",
    ),
    hand(
        "no_operator_check", "role check", SETTLEMENT,
        '    assert msg.sender == self.operator, "auth: not operator"\n', "",
    ),
    hand(
        "no_expiry_check", "order check", SETTLEMENT,
        '    assert block.timestamp <= order.expiry, "order: expired"\n', "",
    ),
    hand(
        "no_nonce_floor", "order check", SETTLEMENT,
        '    assert order.nonce >= self.min_nonce[order.trader], "order: nonce invalidated"\n', "",
    ),
    hand(
        "remainder_dropped", "allocator remainder", ALLOCATOR,
        "            shares[owners[best]] += 1\n",
        "            shares[owners[best]] += 0\n",
    ),
    hand(
        "remainder_tiebreak", "allocator remainder", ALLOCATOR,
        "(part == best_part and addresses[j] < best_address)",
        "(part == best_part and addresses[j] > best_address)",
    ),
    # the three kinds of issue 21's held-out bugs that survived two 120 s campaigns: they
    # live in states the machine builds on purpose since (rare states)
    hand(
        # the former guardian's owner keeps the pause once the guardian changed hands
        "owner_still_pauses", "role check (after a handover)", GOVERNANCE,
        'assert msg.sender == storage.guardian, "auth: not guardian"',
        'assert msg.sender in [storage.guardian, self._owner()], "auth: not guardian"',
    ),
    hand(
        # a cancelled order is refused as the maker only: submitted as the taker, it fills
        "taker_cancel_unchecked", "order check (taker side)", SETTLEMENT,
        '    assert not self.cancelled[digest], "order: cancelled"\n',
        '    assert not maker or not self.cancelled[digest], "order: cancelled"\n',
        (
            "size: uint256, price: uint256\n) -> bytes32:",
            "size: uint256, price: uint256, maker: bool\n) -> bytes32:",
        ),
        (
            "    self._fill(maker, maker_signature, market_id, size, price)\n"
            "    self._fill(taker, taker_signature, market_id, size, price)\n",
            "    self._fill(maker, maker_signature, market_id, size, price, True)\n"
            "    self._fill(taker, taker_signature, market_id, size, price, False)\n",
        ),
    ),
    hand(
        # the queue floors each fill's share on its own: over several fills of one
        # deleverage the remainders are lost
        "queue_share_per_fill", "allocator rounding (queue)", ALLOCATOR,
        "absorbed: int256 = min(self.compute_deficit_share("
        "loss, filled, filled + fill, size), cap)",
        "absorbed: int256 = min(fixed_math.floor_div(loss * fill, size), cap)",
    ),
    hand(
        "spec_haircut_floor", "rounding (spec)", "pyspec/liquidation.py",
        "return min(ceil_div(amount * bad_debt, claims), bad_debt)",
        "return min(amount * bad_debt // claims, bad_debt)",
    ),
]
# fmt: on


@dataclass
class Result:
    name: str
    kind: str
    origin: str
    status: str = "pending"  # killed, survived, not replayed, error
    first_failure_seconds: float | None = None  # into the campaign's budget
    seconds: float | None = None  # first failing step -> counterexample saved
    calls: int | None = None  # the saved counterexample's length
    hypothesis_calls: int | None = None  # its length before the campaign's minimizer
    minimized: bool | None = None  # False: the shrink budget cut the search short
    hypothesis_shrink_seconds: float | None = None  # of ``seconds``: hypothesis shrinking
    minimizer_seconds: float | None = None  # the rest: the campaign's minimizer, the report
    failure: str = ""
    wall_seconds: float = 0.0  # the whole campaign, setup included


def check_mutants(bugs: list[Bug]) -> None:
    """Each ``mutate`` bug is one of the mutants ``make mutate`` enumerates: it changes
    one line of its file into that mutant's line."""
    from harness.campaign.mutate import enumerate_mutants

    known = {(m.file, m.line, m.mutated) for m in enumerate_mutants()}
    for bug in bugs:
        if bug.origin != "mutate":
            continue
        before = (ROOT / bug.file).read_text().splitlines()
        after = patched(bug, (ROOT / bug.file).read_text()).splitlines()
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        if (
            len(changed) != 1
            or (
                bug.file,
                changed[0] + 1,
                after[changed[0]].split("#")[0].strip(),
            )
            not in known
        ):
            raise ValueError(f"{bug.name}: not a mutant make mutate enumerates")


def patched(bug: Bug, text: str) -> str:
    """``text`` with each of the bug's edits made, each ``old`` occurring exactly once."""
    for old, new in ((bug.old, bug.new), *bug.also):
        if text.count(old) != 1:
            raise ValueError(f"{bug.name}: {old!r} occurs {text.count(old)} times in {bug.file}")
        text = text.replace(old, new)
    return text


def materialize(bug: Bug, workdir: Path) -> Path:
    """Copy contracts/ and pyspec/ into ``workdir``/<name> with the bug applied."""
    root = workdir / bug.name
    shutil.copytree(ROOT / "contracts", root / "contracts")
    shutil.copytree(ROOT / "pyspec", root / "pyspec", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / bug.file
    path.write_text(patched(bug, path.read_text()))
    return root


def environment(root: Path) -> dict:
    """Run from ``root`` (its pyspec first on the path: ``python -m`` puts the working
    folder first), the harness from this tree, the contracts from ``root``."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "HARNESS_SOURCE_ROOT": str(root), "PYTHONPATH": path}


def campaign_command(args, out: Path) -> list[str]:
    command = [
        sys.executable, "-m", "harness.campaign", "--seconds", str(args.seconds),
        "--seed", str(args.seed), "--database", "", "--out", str(out),
        "--explorer", args.explorer, "--workers", str(args.workers),
    ]  # fmt: skip
    if args.shrink_seconds is not None:
        command += ["--shrink-seconds", str(args.shrink_seconds)]
    return command


def judge(bug: Bug, root: Path, args) -> Result:
    """One campaign against the bug, then a replay of what it saved."""
    result = Result(bug.name, bug.kind, bug.origin)
    out = root / "report"
    env = environment(root)
    started = time.monotonic()
    run = subprocess.run(
        campaign_command(args, out), cwd=root, env=env, capture_output=True, text=True
    )
    result.wall_seconds = round(time.monotonic() - started, 1)
    summary_path = out / "summary.json"
    if run.returncode not in (0, 1) or not summary_path.exists():
        result.status = "error"
        result.failure = (run.stderr.strip().splitlines() or ["?"])[-1][:200]
        return result
    if run.returncode == 0:
        result.status = "survived"
        return result
    summary = json.loads(summary_path.read_text())
    reported = summary.get("time_to_report", {})
    result.first_failure_seconds = reported.get("first_failure_seconds")
    result.seconds = reported.get("seconds")
    result.calls = reported.get("calls")
    result.hypothesis_calls = reported.get("hypothesis_calls")
    result.minimized = reported.get("minimized")
    result.hypothesis_shrink_seconds = reported.get("hypothesis_shrink_seconds")
    result.minimizer_seconds = reported.get("minimizer_seconds")
    trace = json.loads((out / TRACE).read_text())
    result.failure = json.dumps(trace.get("failure", {}).get("invariant"))
    replay = subprocess.run(
        [sys.executable, "-m", "harness.campaign.trace", "replay", str(out / TRACE)],
        cwd=root, env=env, capture_output=True, text=True,
    )  # fmt: skip
    same = subprocess.run(
        [sys.executable, "-m", MODULE, "--same-failure", str(out / TRACE)],
        cwd=root, env=env, capture_output=True, text=True,
    )  # fmt: skip
    killed = replay.returncode == 1 and same.returncode == 0
    result.status = "killed" if killed else "not replayed"
    return result


def same_failure(path: Path) -> bool:
    """Replay the trace at ``path`` as the campaign checks a run; whether it fails the way
    the trace says (``trace.same_failure``: the same invariant, kind, failing step and
    function)."""
    from harness.campaign import trace
    from harness.core.pair import Pair
    from harness.evm import make_chain

    saved = json.loads(path.read_text())
    chain = make_chain("embedded")
    try:
        failure = trace.failure_of(trace.load_calls(saved), Pair(chain))
    finally:
        chain.close()
    return failure is not None and trace.same_failure(saved["failure"], failure)


def distribution(values: list[float]) -> dict:
    """Median, p90 (nearest rank) and max of ``values``; None each when empty."""
    if not values:
        return {"median": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]
    return {"median": round(statistics.median(ordered), 2), "p90": p90, "max": ordered[-1]}


def rates(results: list[Result], budget: float) -> dict:
    """Bugs per minute of campaign budget, the campaigns run one after another: found
    (budget spent until the first failing step) and reported (until the saved
    counterexample); a bug not killed spends the whole ``budget``."""
    found = reported = 0.0
    for r in results:
        killed = r.status == "killed"
        found += r.first_failure_seconds if killed else budget
        reported += r.first_failure_seconds + r.seconds if killed else budget
    killed = sum(r.status == "killed" for r in results)
    return {
        "found_per_minute": round(60 * killed / found, 2) if found else None,
        "reported_per_minute": round(60 * killed / reported, 2) if reported else None,
        "budget_seconds_to_find": round(found, 1),
        "budget_seconds_to_report": round(reported, 1),
    }


def table(results: list[Result]) -> list[str]:
    lines = [
        "| bug | kind | from | status | first failure (s) | time to report (s) | of which "
        "hypothesis / minimizer (s) | calls (before the minimizer) | minimized | failed check |",
        "|---|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        calls = "" if r.calls is None else f"{r.calls} ({r.hypothesis_calls})"
        lines.append(
            f"| {r.name} | {r.kind} | {r.origin} | {r.status} | "
            f"{_number(r.first_failure_seconds)} | {_number(r.seconds)} | "
            f"{_number(r.hypothesis_shrink_seconds)} / {_number(r.minimizer_seconds)} | {calls} | "
            f"{'' if r.minimized is None else ('yes' if r.minimized else 'budget')} | "
            f"{r.failure.strip(chr(34))} |"
        )
    return lines


def _number(value) -> str:
    return "" if value is None else f"{value:.1f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.campaign.time_to_report",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="campaign budget per bug")
    parser.add_argument("--seed", type=int, default=3, help="every campaign's seed")
    parser.add_argument(
        "--shrink-seconds",
        type=float,
        default=None,
        help="the campaign's --shrink-seconds (default: the campaign's own default)",
    )
    parser.add_argument("--explorer", choices=("random", "hypothesis"), default="random")
    parser.add_argument("--workers", type=POSITIVE, default=1, help="each campaign's --workers")
    parser.add_argument("--jobs", type=int, default=1, help="bugs judged at once")
    parser.add_argument("--only", default="", help="comma-separated bug names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the bugs and exit")
    parser.add_argument(
        "--same-failure",
        type=Path,
        default=None,
        metavar="TRACE",
        help="replay a counterexample; exit 0 when it fails as it says (invariant, kind, call)",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the JSON and table")
    args = parser.parse_args(argv)
    if args.same_failure is not None:
        return 0 if same_failure(args.same_failure) else 1
    if args.list:
        for bug in BUGS:
            print(f"{bug.name:<22} {bug.kind:<22} {bug.origin:<7} {bug.file}")
        return 0
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - {b.name for b in BUGS}
    if unknown:
        parser.error(f"--only: no such bug: {', '.join(sorted(unknown))}")
    bugs = [b for b in BUGS if not names or b.name in names]
    check_mutants(bugs)
    out = args.out or ROOT / "reports" / (
        datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-time-to-report"
    )
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{len(bugs)} bugs, {args.seconds:g} s campaign each on {args.workers} worker(s), "
        f"seed {args.seed}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="ttr-") as tmp:
        roots = [materialize(bug, Path(tmp)) for bug in bugs]
        with ThreadPoolExecutor(args.jobs) as pool:
            jobs = [
                pool.submit(judge, bug, root, args) for bug, root in zip(bugs, roots, strict=True)
            ]
            results = []
            for job in jobs:
                r = job.result()
                results.append(r)
                first = _number(r.first_failure_seconds)
                print(
                    f"  {r.status:<12} {r.name:<22} first failure {first} s, "
                    f"report {_number(r.seconds)} s, {r.calls} calls",
                    flush=True,
                )
    killed = [r for r in results if r.status == "killed"]
    spread = distribution([r.seconds for r in killed])
    per_minute = rates(results, args.seconds)
    summary = {
        "seed": args.seed,
        "workers": args.workers,
        "seconds_per_bug": args.seconds,
        "shrink_seconds": args.shrink_seconds,
        "explorer": args.explorer,
        "bugs": len(results),
        "killed": len(killed),
        "time_to_report": spread,
        "rates": per_minute,
        "results": [asdict(r) for r in results],
    }
    (out / "time_to_report.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = table(results) + [
        "",
        f"killed {len(killed)} of {len(results)}; time to report (first failing step to the "
        f"saved counterexample), s: median {spread['median']}, p90 {spread['p90']}, "
        f"max {spread['max']}",
        f"per minute of campaign budget ({args.workers} worker(s)): "
        f"{per_minute['found_per_minute']} found, {per_minute['reported_per_minute']} reported",
    ]
    (out / "time_to_report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"report: {out / 'time_to_report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
