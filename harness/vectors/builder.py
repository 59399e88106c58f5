"""The builder behind every case in ``tests/cases``: calls run on spec and chain, and the
case's vector rendered from the spec side.

A case makes pre-calls (``case(fn, sender, *args)``), then one action (``case.act``).
Every call goes through a ``CheckedSequence``: spec and chain must agree on the outcome,
the events and the full state, and every invariant must hold. A pre-call must succeed
unless it is told the reason it reverts with; a rejected pre-call changes nothing and is
left out of the vector. The action renders the vector, which the test then compares with
the committed file (or writes, under ``make vectors``).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.actions import price_stamp
from harness.core.branches import taken as branches_taken
from harness.core.call import CLOCK, Call, Calldata, call_to_json
from harness.core.dump import spec_dump
from harness.core.orders import Match
from harness.core.pair import Pair
from harness.core.sequence import CheckedSequence
from harness.vectors.format import CATEGORIES, FORMAT, dumps, events_json, setup_json, state_json
from pyspec import margin, views
from pyspec.state import State


def settle_trade(
    buyer: str = "trader0",
    seller: str = "trader1",
    size: int = 1,
    price: int = 10**6,
    *,
    market: int = 0,
    buyer_is_taker: bool = True,
    sender: str = "operator",
) -> Match:
    """A signed match, by keyword (the defaults are a valid 1-lot trade)."""
    return Match(buyer, seller, market, size, price, buyer_is_taker, sender)


def call(fn: str, sender: str, *args, target: str = "engine") -> Call:
    """A call to the engine (or to ``target``) by its parts."""
    return Call(target, fn, sender, args)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One row of a rejection table: ``pre`` calls (each a ``Call`` or an engine call's
    ``(fn, sender, *args)``), then ``call``, which must revert with ``reason``."""

    name: str
    description: str
    call: Call | Match
    reason: str
    pre: tuple = ()


class Builder:
    """One case on one pair; ``named`` before the action when the test function's name
    and docstring are not the vector's."""

    def __init__(self, pair: Pair, category: str, name: str, description: str):
        self.pair = pair
        self.sequence = CheckedSequence(pair)
        self.pre: list[Call] = []
        self.vector: dict | None = None
        self.named(category, name, description)

    def named(self, category: str, name: str, description: str) -> None:
        self.category, self.name, self.description = category, name, description

    @property
    def path(self) -> str:
        """The vector's path relative to ``tests/vectors``."""
        return f"{self.category}/{self.name}.json"

    # -- calls ----------------------------------------------------------------------------
    def __call__(
        self, fn: str | Call, sender: str = "", *args, target: str = "engine", reverts=None
    ) -> list:
        """A pre-call (a ``Call``, a ``Match`` or its parts); return its events."""
        call = self.resolve(fn, sender, args, target)
        outcome = self.sequence.call(call)
        assert outcome.reason == reverts, f"pre-call {call}: {outcome.reason!r}, not {reverts!r}"
        if outcome.success:
            self.pre.append(call)
        return outcome.events

    def resolve(self, fn, sender: str = "", args: tuple = (), target: str = "engine") -> Call:
        """The call to run: ``fn`` itself, a ``Match`` signed now, or a call by its parts."""
        if isinstance(fn, Match):
            return fn.call(self.state, self.pair.actors)
        return fn if isinstance(fn, Call) else Call(target, fn, sender, args)

    def attempt(self, call: Call | Match) -> bool:
        """A pre-call whatever its outcome (spec and chain must still agree); a
        successful one joins the vector's pre-calls. Return whether it succeeded."""
        call = self.resolve(call)  # a Match signed now: the vector keeps the signed call
        outcome = self.sequence.call(call)
        if outcome.success:
            self.pre.append(call)
        return outcome.success

    def price(self, market_id: int, price: int) -> None:
        """The oracle publishes ``price`` now (a second later when the last price is from
        this very second)."""
        waits, timestamp = price_stamp(self.state, market_id)
        for wait in waits:
            self(wait)
        self("update_price", "oracle", market_id, price, timestamp)

    def govern(self, fn: str, *args, target: str = "engine") -> None:
        """``fn(*args)`` through the Governor (``governed``), executed as a pre-call."""
        self(self.governed(fn, *args, target=target))

    def governed(self, fn: str, *args, target: str = "engine") -> Call:
        """Schedule ``fn(*args)`` on the Governor, let the delay pass, have the oracle
        publish every price again (the delay aged them), unchanged; return the execution,
        which anyone may send."""
        data = Calldata(fn, args)
        self(Call("governor", "schedule", "owner", (target, data)))
        self(Call(CLOCK, "wait", "", (self.state.timelock.delay,)))
        for market_id, market in enumerate(self.state.markets):
            if not market.settled and market.price > 0:
                self("update_price", "oracle", market_id, market.price, self.state.timestamp)
        return Call("governor", "execute", "outsider", (target, data))

    def act(
        self,
        fn: str | Call,
        sender: str = "",
        *args,
        target: str = "engine",
        reverts: str | None = None,
        branches: tuple[str, ...] = (),
    ) -> list:
        """The action. ``reverts``: the expected reason (None: it must succeed);
        ``branches``: the waterfall / funding / fee branches it must take. Renders
        the vector; return the action's events."""
        assert self.vector is None, "a case has one action"
        call = self.resolve(fn, sender, args, target)
        pre_state = self.state_json()
        before = self.state.copy()
        outcome = self.sequence.call(call)
        assert outcome.reason == reverts, f"{call}: expected {reverts!r}, got {outcome.reason!r}"
        taken = branches_taken(before, outcome.events) if outcome.success else []
        missing = [b for b in branches if b not in taken]
        assert not missing, f"{call}: branches {missing} not taken (took {taken})"
        result = {
            "pre_state": pre_state,
            "action": call_to_json(call),
            "post_state": self.state_json() if outcome.success else None,
        }
        if outcome.success:
            result["events"] = events_json(outcome.events, self.pair.names)
        else:
            result["revert_reason"] = outcome.reason
        p = self.pair
        self.vector = {
            "format": FORMAT,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "setup": setup_json(p.actors, p.token_address, p.engine_address, p.config),
            "pre_calls": [call_to_json(c) for c in self.pre],
            **result,
        }
        return outcome.events

    def rejected(self, row: Rejection) -> None:
        """A whole rejection-table row: its pre-calls, then its call with its reason."""
        self.named(self.category, row.name, row.description)
        for pre in row.pre:
            self(pre) if isinstance(pre, Call) else self(*pre)
        self.act(row.call, reverts=row.reason)

    def render(self) -> str:
        assert self.vector is not None, f"{self.name}: the case made no action"
        assert self.category in CATEGORIES, f"{self.category}: not a vector category"
        return dumps(self.vector)

    # -- the spec state, for choosing calls -------------------------------------------------
    @property
    def state(self) -> State:
        return self.pair.state

    @property
    def names(self) -> dict[str, str]:
        return self.pair.names

    def address(self, name: str) -> str:
        return self.pair.address(name)

    def state_json(self) -> dict:
        p = self.pair
        return state_json(spec_dump(p.state, p.accounts), p.accounts, p.names)

    def equity(self, name: str) -> int:
        return margin.equity(self.state, self.address(name))

    def free(self, name: str) -> int:
        return views.free_collateral(self.state, self.address(name))

    def size(self, name: str, market_id: int = 0) -> int:
        account = self.state.accounts.get(self.address(name))
        position = account.positions.get(market_id) if account else None
        return position.size if position else 0
