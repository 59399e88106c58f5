"""Differential throughput on each backend: ``python -m harness.measure.bench`` (``make bench``).

One fixed workload (a deterministic list of call sequences: the action policy of
``harness.core.actions`` on ``random.Random(--seed)``, so the same steering toward
leverage, crashes, liquidations and ADL as the fuzz machine) is replayed through
``Pair.apply`` on the embedded
chain and on anvil: spec and chain run every call, and the outcome, the events and the
full state are compared after every step; ``reset()`` (snapshot revert) starts each
sequence and is timed too, as in a campaign. The same calls are then driven the way an ape
user writes them (``harness.ape_baseline``: ape contract objects on ape's local test
network, the same checks) on a prefix of the workload, and the embedded chain and anvil
are timed on that same prefix too, so the ratios are like for like.

The output is a table and, as its last line, a JSON object with at least ``embedded``,
``anvil`` and ``ape_baseline`` (differential steps per second).

    python -m harness.measure.bench [--seed 9] [--sequences 50] [--steps 60]
                                    [--ape-steps 300] [--backends embedded,anvil,ape]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from hypothesis.database import InMemoryExampleDatabase

from harness.arguments import AT_LEAST_ZERO, POSITIVE
from harness.core import actions, branches, gc_policy
from harness.core.batches import BATCH, batch_seed
from harness.core.branches import Stats
from harness.core.call import VIEWS, Call
from harness.core.failure_database import FailureDatabase
from harness.core.machine import DifferentialMachine, explore, run_batch
from harness.core.orders import Match
from harness.core.pair import Divergence, Pair
from harness.core.sequence import branches_taken
from harness.core.spec_step import spec_apply, steps_of
from harness.evm import make_chain
from harness.measure import bench_chains
from pyspec import governor, settlement

NOTE = "ape contract objects, ethereum:local:test"
# The fuzz machine's mix with the markets fixed (no listings, no policy switches, no
# jumps to the bounds) and no waits (the ape baseline does not move block time); the
# rare-state actions list markets, hand roles over and wait, and would change the workload
# the recorded figures measured.
LEFT_OUT = (
    "list_market",
    "govern",
    "pause",
    "hand_over",
    "exit_position",
    "self_dealing_pair",
    "extremes",
    "wait",
    "tie_deleverage",
    "rotate_roles",
    "fill_markets",
    "crowd",
    "at_maintenance",
    "at_min_notional",
    "order_expiry",
)
MENU = actions.weighted({k: w for k, w in actions.ACTION_WEIGHTS.items() if k not in LEFT_OUT})


@dataclass
class Workload:
    """Call sequences (each starts from the post-setup state) and what they exercise."""

    seed: int
    sequences: list[list[Call]]
    calls: Counter = field(default_factory=Counter)  # by function
    successes: Counter = field(default_factory=Counter)
    branches: Counter = field(default_factory=Counter)  # waterfall branches taken
    reverts: int = 0

    @property
    def steps(self) -> int:
        return sum(len(s) for s in self.sequences)

    def prefix(self, steps: int) -> list[list[Call]]:
        """The first ``steps`` calls, still cut into their sequences."""
        out, left = [], steps
        for sequence in self.sequences:
            if left <= 0:
                break
            out.append(sequence[:left])
            left -= len(out[-1])
        return out

    def record(self, fn: str, reason: str | None, steps: list) -> None:
        """One call: its revert reason (None on success) and ``spec_step.steps_of``."""
        self.calls[fn] += 1
        if reason is None:
            self.successes[fn] += 1
            self.branches.update(branches_taken(steps))
        else:
            self.reverts += 1

    def summary(self) -> dict:
        return {
            "seed": self.seed,
            "sequences": len(self.sequences),
            "steps": self.steps,
            "calls": dict(self.calls),
            "successes": dict(self.successes),
            "invalid_calls": self.reverts,
            "liquidations": self.successes["liquidate"],
            "deleverages": self.successes["deleverage"],
            "bad_debt_write_offs": self.branches["bad_debt"],
            "branches": {b: self.branches[b] for b in branches.WATERFALL_BRANCHES},
        }


class SpecRun:
    """A spec-only ``actions.World`` from ``pair``'s post-setup state that records what
    its calls do into ``workload``."""

    def __init__(self, pair: Pair, workload: Workload) -> None:
        self.state = pair.state.copy()
        self.actors, self.traders, self.residents = pair.actors, pair.traders, pair.residents
        self.workload = workload

    def apply(self, call: Call) -> None:
        if call.target == VIEWS:
            self.workload.record(call.fn, None, [])
            return
        before = self.state.copy()
        self.state, reason, events = spec_apply(self.state, self.actors, call)
        steps = steps_of(self.actors, call, before, self.state, events) if reason is None else []
        self.workload.record(call.fn, reason, steps)


def generate(pair: Pair, seed: int, sequences: int, steps: int) -> Workload:
    """``sequences`` sequences from ``pair``'s post-setup state: the opening deposits, then
    ``steps`` actions each (an action is one call, or two with a boundary withdrawal)."""
    pair.reset()
    choose = actions.RandomChoices(random.Random(seed))
    workload = Workload(seed, [])
    for _ in range(sequences):
        run = SpecRun(pair, workload)
        sequence = actions.opening_deposits(run, choose)
        for call in sequence:
            run.apply(call)
        for _ in range(steps):
            for call in actions.next_calls(run, choose, MENU):
                if isinstance(call, Match):  # signed in the state it runs in
                    call = call.call(run.state, run.actors)
                run.apply(call)
                sequence.append(call)
        workload.sequences.append(sequence)
    return workload


def campaign(pair: Pair, seed: int, sequences: int, steps: int) -> tuple[int, float]:
    """The campaign's default loop on ``pair`` (``--explorer random``): actions drawn as it
    runs, and every check the campaign makes (properties, invariants, the liveness drain);
    return (steps, seconds)."""
    stats = Stats()
    start = time.perf_counter()
    explore(DifferentialMachine.bind(pair, stats), seed, sequences, steps)
    return stats.steps, time.perf_counter() - start


def campaign_hypothesis(pair: Pair, seed: int, sequences: int, steps: int) -> tuple[int, float]:
    """The campaign's other loop (``--explorer hypothesis``): hypothesis's engine drawing
    the actions in batches of the campaign's default size, seeded as a worker's batches
    are, with one worker's database (failures only, in memory here), every check; return
    (steps, seconds)."""
    stats = Stats()
    machine = DifferentialMachine.bind(pair, stats)
    database = FailureDatabase(InMemoryExampleDatabase())
    start = time.perf_counter()
    for batch, first in enumerate(range(0, sequences, BATCH)):
        run_batch(
            machine, batch_seed(seed, 0, batch), min(BATCH, sequences - first), steps, database
        )
    return stats.steps, time.perf_counter() - start


def replay(pair: Pair, sequences: list[list[Call]]) -> tuple[int, float]:
    """Replay ``sequences`` through ``Pair.apply`` (reset before each); return
    (steps, seconds). Raises ``Divergence`` on any difference. The spec's caches start
    cold (``cold_spec_caches``): the generation filled them with these very calls, which
    a replay of a saved trace, like a campaign, meets fresh."""
    cold_spec_caches()
    steps = 0
    start = time.perf_counter()
    for sequence in sequences:
        pair.reset()
        for call in sequence:
            if call.target == VIEWS:
                pair.check_views(list(call.args))
            else:
                pair.apply(call)
        if sequence:  # a sequence ends on a full comparison, as in a campaign
            pair.check_full(sequence[-1])
        steps += len(sequence)
    return steps, time.perf_counter() - start


def cold_spec_caches() -> None:
    """Empty the spec's caches of order signers, order digests and Governor call ids (pure
    functions, remembered): a timed run then meets its signatures fresh, as a campaign
    does."""
    for cached in (settlement.recover_signer, settlement._digest, governor.call_id):
        cached.cache_clear()


@dataclass
class Result:
    backend: str
    steps: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=AT_LEAST_ZERO, default=9, help="workload seed")
    parser.add_argument("--sequences", type=POSITIVE, default=50, help="call sequences")
    parser.add_argument("--steps", type=POSITIVE, default=60, help="actions per sequence")
    parser.add_argument("--ape-steps", type=POSITIVE, default=300, help="prefix run on ape")
    parser.add_argument("--backends", default="embedded,anvil,ape", help="any of these")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare chain figures")
    parser.add_argument(
        "--repeat",
        type=POSITIVE,
        default=3,
        help="timed runs of the embedded replay and campaign rows, each the median run",
    )
    return parser.parse_args(argv)


def median_run(runs: list[tuple[int, float]]) -> tuple[int, float]:
    """The (steps, seconds) of the run with the median rate: one slow or fast run of a
    shared machine does not make the figure."""
    return sorted(runs, key=lambda run: run[0] / run[1])[len(runs) // 2]


def describe(workload: Workload, label: str) -> list[str]:
    s = workload.summary()
    lines = [
        f"{label}: {s['steps']} steps in {s['sequences']} sequences (seed {s['seed']}), "
        f"{s['invalid_calls']} invalid calls (reverts)",
        "  action mix (ok / total): "
        + ", ".join(f"{fn} {workload.successes[fn]}/{n}" for fn, n in workload.calls.most_common()),
        f"  waterfall: liquidations {s['liquidations']}, deleverages (ADL) {s['deleverages']}, "
        f"bad debt write-offs {s['bad_debt_write_offs']}",
        "  branches: " + ", ".join(f"{b} {n}" for b, n in s["branches"].items()),
    ]
    return lines


def table(results: list[Result], ape_rate: float | None) -> list[str]:
    head = f"{'backend':<22} {'steps':>7} {'seconds':>9} {'steps/s':>9} {'x ape':>8}  note"
    lines = [head, "-" * len(head)]
    for r in results:
        ratio = f"{r.rate / ape_rate:8.1f}" if ape_rate else f"{'-':>8}"
        lines.append(
            f"{r.backend:<22} {r.steps:>7} {r.seconds:>9.2f} {r.rate:>9.0f} {ratio}  {r.note}"
        )
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"embedded", "anvil", "ape"}
    if unknown:
        raise SystemExit(f"unknown backends: {sorted(unknown)}")

    # Generation (spec only, outside every timed part), on the embedded deployment.
    chain = make_chain("embedded")
    try:
        pair = Pair(chain)
        start = time.perf_counter()
        workload = generate(pair, args.seed, args.sequences, args.steps)
        generated = time.perf_counter() - start
        prefix = tally(pair, args.seed, workload.prefix(args.ape_steps))
        for line in describe(workload, "workload"):
            print(line)
        for line in describe(prefix, f"prefix (first {prefix.steps} steps, run on every backend)"):
            print(line)
        print(f"  generated in {generated:.2f}s (spec only, not timed)", flush=True)
        gc_policy.long_run()  # as a campaign worker runs, for every row alike
        return _measure(args, backends, pair, workload, prefix)
    except Divergence as divergence:
        print(f"DIVERGENCE: {divergence}", file=sys.stderr)
        return 1
    finally:
        chain.close()


def _measure(args, backends, embedded: Pair, workload: Workload, prefix: Workload) -> int:
    results: list[Result] = []
    rates: dict[str, float] = {}
    bare: dict[str, float] = {}
    for name in [b for b in backends if b != "ape"]:
        chain = embedded.chain if name == "embedded" else make_chain(name)
        try:
            pair = embedded if name == "embedded" else Pair(chain)
            if not args.no_bare:
                bare[name] = bench_chains.measure(chain, 500)["transfer_tx_per_s"]
            repeat = args.repeat if name == "embedded" else 1
            steps, seconds = median_run([replay(pair, workload.sequences) for _ in range(repeat)])
            results.append(Result(name, steps, seconds, "whole workload"))
            rates[name] = results[-1].rate
            steps, seconds = replay(pair, prefix.sequences)
            results.append(Result(f"{name} (prefix)", steps, seconds, "the ape prefix"))
            rates[f"{name}_prefix"] = results[-1].rate
            if name == "embedded":
                # warmed up as the replay is by the generation, on other sequences (the
                # generation's would be drawn again, their signatures remembered)
                campaign(pair, args.seed + 10**6, 5, args.steps)
                seeds = [args.seed + i for i in range(args.repeat)]
                steps, seconds = median_run(
                    [campaign(pair, seed, args.sequences, args.steps) for seed in seeds]
                )
                note = "campaign, the default explorer (random): actions drawn, every check"
                results.append(Result("embedded (campaign)", steps, seconds, note))
                rates["campaign"] = results[-1].rate
                steps, seconds = median_run(
                    [campaign_hypothesis(pair, seed, args.sequences, args.steps) for seed in seeds]
                )
                note = "campaign --explorer hypothesis: every check"
                results.append(Result("embedded (hypothesis)", steps, seconds, note))
                rates["campaign_hypothesis"] = results[-1].rate
        finally:
            if chain is not embedded.chain:
                chain.close()
        print(f"  {name}: done", flush=True)

    ape_rate = None
    ape_info: dict = {}
    if "ape" in backends:
        from harness.measure import ape_baseline  # imports ape: only when asked

        cold_spec_caches()
        steps, seconds, ape_info = ape_baseline.run(prefix.sequences)
        results.append(Result("ape_baseline", steps, seconds, "the ape prefix, " + NOTE))
        ape_rate = rates["ape_baseline"] = results[-1].rate

    print()
    for line in table(results, ape_rate):
        print(line)
    print("(ratios like for like: the prefix rows against ape_baseline)")
    if bare:
        print(
            "bare chain (MockToken.transfer tx/s): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in bare.items())
        )
    out = {
        "embedded": rates.get("embedded"),
        "anvil": rates.get("anvil"),
        "ape_baseline": ape_rate,
        "embedded_prefix": rates.get("embedded_prefix"),
        "anvil_prefix": rates.get("anvil_prefix"),
        "ratio_embedded_to_ape": _ratio(rates.get("embedded_prefix"), ape_rate),
        "ratio_anvil_to_ape": _ratio(rates.get("anvil_prefix"), ape_rate),
        "campaign": rates.get("campaign"),
        "campaign_to_replay": _ratio(rates.get("campaign"), rates.get("embedded")),
        "campaign_hypothesis": rates.get("campaign_hypothesis"),
        "campaign_hypothesis_to_replay": _ratio(
            rates.get("campaign_hypothesis"), rates.get("embedded")
        ),
        "ape_steps": prefix.steps,
        "bare_tx_per_s": bare,
        "ape": ape_info,
        "workload": workload.summary(),
        "prefix": prefix.summary(),
    }
    print(json.dumps(out, separators=(",", ":")))
    return 0


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def tally(pair: Pair, seed: int, sequences: list[list[Call]]) -> Workload:
    """What ``sequences`` exercise (replayed on the spec only)."""
    pair.reset()
    out = Workload(seed, sequences)
    for sequence in sequences:
        run = SpecRun(pair, out)
        for call in sequence:
            run.apply(call)
    return out


if __name__ == "__main__":
    sys.exit(main())
