"""Differential throughput on each backend: ``python -m harness.bench`` (``make bench``).

One fixed workload (a deterministic list of call sequences generated from ``--seed`` with
``random.Random``, steered by the spec state toward leverage, crashes, liquidations and
ADL the way ``harness.machine`` is) is replayed through ``Protocol.apply`` on the embedded
chain and on anvil: spec and chain run every call, and the outcome, the events and the
full state are compared after every step; ``reset()`` (snapshot revert) starts each
sequence and is timed too, as in a campaign. The same calls are then driven the way an ape
user writes them (``harness.ape_baseline``: ape contract objects on ape's local test
network, the same checks) on a prefix of the workload, and the embedded chain and anvil
are timed on that same prefix too, so the ratios are like for like.

The output is a table and, as its last line, a JSON object with at least ``embedded``,
``anvil`` and ``ape_baseline`` (differential steps per second).

    python -m harness.bench [--seed 9] [--sequences 50] [--steps 60] [--ape-steps 300]
                            [--backends embedded,anvil,ape]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from harness import coverage
from harness.chains import make_chain
from harness.machine import ACTION_WEIGHTS, LEVERAGE_USE_PERCENT, PRICE_MOVE_STEPS
from harness.protocol import Call, Divergence, Protocol, _spec_token_call
from harness.runner import VIEWS
from pyspec import engine, margin, views
from pyspec.constants import MAX_DEPOSIT, MAX_PRICE, RATIO_PRECISION
from pyspec.errors import Revert
from pyspec.state import State

USDC = 10**6
NOTE = "ape contract objects, ethereum:local:test"

PRICE_MOVES = PRICE_MOVE_STEPS
LEVERAGE_USE = LEVERAGE_USE_PERCENT
SPECIAL_AMOUNTS = (0, 1, MAX_DEPOSIT, MAX_DEPOSIT + 1, 2**256 - 1)


def spec_step(state: State, actors: dict[str, str], call: Call) -> tuple[State, str | None, list]:
    """Run ``call`` on the spec only (as ``Protocol.apply`` does on its spec side).

    Return the state after the call (the saved copy when it reverted), the revert reason
    (None on success) and the events.
    """
    sender = actors[call.sender]
    args = tuple(actors[a] if isinstance(a, str) else a for a in call.args)
    saved = state.copy()
    state.events.clear()
    try:
        if call.target == "engine":
            getattr(engine, "process_" + call.fn)(state, sender, *args)
        else:
            _spec_token_call(state, call.fn, sender, args)
    except Revert as revert:
        saved.events.clear()
        return saved, revert.reason, []
    return state, None, list(state.events)


@dataclass
class Workload:
    """Call sequences (each starts from the post-setup state) and what they exercise."""

    seed: int
    sequences: list[list[Call]]
    calls: Counter = field(default_factory=Counter)  # by function
    successes: Counter = field(default_factory=Counter)
    branches: Counter = field(default_factory=Counter)  # waterfall branches (coverage)
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

    def record(self, fn: str, before: State | None, reason: str | None, events: list) -> None:
        self.calls[fn] += 1
        if reason is None:
            self.successes[fn] += 1
            if before is not None:
                self.branches.update(coverage.branches(before, events))
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
            "socialized_losses": self.branches["socialized_loss"],
            "branches": {b: self.branches[b] for b in coverage.WATERFALL_BRANCHES},
        }


class Generator:
    """``harness.machine``'s rules on ``random.Random``, steered by the spec state alone."""

    def __init__(self, base: State, actors: dict[str, str], traders: list[str], n_markets: int):
        self.base, self.actors, self.traders, self.n = base, actors, traders, n_markets

    def generate(self, seed: int, sequences: int, steps: int) -> Workload:
        self.r = random.Random(seed)
        self.workload = Workload(seed, [])
        # The machine's mix, but with the two markets fixed: no listings.
        mix = {name: w for name, w in ACTION_WEIGHTS.items() if name != "list_market"}
        actions = [name for name, weight in mix.items() for _ in range(weight)]
        for _ in range(sequences):
            self.state = self.base.copy()
            self.sequence: list[Call] = []
            for trader in self.traders:  # machine.fund_traders
                self.call("engine", "deposit", trader, self.r.randint(500, 20_000) * USDC)
            for _ in range(steps):
                getattr(self, self.r.choice(actions))()
            self.workload.sequences.append(self.sequence)
        return self.workload

    # -- plumbing ---------------------------------------------------------------------
    def call(self, target: str, fn: str, sender: str, *args) -> None:
        call = Call(target, fn, sender, args)
        before = self.state.copy()
        self.state, reason, events = spec_step(self.state, self.actors, call)
        self.sequence.append(call)
        self.workload.record(fn, before, reason, events)

    def mostly(self, valid, invalid):
        """``valid()`` nine times in ten, else ``invalid()``."""
        return valid() if self.r.random() < 0.9 else invalid()

    def amount(self) -> int:
        r = self.r
        return r.randint(1, 20_000 * USDC) if r.random() < 0.75 else r.choice(SPECIAL_AMOUNTS)

    def free(self, who: str) -> int:
        return views.free_collateral(self.state, self.actors[who])

    # -- rules (as harness.machine) ---------------------------------------------------
    def deposit(self):
        self.call("engine", "deposit", self.r.choice([*self.traders, "outsider"]), self.amount())

    def withdraw(self):
        r = self.r
        who = r.choice(self.traders)
        free = self.free(who)
        amount = self.mostly(
            lambda: r.randint(1, max(free, 1)),
            lambda: r.randint(free, free + 10 * USDC) if r.random() < 0.5 else self.amount(),
        )
        self.call("engine", "withdraw", who, amount)

    def trade(self):
        r, n = self.r, self.n
        buyer = r.choice(self.traders)
        seller = self.mostly(
            lambda: r.choice([t for t in self.traders if t != buyer]), lambda: buyer
        )
        market_id = self.mostly(lambda: r.randint(0, n - 1), lambda: n)
        caller = self.mostly(lambda: "operator", lambda: "outsider")
        buyer_is_taker = r.random() < 0.5
        if market_id < n:
            market = self.state.markets[market_id]
            band = market.price_band_ratio
            deviation = self.mostly(
                lambda: r.randint(-band, band), lambda: r.randint(-2 * band, 2 * band)
            )
            price = max(market.price + market.price * deviation // RATIO_PRECISION, 0)
            # Size near what the poorer side can afford: trades run at high leverage.
            free = min(self.free(buyer), self.free(seller))
            affordable = free * RATIO_PRECISION // max(price * market.initial_margin_ratio, 1)
            size = self.mostly(
                lambda: max(affordable * r.choice(LEVERAGE_USE) // 100, 1),
                lambda: r.choice([0, 10**9 + 1]),
            )
        else:
            price, size = 1_000_000, 1
        self.call(
            "engine", "settle_trade", caller, buyer, seller, market_id, size, price, buyer_is_taker
        )

    def move_price(self):
        r, n = self.r, self.n
        move = r.choice(PRICE_MOVES) + r.randint(-5_000, 5_000)
        market_id = r.randint(0, n - 1)
        market = self.state.markets[market_id]
        price = max(market.price + market.price * move // RATIO_PRECISION, 1)
        kind = r.choice(["ok"] * 12 + ["stale", "zero", "huge", "outsider", "unknown"])
        timestamp = market.price_timestamp + (0 if kind == "stale" else 1)
        price = {"zero": 0, "huge": MAX_PRICE + 1}.get(kind, price)
        caller = "outsider" if kind == "outsider" else "oracle"
        self.call(
            "engine",
            "update_price",
            caller,
            n if kind == "unknown" else market_id,
            price,
            timestamp,
        )

    def _pick_account(self, predicate) -> str:
        flagged = [t for t in self.traders if predicate(self.actors[t])]
        if flagged and self.r.random() < 0.9:
            return self.r.choice(flagged)
        return self.r.choice(self.traders)

    def _pick_market(self, who: str) -> int:
        account = self.state.accounts.get(self.actors[who])
        held = sorted(account.positions) if account else []
        if not held:
            return self.n
        return self.mostly(lambda: self.r.choice(held), lambda: self.r.randint(0, self.n))

    def liquidate(self):
        target = self._pick_account(lambda a: margin.is_liquidatable(self.state, a))
        richest = max((t for t in self.traders if t != target), key=self.free)
        liquidator = self.mostly(lambda: richest, lambda: self.r.choice(self.traders))
        self.call("engine", "liquidate", liquidator, target, self._pick_market(target))

    def deleverage(self):
        target = self._pick_account(lambda a: margin.equity(self.state, a) < 0)
        keeper = self.r.choice([*self.traders, "outsider"])
        self.call("engine", "deleverage", keeper, target, self._pick_market(target))

    def top_up_insurance(self):
        who = self.r.choice([*self.traders, "outsider", "owner"])
        self.call("engine", "top_up_insurance", who, self.amount())

    def withdraw_insurance(self):
        r = self.r
        available = max(self.state.insurance_fund - self.state.insurance_floor, 0)
        amount = self.mostly(
            lambda: r.randint(1, max(available, 1)),
            lambda: available + 1 if r.random() < 0.5 else self.amount(),
        )
        caller = self.mostly(lambda: "owner", lambda: "outsider")
        self.call("engine", "withdraw_insurance", caller, amount)

    def update_funding(self):
        r, n = self.r, self.n
        market_id = self.mostly(lambda: r.randint(0, n - 1), lambda: n)
        bound = self.state.markets[min(market_id, n - 1)].max_funding_rate
        if r.random() < 0.5:
            rate = r.randint(-bound, bound)
        else:
            rate = r.choice([-bound - 1, bound + 1, -(10**6), 10**6, -(2**255), 2**255 - 1])
        caller = self.mostly(lambda: "operator", lambda: "outsider")
        self.call("engine", "update_funding", caller, market_id, rate)

    def check_views(self):
        who = self.r.sample(self.traders, self.r.randint(1, 2))
        self.sequence.append(Call(VIEWS, "check_views", "operator", tuple(who)))
        self.workload.record("check_views", None, None, [])


def generate(protocol: Protocol, seed: int, sequences: int, steps: int) -> Workload:
    """The workload for ``protocol``'s deployment (its post-setup spec state and actors)."""
    protocol.reset()
    generator = Generator(
        protocol.state.copy(), protocol.actors, protocol.traders, len(protocol.markets)
    )
    return generator.generate(seed, sequences, steps)


def replay(protocol: Protocol, sequences: list[list[Call]]) -> tuple[int, float]:
    """Replay ``sequences`` through ``Protocol.apply`` (reset before each); return
    (steps, seconds). Raises ``Divergence`` on any difference."""
    steps = 0
    start = time.perf_counter()
    for sequence in sequences:
        protocol.reset()
        for call in sequence:
            if call.target == VIEWS:
                protocol.check_views(list(call.args))
            else:
                protocol.apply(call)
        steps += len(sequence)
    return steps, time.perf_counter() - start


@dataclass
class Result:
    backend: str
    steps: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


def bare_chain_rate(chain, n: int = 500) -> float:
    """MockToken transfers per second on ``chain`` (raw backend speed, for context)."""
    from harness import artifacts
    from harness.abi import encode_call

    art = artifacts.load("MockToken")
    snap = chain.snapshot()
    a, b = chain.accounts[0], chain.accounts[1]
    tok = chain.deploy(art.initcode(), a)
    chain.transact(a, tok, encode_call(art.fn("mint"), [a, 10**30]))
    data = encode_call(art.fn("transfer"), [b, 1])
    start = time.perf_counter()
    for _ in range(n):
        chain.transact(a, tok, data)
    rate = n / (time.perf_counter() - start)
    chain.revert(snap)
    return rate


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=9, help="workload seed")
    parser.add_argument("--sequences", type=int, default=50, help="call sequences")
    parser.add_argument("--steps", type=int, default=60, help="actions per sequence")
    parser.add_argument("--ape-steps", type=int, default=300, help="prefix run on ape")
    parser.add_argument("--backends", default="embedded,anvil,ape", help="any of these")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare chain figures")
    return parser.parse_args(argv)


def describe(workload: Workload, label: str) -> list[str]:
    s = workload.summary()
    lines = [
        f"{label}: {s['steps']} steps in {s['sequences']} sequences (seed {s['seed']}), "
        f"{s['invalid_calls']} invalid calls (reverts)",
        "  action mix (ok / total): "
        + ", ".join(f"{fn} {workload.successes[fn]}/{n}" for fn, n in workload.calls.most_common()),
        f"  waterfall: liquidations {s['liquidations']}, deleverages (ADL) {s['deleverages']}, "
        f"socialized losses {s['socialized_losses']}",
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
        protocol = Protocol(chain)
        start = time.perf_counter()
        workload = generate(protocol, args.seed, args.sequences, args.steps)
        generated = time.perf_counter() - start
        prefix = tally(protocol, args.seed, workload.prefix(args.ape_steps))
        for line in describe(workload, "workload"):
            print(line)
        for line in describe(prefix, f"prefix (first {prefix.steps} steps, run on every backend)"):
            print(line)
        print(f"  generated in {generated:.2f}s (spec only, not timed)", flush=True)
        return _measure(args, backends, protocol, workload, prefix)
    except Divergence as divergence:
        print(f"DIVERGENCE: {divergence}", file=sys.stderr)
        return 1
    finally:
        chain.close()


def _measure(args, backends, embedded: Protocol, workload: Workload, prefix: Workload) -> int:
    results: list[Result] = []
    rates: dict[str, float] = {}
    bare: dict[str, float] = {}
    for name in [b for b in backends if b != "ape"]:
        chain = embedded.chain if name == "embedded" else make_chain(name)
        try:
            protocol = embedded if name == "embedded" else Protocol(chain)
            if not args.no_bare:
                bare[name] = bare_chain_rate(chain)
            steps, seconds = replay(protocol, workload.sequences)
            results.append(Result(name, steps, seconds, "whole workload"))
            rates[name] = results[-1].rate
            steps, seconds = replay(protocol, prefix.sequences)
            results.append(Result(f"{name} (prefix)", steps, seconds, "the ape prefix"))
            rates[f"{name}_prefix"] = results[-1].rate
        finally:
            if chain is not embedded.chain:
                chain.close()
        print(f"  {name}: done", flush=True)

    ape_rate = None
    ape_info: dict = {}
    if "ape" in backends:
        from harness import ape_baseline

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


def tally(protocol: Protocol, seed: int, sequences: list[list[Call]]) -> Workload:
    """What ``sequences`` exercise (replayed on the spec only)."""
    protocol.reset()
    out = Workload(seed, sequences)
    for sequence in sequences:
        state = protocol.state.copy()
        for call in sequence:
            if call.target == VIEWS:
                out.record(call.fn, None, None, [])
                continue
            before = state.copy()
            state, reason, events = spec_step(state, protocol.actors, call)
            out.record(call.fn, before, reason, events)
    return out


if __name__ == "__main__":
    sys.exit(main())
