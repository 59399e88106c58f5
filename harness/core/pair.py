"""A deployed protocol on a chain beside its spec state, driven call by call.

``Pair.apply`` runs one call on both sides and demands the same outcome: the same
success or revert reason, the same events in the same order, and the same state: every
``full_every`` steps the full state (from storage on the embedded chain), at every
``check_full``, which a sequence's end calls, the full state through the lens; in
between, the globals and every market's fields and holders, and the accounts, order
digests and Governor calls the call could have changed: those whose spec state changed,
those it names and those its events name, an account only in the markets the call names
or changed. After a reverted call (the EVM undid it) only what the spec changed is read.
A change on the chain alone anywhere else is caught at the next full comparison, unless a
later call writes the same value on both sides before it.
"""

from collections import Counter
from dataclasses import dataclass

from deployment.config import DeploymentConfig
from harness.core import genesis, readable, view_queries
from harness.core.call import BUNDLE, CLOCK, Call
from harness.core.chain_state import LensReader, StorageReader, hand_written
from harness.core.dump import (
    account_words,
    changed_markets,
    dumped_call_ids,
    dumped_digests,
    first_difference,
    parse,
    parse_words,
    spec_dump,
    spec_globals,
    spec_markets,
)
from harness.core.invariants import CHECKS, KeptBooks
from harness.core.orders import Match
from harness.core.spec_step import resolve, spec_apply
from harness.evm import artifacts
from harness.evm.abi import EventDecoder, FunctionCodec
from harness.evm.base import Chain, TxResult
from pyspec.constants import MAX_MARKETS
from pyspec.state import State


@dataclass(frozen=True, slots=True)
class Outcome:
    success: bool
    reason: str | None
    events: list  # the spec's events (equal to the chain's when apply returns)
    gas_used: int


class Divergence(AssertionError):
    """Spec and chain disagreed; ``kind`` is "revert", "events", "state" or "view".
    ``names`` (address -> actor) names the addresses in the message."""

    def __init__(
        self, call: Call, kind: str, field: str, spec, chain, names: dict[str, str] | None = None
    ):
        self.call, self.kind, self.field, self.spec, self.chain = call, kind, field, spec, chain
        self.names = names or {}
        super().__init__(
            f"{kind} divergence after {readable.describe(call, self.names)}\n"
            f"  field: {field}\n"
            f"  spec:  {readable.shown(spec, self.names)}\n"
            f"  chain: {readable.shown(chain, self.names)}\n"
            + "".join(f"  differs: {d}\n" for d in self.differences()).rstrip("\n")
        )

    def differences(self) -> list[str]:
        """Each part of the field that differs: ``part: spec X | chain Y``."""
        return readable.differences(self.field, self.spec, self.chain, self.names)


def check_events(call: Call, spec: list, chain: list, names: dict[str, str] | None = None) -> None:
    """Raise ``Divergence`` at the first event that differs (name and arguments)."""
    CHECKS["events"] += 1
    if chain == spec:
        return
    index = next(
        (i for i, (a, b) in enumerate(zip(spec, chain, strict=False)) if a != b),
        min(len(spec), len(chain)),
    )
    raise Divergence(
        call,
        "events",
        f"event #{index}",
        spec[index] if index < len(spec) else None,
        chain[index] if index < len(chain) else None,
        names,
    )


# The contracts a fresh pair deploys (the harness's attacker contract aside).
DEPLOYED = ("MockToken", "PerpEngine", "StateLens", "Settlement", "PerpViews", "Governor")


class Pair:
    """Token, engine and state lens deployed on ``chain``, mirrored by a spec ``State``."""

    # steps between two full state comparisons (1: every step)
    full_every = 16

    def __init__(
        self,
        chain: Chain,
        config: DeploymentConfig = genesis.DEFAULT_CONFIG,
        n_traders: int = genesis.N_TRADERS,
    ):
        self.chain = chain
        self.config = config
        self.markets = config.markets
        art = {name: artifacts.load(name) for name in DEPLOYED}
        self.actors = dict(zip(genesis.actor_names(n_traders), chain.accounts, strict=False))
        self.traders = genesis.trader_names(n_traders)
        self.residents: list[str] = []  # a fresh deployment has no users of its own
        owner = self.actors["owner"]
        self.token_address = chain.deploy(art["MockToken"].initcode(), owner)
        self.allocator_address, self.governance_address = genesis.deploy_engine_code(chain, owner)
        # The engine names the Settlement and the Governor, deployed after it at known
        # addresses: Settlement next, then the views, then the Governor.
        settlement_address = genesis.create_address(owner, chain.nonce(owner) + 1)
        governor_address = genesis.create_address(owner, chain.nonce(owner) + 3)
        self.engine_address = chain.deploy(
            art["PerpEngine"].initcode(
                self.token_address,
                self.allocator_address,
                self.governance_address,
                self.actors["oracle"],
                settlement_address,
                governor_address,
                config.liquidator_share_ratio,
                config.insurance_floor,
            ),
            owner,
        )
        self.settlement_address = chain.deploy(
            art["Settlement"].initcode(self.engine_address, self.actors["operator"]), owner
        )
        assert self.settlement_address == settlement_address
        self.views_address = chain.deploy(art["PerpViews"].initcode(self.engine_address), owner)
        self.governor_address = chain.deploy(
            art["Governor"].initcode(
                self.engine_address, self.settlement_address, config.governance_delay
            ),
            owner,
        )
        assert self.governor_address == governor_address
        self.lens_address = chain.deploy(art["StateLens"].initcode(), owner)
        self.actors[genesis.ATTACKER] = chain.deploy(artifacts.load("Bundler").initcode(), owner)
        # Every account whose balances the state comparison covers.
        self.accounts = [self.actors[n] for n in genesis.state_accounts(n_traders)]
        self._wire()
        if hasattr(chain, "storage"):  # the embedded chain: partial reads from storage
            self._storage = StorageReader(chain, self._contracts, art, self.lens_address)
        self.clock = chain.now()  # the block time of every later call; moved by waits
        chain.set_time(self.clock)
        self.state = genesis.new_spec_state(
            self.actors, self.token_address, config, timestamp=self.clock
        )
        self._set_up(genesis.setup_calls(config, n_traders, self.clock))

    @classmethod
    def attach(
        cls,
        chain: Chain,
        state: State,
        contracts: dict[str, str],
        actors: dict[str, str],
        traders: list[str],
        accounts: list[str],
        setup: list[Call],
        deployer: str,
        residents: list[str] = (),
    ) -> "Pair":
        """A pair on an instance already deployed on ``chain`` (a fork of someone's
        chain), whose spec state is ``state`` (imported at the chain's latest block):
        nothing of the instance is redeployed. ``contracts`` has the "token", "engine",
        "settlement", "views" and "governor" addresses; ``actors`` names every sender
        (the attacker contract and the state lens are deployed by ``deployer``);
        ``accounts`` are the compared ones; ``setup`` (funding the harness actors) runs
        checked, like a fresh pair's setup, before the base snapshot; ``residents`` name
        the instance's own users among ``actors`` (``World.residents``)."""
        pair = cls.__new__(cls)
        pair.chain, pair.config, pair.markets = chain, None, None
        pair.token_address = contracts["token"]
        pair.engine_address = contracts["engine"]
        pair.settlement_address = contracts["settlement"]
        pair.views_address = contracts["views"]
        pair.governor_address = contracts["governor"]
        pair.allocator_address = contracts.get("allocator")
        pair.governance_address = contracts.get("governance")
        pair.actors, pair.traders, pair.residents = dict(actors), list(traders), list(residents)
        pair.lens_address = chain.deploy(artifacts.load("StateLens").initcode(), deployer)
        bundler = artifacts.load("Bundler").initcode()
        pair.actors[genesis.ATTACKER] = chain.deploy(bundler, deployer)
        pair.accounts = [*accounts, pair.actors[genesis.ATTACKER]]
        pair._wire()
        pair.clock = chain.now()
        chain.set_time(pair.clock)
        assert state.timestamp == pair.clock, "the state is not the chain's latest block's"
        pair.state = state
        pair._set_up(setup)
        return pair

    def _wire(self) -> None:
        """The codecs, call targets and event decoders of the deployed contracts."""
        token_art = artifacts.load("MockToken")
        engine_art = artifacts.load("PerpEngine")
        lens_art = artifacts.load("StateLens")
        settlement_art = artifacts.load("Settlement")
        views_art = artifacts.load("PerpViews")
        governor_art = artifacts.load("Governor")
        bundler_art = artifacts.load("Bundler")
        self.actors["engine"] = self.engine_address
        self.actors["settlement"] = self.settlement_address
        self.actors["governor"] = self.governor_address
        self.names = {address: name for name, address in self.actors.items()}
        self._codecs = {
            "engine": {f["name"]: FunctionCodec(f) for f in _functions(engine_art.abi)},
            "token": {f["name"]: FunctionCodec(f) for f in _functions(token_art.abi)},
            "settlement": {f["name"]: FunctionCodec(f) for f in _functions(settlement_art.abi)},
            "views": {f["name"]: FunctionCodec(f) for f in _functions(views_art.abi)},
            "governor": {f["name"]: FunctionCodec(f) for f in _functions(governor_art.abi)},
            BUNDLE: {f["name"]: FunctionCodec(f) for f in _functions(bundler_art.abi)},
        }
        self._targets = {
            "engine": self.engine_address,
            "token": self.token_address,
            "settlement": self.settlement_address,
            "views": self.views_address,
            "governor": self.governor_address,
            BUNDLE: self.actors[genesis.ATTACKER],
        }
        self._decoders = {
            self.engine_address: EventDecoder(engine_art.abi),
            self.token_address: EventDecoder(token_art.abi),
            self.settlement_address: EventDecoder(settlement_art.abi),
            self.governor_address: EventDecoder(governor_art.abi),
        }
        contracts = ("engine", "token", "settlement", "governor")
        self._contracts = {c: getattr(self, f"{c}_address") for c in contracts}
        self._lens = LensReader(self.chain, self.lens_address, self._contracts, lens_art)
        # where each function takes a market id: the markets a call names
        self._market_args = {
            (target, f["name"]): [i for i, p in enumerate(f["inputs"]) if p["name"] == "market_id"]
            for target, art in (("engine", engine_art), ("settlement", settlement_art))
            for f in _functions(art.abi)
        }
        # reads a partial comparison's words from storage (embedded chain, fresh deployment)
        self._storage: StorageReader | None = None
        self._seen: dict | None = None  # what the last comparison saw of the spec
        self._books = KeptBooks()  # spec_parsed's accounts, books and totals
        self._seen_state: State | None = None  # the state object ``_seen`` was read from
        self._since_full = 0
        self.dump_full = True  # whether the last comparison was a full one

    def _set_up(self, calls: list[Call]) -> None:
        """Run the setup ``calls`` checked, compare in full, and keep the result as the
        base every sequence starts from (``reset``)."""
        for call in calls:
            outcome = self.apply(call)
            assert outcome.success, f"setup call {call} failed: {outcome.reason}"
        self.check_full(None)
        self._base_state = self.state.copy()
        self._base_dump = self.last_dump
        self._base_seen = self._seen
        self._base_snapshot = self.chain.snapshot()
        self._marks = 0  # marks standing (``mark``, ``release``)

    def reset(self) -> None:
        """Return both sides to the state right after setup (snapshot, not redeploy)."""
        if self._marks:  # their checkpoints would go stale, and silently so
            raise RuntimeError(f"{self._marks} marks standing: release them before a reset")
        self.chain.revert(self._base_snapshot)
        self.state = self._base_state.copy()
        self.clock = self.state.timestamp
        self.chain.set_time(self.clock)
        self.last_dump = self._base_dump
        self._seen = self._base_seen  # read from the base state, equal to this copy
        self._seen_state = self.state
        self._since_full = 0

    def mark(self) -> tuple:
        """A point to come back to (``restore``): the chain's snapshot and the spec state
        with what the last comparison saw of it. Taken between calls; each stands until
        ``release``."""
        self._marks += 1
        return (
            self.chain.snapshot(),
            self.state.copy(),
            self.clock,
            self.last_dump,
            self._seen,
            self._since_full,
            self.dump_full,
        )

    def restore(self, mark: tuple) -> None:
        """Return both sides to ``mark``; the marks taken after it are released first
        (``release``), latest first."""
        snapshot, state, self.clock, self.last_dump, self._seen, self._since_full, full = mark
        self.chain.revert(snapshot)
        self.chain.set_time(self.clock)
        self.state = state.copy()
        self._seen_state = self.state  # ``_seen`` was read from the state marked
        self.dump_full = full

    def release(self, mark: tuple) -> None:
        """Spend a mark no longer needed, the latest first: the chain returns to it and
        forgets it (a checkpoint left standing deepens the embedded chain's journal)."""
        self.chain.revert(mark[0], rearm=False)
        self._marks -= 1

    def address(self, name: str) -> str:
        return self.actors[name]

    def apply(self, call: Call | Match, before: State | None = None) -> Outcome:
        """Run ``call`` on the spec and on the chain (a ``Match`` signed first, in the
        current state); raise ``Divergence`` if they disagree. ``before``: a copy of the
        spec state the caller made (``spec_apply``'s ``saved``)."""
        if isinstance(call, Match):
            call = call.call(self.state, self.actors)
        self.state, spec_reason, events = spec_apply(self.state, self.actors, call, before)
        if call.target == CLOCK:
            self.wait(call.args[0])
            self.check_state(call, [])
            return Outcome(True, None, [], 0)
        result = self.chain.transact(
            self.actors[call.sender], self._targets[call.target], self.calldata(call)
        )
        spec_ok = spec_reason is None
        CHECKS["reverts"] += 1
        if result.success != spec_ok or result.reason != spec_reason:
            raise Divergence(
                call,
                "revert",
                "outcome",
                "ok" if spec_ok else f"revert {spec_reason!r}",
                "ok" if result.success else f"revert {result.reason!r}",
                self.names,
            )
        chain_events = [self._decoders[log.address].decode(log) for log in result.logs]
        check_events(call, events, chain_events, self.names)
        self.check_state(call, events, reverted=not spec_ok)
        return Outcome(spec_ok, spec_reason, events, result.gas_used)

    def check_views(self, names: list[str], reverts: Counter | None = None) -> int:
        """Compare every trader view on spec and chain for the actors ``names``, and every
        market view (``view_queries``); return how many were compared. ``reverts`` counts
        the reasons both sides refused with."""
        compared = 0
        for name in [*names, None]:
            if name is None:  # the market views and the haircuts' bound, once
                queries = view_queries.market_queries(self.state)
            else:
                queries = view_queries.account_queries(self.state, self.actors[name])
            for fn, spec_view, args in queries:
                expected = view_queries.expected(spec_view, self.state, args)
                target = "views" if fn in view_queries.PERP_VIEWS else "engine"
                codec = self._codecs[target][fn]
                result = self.chain.call(self._targets[target], codec.encode(args))
                actual = codec.decode(result.output) if result.success else result.reason
                CHECKS["views"] += 1
                if actual != expected:
                    call = Call(target, fn, name or "outsider", args)
                    field = readable.signature(call, self.names)
                    raise Divergence(call, "view", field, expected, actual, self.names)
                if reverts is not None and not result.success:
                    reverts[actual] += 1
                compared += 1
        return compared

    def wait(self, seconds: int) -> None:
        """Move the chain's block time forward (the spec's moves in ``spec_apply``)."""
        self.clock += seconds
        self.chain.set_time(self.clock)

    def send(self, call: Call):
        """Run ``call`` on the chain only (contract unit tests); return the ``TxResult``;
        a wait returns a successful empty result."""
        if call.target == CLOCK:
            self.wait(call.args[0])
            return TxResult(True, None, (), 0, b"")
        return self.chain.transact(
            self.actors[call.sender], self._targets[call.target], self.calldata(call)
        )

    def calldata(self, call: Call) -> bytes:
        """``call``'s transaction data; a bundle's holds each bundled call's target and
        data (its sender is the attacker contract, which makes the call)."""
        if call.target == BUNDLE:
            steps = [(self._targets[c.target], self.calldata(c)) for c in call.args]
            return self._codecs[BUNDLE]["execute"].encode((steps,))
        args = resolve(self.actors, call.args)
        return self._codecs[call.target][call.fn].encode(args)

    def chain_dump(
        self,
        digests: list[bytes] | None = None,
        call_ids: list[bytes] | None = None,
        accounts: list[str] | None = None,
        market_ids: list[int] | None = None,
    ) -> list[int]:
        """The chain's state in the layout of ``spec_dump``, through the lens: the engine's,
        the order book's for ``digests`` and the Governor's for ``call_ids`` (by default
        those the spec touched last), for ``accounts`` (by default every one), in the
        markets ``market_ids`` (by default every one)."""
        return self._lens.dump(
            dumped_digests(self.state) if digests is None else digests,
            dumped_call_ids(self.state) if call_ids is None else call_ids,
            self.accounts if accounts is None else accounts,
            market_ids,
        )

    def partial_dump(self, digests, call_ids, accounts, market_ids, getters=True) -> list[int]:
        """``chain_dump`` for a partial comparison: from storage on the embedded chain,
        the hand-written ``getters`` called or not (``chain_state.StorageReader``)."""
        if self._storage is None:
            return self._lens.dump(digests, call_ids, accounts, market_ids)
        return self._storage.dump(digests, call_ids, accounts, market_ids, getters)

    def check_state(self, call: Call, events: list = (), reverted: bool = False) -> None:
        """Compare the state after ``call`` (whose spec events are ``events``): in full
        every ``full_every`` steps, else what the call could have changed. A ``reverted``
        call changed nothing on the chain (the EVM undid it): only what the spec changed
        is read, and nothing when the spec rolled back whole."""
        self._since_full += 1
        if self._since_full >= self.full_every:  # from storage where the chain has one
            self.check_full(call, lens=self._storage is None)
            return
        if self._seen is None:  # setup: no full comparison yet
            self.check_full(call)
            return
        seen = self._observe()
        named = set() if reverted else self._named(call)
        for _, args in events:
            named.update(self._addresses(args))
        previous = self._seen
        count = len(seen["markets"])
        markets = set() if reverted else self._named_markets(call, count)
        was = previous["markets"]
        markets.update(m for m in range(count) if m >= len(was) or seen["markets"][m] != was[m])
        accounts = []
        for a in self.accounts:
            now, before = seen["accounts"][a], previous["accounts"].get(a)
            if now != before:
                accounts.append(a)
                markets |= changed_markets(now, before, count)
                continue
            seen["accounts"][a] = before  # kept whole: ``spec_parsed`` reuses its books
            if a in named:
                accounts.append(a)
        market_ids = sorted(markets)
        digests = [d for d, v in seen["digests"].items() if previous["digests"].get(d) != v]
        call_ids = [c for c, v in seen["calls"].items() if previous["calls"].get(c) != v]
        self._seen = seen
        self.dump_full = False
        if reverted and not (accounts or markets or digests or call_ids):
            if seen["globals"] == previous["globals"]:
                return  # equal before the call, and neither side changed
        getters = hand_written(previous) != hand_written(seen)
        chain = self.partial_dump(digests, call_ids, accounts, market_ids, getters)
        spec = spec_dump(
            self.state, accounts, digests, call_ids, seen["accounts"], seen["head"], market_ids
        )
        CHECKS["state"] += 1
        difference = first_difference(spec, chain, accounts, self.names, market_ids)
        if difference is not None:
            raise Divergence(call, "state", *difference, self.names)

    def check_full(self, call: Call | None, lens: bool = True) -> None:
        """Compare the full state (``call``: the last call, for the report), read through
        the lens, or from storage (every getter written by hand called) if not ``lens``."""
        self._since_full = 0
        previous, self._seen = self._seen, self._observe()
        if previous is not None:  # unchanged words kept whole, as ``check_state`` does
            words, was = self._seen["accounts"], previous["accounts"]
            for a, now in words.items():
                if was.get(a) == now:
                    words[a] = was[a]
        self.dump_full = True
        digests, call_ids = dumped_digests(self.state), dumped_call_ids(self.state)
        chain = self.last_dump = (
            self.chain_dump(digests, call_ids)
            if lens
            else self._storage.dump(digests, call_ids, self.accounts, range(MAX_MARKETS))
        )
        spec = spec_dump(
            self.state, self.accounts, words=self._seen["accounts"], head=self._seen["head"]
        )
        CHECKS["state"] += 1
        difference = first_difference(spec, chain, self.accounts, self.names)
        if difference is not None:
            raise Divergence(
                call or Call(CLOCK, "full comparison", "outsider", ()),
                "state",
                *difference,
                self.names,
            )

    def spec_parsed(self) -> dict:
        """The spec's state now for the state invariants, as ``dump.parse`` reads a dump.
        From the words the last comparison read when it read this same state object (a
        call changes or replaces the state only through ``apply``, which compares again)."""
        if self._seen is None or self._seen_state is not self.state:
            return parse(spec_dump(self.state, self.accounts, [], []), len(self.accounts))
        seen = self._seen
        parsed = parse_words(seen["globals"], seen["markets"], [])
        words = [seen["accounts"][address] for address in self.accounts]
        parsed["accounts"], parsed["books"], parsed["totals"] = self._books.read(parsed, words)
        return parsed

    def _observe(self) -> dict:
        """The spec's per-account words, order digests and Governor calls now: what a
        partial comparison compares where they changed."""
        state, book = self.state, self.state.book
        self._seen_state = state
        words, markets = spec_globals(state), spec_markets(state)
        head = list(words)
        for market in markets:
            head.extend(market)
        return {
            "globals": words,
            "markets": markets,
            "head": head,
            "accounts": {a: account_words(state, a) for a in self.accounts},
            "digests": {
                d: (book.filled.get(d, 0), book.cancelled.get(d, False))
                for d in dumped_digests(state)
            },
            "calls": {c: state.timelock.eta.get(c, 0) for c in dumped_call_ids(state)},
        }

    def _named_markets(self, call: Call, count: int) -> set[int]:
        """The markets (of ``count``) ``call`` takes as a market id (a bundle's calls' too)."""
        if call.target == BUNDLE:
            return set().union(*(self._named_markets(inner, count) for inner in call.args))
        at = self._market_args.get((call.target, call.fn), ())
        args = [call.args[i] for i in at if i < len(call.args)]
        return {a for a in args if isinstance(a, int) and 0 <= a < count}

    def _named(self, call: Call) -> set[str]:
        """The sender's address and every address among ``call``'s arguments (a bundle's
        calls' too)."""
        named = {self.actors.get(call.sender, call.sender)}
        if call.target == BUNDLE:
            for inner in call.args:
                named |= self._named(inner)
            return named
        named.update(self._addresses(resolve(self.actors, call.args)))
        return named

    def _addresses(self, values) -> list[str]:
        """Every address among ``values`` (nested in tuples and lists too)."""
        out = []
        for value in values:
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                out.append(value.lower())
            elif isinstance(value, tuple | list):
                out.extend(self._addresses(value))
        return out


def _functions(abi: list) -> list[dict]:
    return [item for item in abi if item.get("type") == "function"]
