"""Audit a deployed instance on a private fork: check its code and parameters against its
manifest, attach to its contracts (nothing redeployed), import its state into the spec,
check it equals the chain's, then run the differential campaign from that state.

    python -m harness.deployed.audit --manifest deployments/<chain-id>.json --fork-url URL
        [--seconds 10] [--steps N] [--seed S] [--fund mint|storage] [--out DIR]
        [--shrink-seconds 60]
    python -m harness.deployed.audit --replay DIR/counterexample.json --fork-url URL

(``make audit ARGS=...``.) The fork is an anvil of its own (``ForkChain``, with the
node's chain id): the node at ``--fork-url`` is only read. On the fork the harness
impersonates the roles (the Governor's owner, the oracle, the operator, the guardian),
funds its own actors (keys it can sign orders with: anvil's accounts and the harness's
extra ones, the roles aside) by the token's ``mint`` when it is the project's MockToken,
else by writing their balances in the token's storage on the fork (``--fund storage``:
the mapping found by probing; the spec's balances follow, no event), and runs the
campaign's action policy from the imported state: every sequence starts from it
(the imported accounts, with their positions, orders and queued Governor calls, and the
funded actors), under every check of a campaign (state, reverts, events, views,
invariants, properties, liveness). ``--seconds`` (default 10) or ``--steps`` bound it;
``--seed`` (printed; random when absent) fixes its choices.

``--out DIR`` (default reports/audit-<UTC time>) gets ``report.md``: the deployment
(chain, fork block, each contract's address and runtime keccak, the actors), the checks,
the steps and the result. On a failure its sequence is shrunk from the imported state,
each candidate from the fork's base snapshot, for at most ``--shrink-seconds`` in all:
the campaign's minimizer drops calls, then ``simplify.simplify`` makes the integer
arguments of those kept smaller (0, 1, half, then a binary search; an order's size
signed again) wherever the failure stays the same one (check, kind, failing step and
function). The calls are saved, with the values simplified (``simplified``: step,
argument, from, to) and the deployment as found (the manifest's path and content, chain
id, fork block, addresses, code hashes, actors, funding), in ``DIR/counterexample.json``.

``--replay`` forks the node again at the recorded block, checks and imports the
instance again, replays the calls and compares the failure with the recorded one
(``trace.verdict``: the check, its kind, the failing call's step and function):
``result: the recorded failure again: ...`` (exit 1), ``result: a different failure:
recorded X at step i, now Y at step j`` (exit 1 too: the project's tools exit 1 on any
failure; the sentence says which) or ``result: agreed: the recorded failure no longer
reproduces`` (exit 0).

Exit codes: 0 agreed (the code, the parameters and the imported state are the manifest's
and the chain's, and spec and chain agreed on every step, at least one), 1 a difference
(the first one named: a code hash, a parameter, an imported field, a divergence; on a
replay, the recorded failure or another) or no step run, 2 a usage error (no such
manifest or counterexample, another chain's, a bad option), 3 no fork.
"""

import argparse
import io
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from deployment.onchain import CONTRACTS
from harness.campaign import provenance, simplify, trace
from harness.campaign.options import REPORTS
from harness.core import actions, invariants
from harness.core.branches import Stats, Stopped
from harness.core.machine import MENU, DifferentialMachine
from harness.core.pair import Pair
from harness.core.state_import import http_rpc
from harness.deployed import read_manifest
from harness.deployed.fork import Log, attach
from harness.evm.anvil import ForkChain
from harness.evm.base import ChainError

AGREED, DIFFERENT, USAGE, NO_FORK = 0, 1, 2, 3
# calls per sequence: each sequence starts again from the imported state
SEQUENCE_STEPS = 60
# The instance's own users act too, as often as traders trade (``actions.resident``).
RESIDENT_MENU = actions.weighted(actions.ACTION_WEIGHTS | {"resident": 30})


def run_campaign(pair: Pair, seed: int, seconds: int, max_steps: int | None) -> tuple:
    """The campaign's action policy from ``pair``'s base state on a ``random.Random(seed)``
    until the time or step budget is spent; sequences of ``SEQUENCE_STEPS`` actions, each
    from the base state and ended like a campaign's (full comparison, liveness drain).
    Return (stats, seconds taken, the first failure or None)."""
    stats = Stats()
    started = time.monotonic()
    deadline = started + seconds

    def spent() -> str | None:
        if max_steps is not None and stats.steps >= max_steps:
            return "step budget"
        return "time budget" if time.monotonic() >= deadline else None

    stats.should_stop = spent
    latest: list = []

    class Audit(DifferentialMachine.bind(pair, stats)):
        def __init__(self):
            super().__init__()
            latest[:] = [self]

    choose = actions.RandomChoices(random.Random(seed))
    menu = RESIDENT_MENU if pair.residents else MENU
    invariants.CHECKS.clear()
    try:
        while not spent():
            machine = Audit()
            machine.run(actions.opening_deposits(machine.world, choose))
            for _ in range(SEQUENCE_STEPS):
                machine.run(actions.next_calls(machine.world, choose, menu))
            machine.end_sequence()
    except Stopped:
        # the budget ran out mid-sequence: end it like any other
        stats.should_stop = None
        try:
            latest[0].sequence.finish()
        except AssertionError as failure:
            return stats, time.monotonic() - started, failure
    except AssertionError as failure:
        return stats, time.monotonic() - started, failure
    return stats, time.monotonic() - started, None


def audit(
    chain: ForkChain,
    manifest: dict,
    seed: int,
    seconds: int,
    max_steps,
    funding=None,
    out: Path | None = None,
    manifest_path: str = "",
    shrink_seconds: float = 60,
    command: str = "",
) -> int:
    """Check the instance ``manifest`` records on the fork ``chain``, import its state,
    compare, run the campaign from it; on a failure minimize its calls and save them
    (``out/counterexample.json``); write ``out/report.md``; 0 or 1."""
    log, record = Log(), {"manifest": manifest_path}
    out = out or default_out()
    try:
        return _audit(
            chain,
            manifest,
            seed,
            seconds,
            max_steps,
            funding,
            out,
            shrink_seconds,
            command,
            log,
            record,
        )
    finally:
        report = write_report(out, log, record)
        print(f"report: {report}")


def _audit(
    chain, manifest, seed, seconds, max_steps, funding, out, shrink_seconds, command, log, record
) -> int:
    pair = attach(chain, manifest, funding, log, record)
    if pair is None:
        log("result", f"result: {record['result']}")
        return DIFFERENT
    traders = record["traders"]
    budget = f"{max_steps} steps" if max_steps else f"{seconds} s"
    record.update(seed=seed, budget=budget)
    log(
        "campaign",
        f"campaign from the imported state: seed {seed}, budget {budget}, "
        f"{len(pair.accounts)} accounts compared ({len(traders)} harness traders funded "
        f"by {'mint' if record['fund'] == 'mint' else 'writing the token storage'}), roles "
        f"and the instance's {len(pair.residents)} other users (residents: they withdraw, "
        "exit, keep and are liquidated) impersonated on the fork",
    )
    stats, took, failure = run_campaign(pair, seed, seconds, max_steps)
    record.update(steps=stats.steps, sequences=stats.sequences, checks=dict(invariants.CHECKS))
    checks = ", ".join(f"{k} {v}" for k, v in sorted(invariants.CHECKS.items()))
    log(
        "campaign",
        f"campaign: {stats.steps} steps in {stats.sequences} sequences, {took:.1f} s; "
        f"checks: {checks}",
    )
    if failure is not None:
        log("failure", f"DIVERGENCE {type(failure).__name__}: {failure}")
        for note in getattr(failure, "__notes__", []):
            log("failure", note)
        record["result"] = f"divergence after {stats.steps} steps (seed {seed})"
        log("result", f"result: {record['result']}")
        path = save_counterexample(
            pair, failure, shrink_seconds, out, manifest, record, command, log
        )
        log("counterexample", f"counterexample saved: {path}")
        log(
            "counterexample",
            f"replay it:  python -m harness.deployed.audit --replay {path} --fork-url URL",
        )
        return DIFFERENT
    if stats.steps == 0:
        record["result"] = "the campaign ran no step: nothing was compared"
        log("result", f"FAILED: {record['result']}")
        return DIFFERENT
    record["result"] = f"agreed ({stats.steps} steps from the imported state, seed {seed})"
    log("result", f"result: {record['result']}")
    return AGREED


def save_counterexample(pair, failure, seconds, out, manifest, record, command, log) -> Path:
    """Shrink ``failure``'s calls from the imported state within ``seconds``, each
    candidate replayed from the fork's base snapshot: the campaign's minimizer drops
    calls, then ``simplify.simplify`` makes their integer arguments smaller where the failure
    stays the same (check, kind, failing step and function). Save them with the deployment
    as found: ``out/counterexample.json``."""
    calls = list(getattr(failure, "calls", []))
    target = trace.signature(failure)
    started = time.monotonic()
    again = trace.failure_of(calls, pair)
    reproduced = again is not None and trace.signature(again) == target
    shrunk, complete, simplified, replays = calls, False, [], [1]
    if reproduced:
        deadline = started + seconds

        def stop(_) -> bool:
            if time.monotonic() >= deadline:
                return True
            replays[0] += 1
            return False

        shrunk, last, complete = trace.minimize(calls, pair, target, stop=stop)
        failure = last or again
        if complete:  # then the values of the calls kept
            shrunk, last, simplified, complete = simplify.simplify(
                shrunk, pair, trace.identity(failure), stop=stop
            )
            failure = last or failure
    done = "minimized" if complete else "partly minimized (the time ran out)"
    if not reproduced:
        done = "not minimized: the calls replayed from the imported state did not fail alike"
    log("counterexample", f"counterexample: {len(shrunk)} calls, {done}, of {len(calls)} found")
    if reproduced:
        values = "; ".join(
            f"step {c['step']} {c['argument']} {c['from']:,} -> {c['to']:,}" for c in simplified
        )
        log(
            "counterexample",
            f"shrinking: {replays[0]} replays in {time.monotonic() - started:.1f} s; "
            f"{len(simplified)} values simplified{': ' + values if values else ''}",
        )
    text = io.StringIO()
    trace.replay(shrunk, pair, out=text)
    record["transcript"] = text.getvalue()
    print(record["transcript"], end="")
    found = trace.to_json(
        shrunk,
        failure,
        kind="audit",
        manifest=record["manifest"],
        deployment={
            key: record[key]
            for key in ("chain_id", "block", "timestamp", "contracts", "actors", "fund")
        },
        seed=record["seed"],
        found_calls=len(calls),
        minimized=complete,
        reproduced=reproduced,
        simplified=simplified,
    )
    found["manifest_record"] = manifest  # what the replay checks the instance against
    found["provenance"] = provenance.collect(
        command, {"rule": f"audit seed {record['seed']}", "batches": {}}
    )
    path = trace.save(out / "counterexample.json", found)
    record["counterexample"] = {
        "path": str(path),
        "calls": len(shrunk),
        "found": len(calls),
        "minimized": done,
        "simplified": simplified,
    }
    return path


def default_out() -> Path:
    """reports/audit-<UTC time>, a suffix added should it exist."""
    base = REPORTS / f"audit-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def write_report(out: Path, log: Log, record: dict) -> Path:
    """``out/report.md``: the deployment (chain, fork block, addresses, runtime keccaks),
    the checks, the steps and the result (and the counterexample, on a failure)."""
    sections = log.sections
    lines = [f"# Audit of `{record.get('manifest') or 'a manifest'}`", ""]
    lines += [f"**Result: {record.get('result', 'not finished (see the output)')}**", ""]
    lines += ["## Deployment", ""]
    if "block" in record:
        lines.append(
            f"- chain {record['chain_id']}, forked at block {record['block']} "
            f"(block time {record['timestamp']}); the node's URL is not recorded"
        )
        lines += ["", "| contract | address | runtime keccak on chain | manifest's |"]
        lines.append("|---|---|---|---|")
        for name, c in record["contracts"].items():
            same = "same" if c["manifest_keccak"] == c["runtime_keccak"] else c["manifest_keccak"]
            lines.append(f"| {name} | `{c['address']}` | `{c['runtime_keccak']}` | {same} |")
    if "actors" in record:
        lines += ["", f"Actors (harness actors funded by {record['fund']}):", ""]
        lines += [f"- {name}: `{address}`" for name, address in record["actors"].items()]
    lines += ["", "## Checks", ""]
    for section, title in (("checks", "Code and parameters"), ("import", "Imported state")):
        if section in sections:
            lines += [f"### {title}", "", "```", *sections[section], "```", ""]
    if "steps" in record:
        lines += ["### Campaign from the imported state", ""]
        lines += [f"- seed {record['seed']}, budget {record['budget']}"]
        lines += [f"- steps: {record['steps']} in {record['sequences']} sequences"]
        lines += ["", "| check | times |", "|---|---|"]
        lines += [f"| {name} | {n:,} |" for name, n in sorted(record["checks"].items())]
        lines.append("")
    lines += ["## Result", "", "```", *sections.get("result", []), "```", ""]
    if "failure" in sections:
        lines += ["### Failure as found", "", "```", *sections["failure"], "```", ""]
    if "counterexample" in record:
        found = record["counterexample"]
        lines += ["## Counterexample", ""]
        lines.append(
            f"- `{found['path']}`: {found['calls']} calls ({found['minimized']}, "
            f"of {found['found']} found)"
        )
        lines += [
            f"- step {c['step']}: {c['argument']} simplified from {c['from']:,} to {c['to']:,}"
            for c in found.get("simplified", [])
        ]
        lines += [
            f"- replay: `python -m harness.deployed.audit --replay {found['path']} "
            "--fork-url URL` (forks at the recorded block, imports again, replays, and says "
            "whether it fails as recorded)",
            "",
            "```",
            *record.get("transcript", "").splitlines(),
            "```",
            "",
        ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def replay(url: str, path: Path, manifest_path: str | None, chain_id: int) -> int:
    """Fork the node at ``url`` at the counterexample's block, check and import the
    instance again, replay its calls and compare the failure with the recorded one
    (``trace.verdict``): 1 when it fails (the same failure or a different one, as
    printed), 0 when spec and chain agree."""
    found = json.loads(path.read_text())
    recorded = found["deployment"]
    if manifest_path:
        if (manifest := read_manifest(manifest_path)) is None:
            return USAGE
    else:
        manifest = found["manifest_record"]
    failure = found.get("failure")
    print(
        f"replay of {path} on a fork of chain {chain_id} at block {recorded['block']} "
        f"({len(found['calls'])} calls; recorded failure: "
        f"{trace.shown_failure(failure) if failure else 'none'})"
    )
    trace.warn_if_code_changed(found)
    try:
        chain = ForkChain(url, chain_id=chain_id, block=recorded["block"])
    except ChainError as error:
        print(f"--fork-url {url}: {error}", file=sys.stderr)
        return NO_FORK
    try:
        record: dict = {}
        pair = attach(chain, manifest, recorded.get("fund"), Log(), record)
        if pair is None:
            print(f"result: cannot replay: {record['result']}")
            return DIFFERENT
        moved = [
            f"{name}: {record['actors'].get(name)} now, {address} then"
            for name, address in recorded.get("actors", {}).items()
            if record["actors"].get(name) != address
        ]
        if record["block"] != recorded["block"] or moved:
            print(f"result: cannot replay: the fork is not the audit's: {moved or record['block']}")
            return DIFFERENT
        _, again = trace.replay_failure(trace.load_calls(found), pair, out=sys.stdout)
    finally:
        chain.close()
    outcome, sentence = trace.verdict(failure, again)
    print(f"result: {sentence}")
    return AGREED if outcome == trace.AGREED else DIFFERENT


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", help="deployments/<chain-id>.json")
    parser.add_argument("--fork-url", required=True, help="the deployed chain's RPC URL")
    parser.add_argument("--seconds", type=positive, default=10, help="the campaign's time")
    parser.add_argument("--steps", type=positive, help="the campaign's steps (then no time)")
    parser.add_argument("--seed", type=int, help="the campaign's seed (default: random)")
    parser.add_argument(
        "--fund",
        choices=("mint", "storage"),
        help="how the harness actors get tokens: the token's mint, or its balance written "
        "on the fork (default: mint for the project's MockToken, else storage)",
    )
    parser.add_argument(
        "--out", type=Path, help="report folder (default: reports/audit-<UTC time>)"
    )
    parser.add_argument(
        "--shrink-seconds",
        type=positive,
        default=60,
        help="the time to minimize a failure's calls in (default 60)",
    )
    parser.add_argument(
        "--replay",
        type=Path,
        metavar="FILE",
        help="replay an audit's counterexample.json on a fork at its block (its manifest "
        "unless --manifest)",
    )
    try:
        args = parser.parse_args(argv)
        if args.replay is None and args.manifest is None:
            parser.error("--manifest is required (unless --replay)")
    except SystemExit as exit_:
        return USAGE if exit_.code else AGREED
    if args.replay is not None:
        try:
            found = json.loads(args.replay.read_text())
            chain_id = found["deployment"]["chain_id"]
            found["calls"], found["manifest_record"]
        except FileNotFoundError:
            print(f"{args.replay}: no such counterexample", file=sys.stderr)
            return USAGE
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"{args.replay}: not an audit's counterexample: {error}", file=sys.stderr)
            return USAGE
    else:
        if (manifest := read_manifest(args.manifest)) is None:
            return USAGE
        missing = [n for n in CONTRACTS if n not in manifest.get("contracts", {})]
        if "request" not in manifest or missing:
            print(f"{args.manifest}: no request or no {missing} recorded", file=sys.stderr)
            return USAGE
        chain_id = manifest["chain_id"]
    try:
        served = int(http_rpc(args.fork_url)("eth_chainId", []), 16)
    except (OSError, ValueError, ChainError) as error:
        print(f"--fork-url {args.fork_url}: {error}", file=sys.stderr)
        return NO_FORK
    if served != chain_id:
        print(
            f"{args.replay or args.manifest}: records chain {chain_id}, "
            f"{args.fork_url} serves {served}",
            file=sys.stderr,
        )
        return USAGE
    if args.replay is not None:
        return replay(args.fork_url, args.replay, args.manifest, chain_id)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    seconds = 10**9 if args.steps else args.seconds
    try:
        chain = ForkChain(args.fork_url, chain_id=chain_id)
    except ChainError as error:
        print(f"--fork-url {args.fork_url}: {error}", file=sys.stderr)
        return NO_FORK
    try:
        print(f"audit of {args.manifest} on a fork of chain {chain_id} ({args.fork_url}):")
        print(f"seed {seed}", flush=True)
        return audit(
            chain,
            manifest,
            seed,
            seconds,
            args.steps,
            args.fund,
            out=args.out,
            manifest_path=args.manifest,
            shrink_seconds=args.shrink_seconds,
            command=provenance.command("harness.deployed.audit", argv),
        )
    finally:
        chain.close()


if __name__ == "__main__":
    sys.exit(main())
