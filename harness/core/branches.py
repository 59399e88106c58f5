"""Which branches of the waterfall, funding and fees a call took, read from its events,
and the statistics of a run (calls, outcomes, events, branches, a sampled series)."""

import hashlib
import time
from collections import Counter

from harness.core import rare
from harness.core.attacker import GAIN_PARTS
from harness.core.call import BUNDLE
from pyspec.constants import ADL_POLICY_NAMES, RATIO_PRECISION
from pyspec.state import State

WATERFALL_BRANCHES = (
    "liquidation.partial",
    "liquidation.full",
    "liquidation.penalty_capped",
    "insurance.covers",
    "adl.one_counterparty",
    "adl.several_counterparties",
    *(f"adl.charged.{name}" for name in ADL_POLICY_NAMES),
    "adl.charge_only",
    "liquidation.fund_reward",
    "adl.keeper_paid",
    "bad_debt",
)
# Branches of funding, fees, signed orders (an order filled a second time, a cancel, a
# nonce floor) and the market's lifecycle (a change through the Governor's delay, a
# delisting, a position settled at the final price, an exit taken over or escaped),
# reached through the same statistics.
TRADING_BRANCHES = (
    "funding.clamped",
    "funding.settled",
    "fees.charged",
    "orders.refilled",
    "orders.cancelled",
    "orders.nonces_invalidated",
    "governance.executed",
    "lifecycle.delisted",
    "lifecycle.settled_at_price",
    "exit.taken",
    "exit.escaped",
)
# The amounts the waterfall moved, by branch: event name -> (branch, argument index).
WATERFALL_AMOUNTS = {
    "Liquidation": (("liquidation.penalties", 5), ("liquidation.rewards", 6)),
    "InsuranceCover": (("insurance.covers", 2),),
    "Deleverage": (("adl.absorbed", 5),),
    "BadDebt": (("bad_debt", 1),),
    "KeeperReward": (("adl.keeper_rewards", 2),),
}
AMOUNT_BRANCHES = tuple(branch for pairs in WATERFALL_AMOUNTS.values() for branch, _ in pairs)
LIFECYCLE_EVENTS = {
    "CallExecuted": "governance.executed",
    "MarketSettled": "lifecycle.delisted",
    "PositionSettledAtPrice": "lifecycle.settled_at_price",
    "ExitTaken": "exit.taken",
    "ExitEscaped": "exit.escaped",
}


def taken(before: State, events: list) -> list[str]:
    """Return the branches that ``events`` (one call's) show were taken from ``before``."""

    def held(account: str, market_id: int) -> int:
        return abs(before.accounts[account].positions[market_id].size)

    def fee_ratio(market_id: int) -> int:
        return before.markets[market_id].liquidation_fee_ratio

    def policy(market_id: int) -> int:
        return before.markets[market_id].adl_policy

    return classify(events, held, fee_ratio, policy)


def classify(events: list, held, fee_ratio, policy) -> list[str]:
    """The branch rules, on ``(name, args)`` events and three look-ups into the state
    before the call: ``held(account, market_id)`` (lots held), ``fee_ratio(market_id)`` (its
    liquidation fee) and ``policy(market_id)`` (its ADL policy). The vector tests read the
    same rules off JSON, without the spec."""
    found = []
    fills = 0
    for name, args in events:
        if name == "Liquidation":
            account, _, market_id, size, price, penalty, reward = args
            found.append(
                "liquidation.full" if size == held(account, market_id) else "liquidation.partial"
            )
            if penalty * RATIO_PRECISION < size * price * fee_ratio(market_id):
                found.append("liquidation.penalty_capped")
            if reward > penalty:
                found.append("liquidation.fund_reward")
        elif name == "InsuranceCover":
            found.append("insurance.covers")
        elif name == "Deleverage":
            fills += 1
            charged = f"adl.charged.{ADL_POLICY_NAMES[policy(args[2])]}"
            if args[5] > 0 and charged not in found:
                found.append(charged)
            if args[3] == 0 and "adl.charge_only" not in found:
                found.append("adl.charge_only")
        elif name == "BadDebt":
            found.append("bad_debt")
        elif name == "KeeperReward":
            found.append("adl.keeper_paid")
        elif name == "FundingRateSet" and args[1] != args[2]:
            found.append("funding.clamped")
        elif name == "OrderFilled" and args[3] > args[2] and "orders.refilled" not in found:
            found.append("orders.refilled")
        elif name == "OrderCancelled":
            found.append("orders.cancelled")
        elif name == "NoncesInvalidated":
            found.append("orders.nonces_invalidated")
        elif name == "PositionSettled" and args[2] != 0:
            found.append("funding.settled")
        elif name == "Trade" and args[5] + args[6] > 0:
            found.append("fees.charged")
        elif name in LIFECYCLE_EVENTS and LIFECYCLE_EVENTS[name] not in found:
            found.append(LIFECYCLE_EVENTS[name])
    if fills == 1:
        found.append("adl.one_counterparty")
    elif fills > 1:
        found.append("adl.several_counterparties")
    return found


class Stopped(KeyboardInterrupt):
    """Raised before a step when the run must stop (its budget is spent, or it was
    interrupted). A ``KeyboardInterrupt`` to hypothesis: it lets it through at once,
    without recording the cut-short example (any other exception is a failure to shrink,
    and a ``BaseException`` marks the example's draws inconsistent)."""


class Stats:
    """What a run did: calls by function and outcome, events, waterfall branches, and a
    sampled series of the insurance fund and the waterfall counts for the report's plots."""

    SAMPLE_EVERY = 25  # steps between two samples of the series
    PROGRESS_EVERY = 200  # steps between two progress callbacks

    def __init__(self, on_progress=None) -> None:
        self.calls: Counter = Counter()
        self.entry_points: Counter = Counter()  # "target.fn", a bundle's calls included
        self.successes: Counter = Counter()
        self.reverts: Counter = Counter()
        self.branches: Counter = Counter()
        self.events: Counter = Counter()
        self.steps = 0
        self.views = 0  # trader views compared between spec and chain
        self.view_reverts: Counter = Counter()  # reasons both sides' views refused with
        self.sequences = 0
        self.failing = 0  # failing runs seen (the first, then hypothesis's shrinking)
        # (step, insurance fund, liquidations, ADL fills, bad debt write-offs)
        self.series: list[tuple[int, int, int, int, int]] = []
        # (seconds since the first step, steps), sampled with the series: steps/s over time
        self.throughput: list[tuple[float, int]] = []
        # (seconds, waterfall and trading branches, rare states and refused privileged
        # calls, revert reasons, entry points) reached so far, sampled with it: coverage
        # over time
        self.reached: list[tuple[float, int, int, int, int]] = []
        self.first_step_at: float | None = None
        # units the waterfall moved, by branch (``WATERFALL_AMOUNTS``)
        self.amounts: Counter = Counter()
        # the insurance fund at the end of each sequence, and the floor governance keeps
        self.sequence_funds: list[int] = []
        self.insurance_floor: int | None = None
        self.on_progress = on_progress
        # the attacker contract's best gain over its fair PnL (``attacker``), and the
        # sequence that reached it
        self.best_gain = 0
        self.best_gain_calls: list[str] = []
        self.best_gain_parts = dict.fromkeys(GAIN_PARTS, 0)
        # a campaign's budget: ``should_stop()`` returns why the run must stop before the
        # next step (or None); ``on_failure(failure)`` sees every failing run
        self.should_stop = None
        self.on_failure = None
        self.stopped: str | None = None
        # a short hash of every finished sequence's calls: how many distinct sequences a
        # run explored, and whether two runs explored the same ones
        self.fingerprints: set[str] = set()
        # rare states, exact boundary hits and refused privileged calls ("fn|role"): ``rare``
        self.rare: Counter = Counter()
        self.boundaries: Counter = Counter()
        self.privileged: Counter = Counter()

    def before_step(self) -> None:
        """Raise ``Stopped`` when ``should_stop`` says the run must stop."""
        if self.should_stop is not None and (reason := self.should_stop()):
            self.stopped = reason
            raise Stopped(reason)

    def failed(self, failure: BaseException) -> None:
        """Count a failing run (its ``calls`` set) and tell ``on_failure``."""
        self.failing += 1
        if self.on_failure is not None:
            self.on_failure(failure)

    def record(
        self, call, success: bool, reason: str | None, taken: list[str], events: list, fund: int
    ) -> None:
        """Count ``call`` (a ``Call``) and what it did."""
        fn = call.fn
        # a bundle's calls reach their own entry points (the attacker contract makes them)
        for reached in (call, *(call.args if call.target == BUNDLE else ())):
            self.entry_points[f"{reached.target}.{reached.fn}"] += 1
        if self.first_step_at is None:
            self.first_step_at = time.monotonic()
        self.steps += 1
        self.calls[fn] += 1
        if success:
            self.successes[fn] += 1
            self.events.update(name for name, _ in events)
            for name, args in events:
                for branch, index in WATERFALL_AMOUNTS.get(name, ()):
                    self.amounts[branch] += args[index]
        else:
            self.reverts[reason] += 1
        self.branches.update(taken)
        if self.steps % self.SAMPLE_EVERY == 0:
            e = self.events
            self.series.append((self.steps, fund, e["Liquidation"], e["Deleverage"], e["BadDebt"]))
            seconds = round(time.monotonic() - self.first_step_at, 3)
            self.throughput.append((seconds, self.steps))
            self.reached.append(
                (
                    seconds,
                    sum(1 for b in WATERFALL_BRANCHES + TRADING_BRANCHES if self.branches[b]),
                    len(self.rare) + len(self.privileged),
                    len(self.reverts),
                    len(self.entry_points),
                )
            )
        if self.on_progress is not None and self.steps % self.PROGRESS_EVERY == 0:
            self.on_progress(self)

    def record_rare(self, seen: rare.Observation) -> None:
        """Count what ``rare.observe`` saw of one call."""
        self.rare.update(seen.rare)
        self.boundaries.update(seen.boundaries)
        self.privileged.update(f"{fn}|{role}" for fn, role in seen.privileged)

    def rare_counts(self) -> dict[str, int]:
        return rare.rare_counts(self.rare, self.privileged)

    def missing_rare(self, exempt: tuple[str, ...] = ()) -> list[str]:
        return [b for b, n in self.rare_counts().items() if not n and b not in exempt]

    def record_sequence(self, calls: list) -> None:
        text = repr([(c.target, c.fn, c.sender, c.args) for c in calls])  # half of str's cost
        self.fingerprints.add(hashlib.blake2b(text.encode(), digest_size=8).hexdigest())

    def sequence_end(self, fund: int, floor: int) -> None:
        self.sequence_funds.append(fund)
        self.insurance_floor = floor

    def record_gain(self, gain: int, calls: list, parts: tuple = (0, 0, 0)) -> None:
        """A sequence's best attacker gain, the calls that reached it and its ``parts``
        (``attacker.GAIN_PARTS``), if the best so far."""
        if gain > self.best_gain:
            self.best_gain, self.best_gain_calls = gain, [str(c) for c in calls]
            self.best_gain_parts = dict(zip(GAIN_PARTS, parts, strict=True))

    def missing_branches(self) -> list[str]:
        return [b for b in WATERFALL_BRANCHES + TRADING_BRANCHES if not self.branches[b]]

    def to_dict(self) -> dict:
        return {
            "steps": self.steps,
            "sequences": self.sequences,
            "failing": self.failing,
            "views": self.views,
            "calls": dict(self.calls),
            "entry_points": dict(self.entry_points),
            "successes": dict(self.successes),
            "reverts": {str(k): v for k, v in self.reverts.items()},
            "view_reverts": dict(self.view_reverts),
            "branches": dict(self.branches),
            "events": dict(self.events),
            "series": self.series,
            "throughput": self.throughput,
            "reached": self.reached,
            "amounts": dict(self.amounts),
            "sequence_funds": self.sequence_funds,
            "insurance_floor": self.insurance_floor,
            "best_gain": self.best_gain,
            "best_gain_calls": self.best_gain_calls,
            "best_gain_parts": self.best_gain_parts,
            "rare": dict(self.rare),
            "boundaries": dict(self.boundaries),
            "privileged": dict(self.privileged),
        }
