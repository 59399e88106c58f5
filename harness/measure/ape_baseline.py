"""The benchmark's baseline: the differential check written the way an ape user would.

Ape contract objects on ape's local test network (``ethereum:local:test``, eth-tester on
py-evm): ape contract containers deployed with ``.deploy(sender=...)``,
``engine.deposit(amount, sender=account)``, reverts caught as ``ContractLogicError``
(its ``revert_message`` against the spec's reason), events from ``receipt.events``
against the spec's (name and arguments, in order), and after every step the full state
through the state lens (``lens.dump(...)``) against ``harness.core.dump.spec_dump``;
every view on the ``check_views`` steps. These are the checks ``Pair.apply`` and
``Pair.check_views`` make, so the comparison with ``harness.measure.bench``'s figures is
fair. Each sequence runs in ``chain.isolate()`` (ape's snapshot/restore), timed like
``Pair.reset``.

Every contract is deployed from a ``ContractType`` built from the harness's own build
(``artifacts``): ape's compile cache misses edits to imported modules, and the lens is
excluded from ``ape compile`` (see ape-config.yaml). Ape's test network has 10 accounts
by default; the protocol uses 12 (owner, oracle, operator, outsider, 8 traders), so
``test.number_of_accounts`` is raised to 12 (what ``test: number_of_accounts: 12`` in
ape-config.yaml would do); they are the same mnemonic's accounts as
``harness.evm.base.ACCOUNTS`` (checked).
"""

from __future__ import annotations

import logging
import time

from harness.core import genesis, view_queries
from harness.core.call import BUNDLE, CLOCK, VIEWS, Call
from harness.core.dump import dumped_call_ids, dumped_digests, first_difference, spec_dump
from harness.core.pair import Divergence, check_events
from harness.core.spec_step import resolve, spec_apply
from harness.evm import artifacts
from harness.evm.base import ACCOUNTS, CHAIN_ID
from pyspec.constants import EVERY_MARKET

NETWORK = "ethereum:local:test"


def _plain(value):
    """An ape value as the spec writes it (addresses lowercase, tuples for tuples)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, bytes):  # HexBytes digests
        return bytes(value)
    return value


class ApePair:
    """Token, engine and lens deployed with ape, beside a spec ``State``; use inside a
    connected ``ethereum:local:test`` context."""

    def __init__(self, config=genesis.DEFAULT_CONFIG, n_traders: int = genesis.N_TRADERS):
        import ape
        from ethpm_types import ContractType

        self.ape = ape
        self.error = ape.exceptions.ContractLogicError
        accounts = ape.accounts.test_accounts
        names = genesis.actor_names(n_traders)
        self.traders = genesis.trader_names(n_traders)
        self.ape_actors = {name: accounts[i] for i, name in enumerate(names)}
        self.actors = {name: a.address.lower() for name, a in self.ape_actors.items()}
        expected = dict(zip(names, ACCOUNTS, strict=False))
        assert self.actors == expected, "ape test accounts differ from harness.evm.base.ACCOUNTS"

        owner = self.ape_actors["owner"]

        def container(name: str):
            """``name`` as an ape contract container from the harness's own build: ape's
            compile cache misses edits to imported modules, and a stale build would be
            measured (and diverge) instead of today's contracts."""
            art = artifacts.load(name)
            contract_type = ContractType(
                contractName=name,
                abi=art.abi,
                deploymentBytecode={"bytecode": "0x" + art.bytecode.hex()},
            )
            return ape.contracts.ContractContainer(contract_type)

        self.token = container("MockToken").deploy(sender=owner)
        allocator = container("AdlAllocator").deploy(sender=owner)
        governance = container("EngineGovernance").deploy(allocator, sender=owner)
        # the engine names the Settlement and the Governor, deployed after it
        settlement = genesis.create_address(owner.address.lower(), owner.nonce + 1)
        governor = genesis.create_address(owner.address.lower(), owner.nonce + 3)
        self.engine = container("PerpEngine").deploy(
            self.token,
            allocator,
            governance,
            self.ape_actors["oracle"],
            settlement,
            governor,
            config.liquidator_share_ratio,
            config.insurance_floor,
            sender=owner,
        )
        self.settlement = container("Settlement").deploy(
            self.engine, self.ape_actors["operator"], sender=owner
        )
        assert self.settlement.address.lower() == settlement
        self.views = container("PerpViews").deploy(self.engine, sender=owner)
        self.governor = container("Governor").deploy(
            self.engine, self.settlement, config.governance_delay, sender=owner
        )
        assert self.governor.address.lower() == governor
        self.lens = container("StateLens").deploy(sender=owner)
        self.bundler = container("Bundler").deploy(sender=owner)
        self.ape_actors[genesis.ATTACKER] = self.bundler
        self.actors[genesis.ATTACKER] = self.bundler.address.lower()
        self.ape_actors["engine"] = self.engine
        self.actors["engine"] = self.engine.address.lower()
        self.ape_actors["settlement"] = self.settlement
        self.actors["settlement"] = settlement
        self.ape_actors["governor"] = self.governor
        self.actors["governor"] = governor
        self.contracts = {
            "engine": self.engine,
            "token": self.token,
            "settlement": self.settlement,
            "governor": self.governor,
            BUNDLE: self.bundler,
        }
        self.names = {address: name for name, address in self.actors.items()}
        account_names = genesis.state_accounts(n_traders)
        self.accounts = [self.actors[n] for n in account_names]
        self.dump_args = (self.engine, self.token, [self.ape_actors[n] for n in account_names])
        # Each event's argument names in ABI order (the spec's tuples are in ABI order).
        self.event_fields = {
            item["name"]: [i["name"] for i in item["inputs"]]
            for art in map(artifacts.load, ("PerpEngine", "MockToken", "Settlement", "Governor"))
            for item in art.abi
            if item.get("type") == "event"
        }

        assert self.ape.chain.chain_id == CHAIN_ID, "ape-config.yaml: test.provider.chain_id"
        self.state = genesis.new_spec_state(self.actors, self.token.address.lower(), config)
        for call in genesis.setup_calls(config, n_traders, self.ape.chain.pending_timestamp):
            self.apply(call)
        self.base_state = self.state.copy()

    def apply(self, call: Call) -> None:
        """Run ``call`` on the spec and through ape; raise ``Divergence`` on a difference."""
        if call.target == VIEWS:
            self.check_views(call.args)
            return
        if call.target == CLOCK:
            # py-evm's blocks follow the wall clock: a wait has no chain side here (the spec
            # takes the chain's block time before every transaction)
            self.state, _, _ = spec_apply(self.state, self.actors, call)
            return
        # py-evm mines each transaction in its own block, later than the last: the spec
        # takes the block time the chain will give it
        self.state.timestamp = self.ape.chain.pending_timestamp
        self.state, spec_reason, events = spec_apply(self.state, self.actors, call)
        method = getattr(self.contracts[call.target], call.fn)
        args = self._arguments(call)
        chain_reason, receipt = None, None
        try:
            receipt = method(*args, sender=self.ape_actors[call.sender])
        except self.error as error:
            chain_reason = error.revert_message
        spec_ok, chain_ok = spec_reason is None, receipt is not None
        if spec_ok != chain_ok or spec_reason != chain_reason:
            raise Divergence(
                call,
                "revert",
                "outcome",
                "ok" if spec_ok else f"revert {spec_reason!r}",
                "ok" if chain_ok else f"revert {chain_reason!r}",
                self.names,
            )
        chain_events = []
        if receipt is not None:
            for log in receipt.events:
                arguments = log.event_arguments
                fields = self.event_fields[log.event_name]
                chain_events.append((log.event_name, tuple(_plain(arguments[f]) for f in fields)))
        check_events(call, events, chain_events, self.names)
        chain = list(
            self.lens.dump(
                *self.dump_args,
                self.settlement,
                self.governor,
                dumped_digests(self.state),
                dumped_call_ids(self.state),
                EVERY_MARKET,
            )
        )
        spec = spec_dump(self.state, self.accounts)
        difference = first_difference(spec, chain, self.accounts, self.names)
        if difference is not None:
            raise Divergence(call, "state", *difference, self.names)

    def _arguments(self, call: Call) -> tuple:
        """``call``'s arguments; a bundle's are each bundled call's target and calldata."""
        if call.target != BUNDLE:
            return resolve(self.actors, call.args)
        steps = [
            (
                self.contracts[c.target].address,
                getattr(self.contracts[c.target], c.fn).encode_input(*self._arguments(c)),
            )
            for c in call.args
        ]
        return (steps,)

    def check_views(self, names) -> int:
        """Every view of the actors ``names`` and of the markets, on the spec and through
        ape (``Pair.check_views``, ``view_queries``)."""
        compared = 0
        for name in [*names, None]:
            if name is None:
                queries, address = view_queries.market_queries(self.state), None
            else:
                address = self.actors[name]
                queries = view_queries.account_queries(self.state, address)
            for fn, spec_view, args in queries:
                ape_args = tuple(self.ape_actors[name] if a == address else a for a in args)
                shown = tuple(name if a == address else a for a in args)
                expected = view_queries.expected(spec_view, self.state, args)
                contract = self.views if fn in view_queries.PERP_VIEWS else self.engine
                try:
                    actual = _plain(getattr(contract, fn)(*ape_args))
                    actual = actual if isinstance(actual, tuple) else (actual,)
                except self.error as error:
                    actual = error.revert_message
                if actual != expected:
                    call = Call("engine", fn, name or "outsider", shown)
                    raise Divergence(call, "view", f"{fn}{shown}", expected, actual, self.names)
                compared += 1
        return compared

    def run(self, sequences: list[list[Call]]) -> tuple[int, float]:
        """Each sequence from the post-setup state (a chain snapshot); (steps, seconds)."""
        chain = self.ape.chain
        steps = 0
        start = time.perf_counter()
        for sequence in sequences:
            # snapshot and restore, not chain.isolate(): isolate swallows exceptions, and
            # with them every divergence
            snapshot = chain.snapshot()
            try:
                self.state = self.base_state.copy()
                for call in sequence:
                    self.apply(call)
                steps += len(sequence)
            finally:
                chain.restore(snapshot)
        return steps, time.perf_counter() - start


def run(sequences: list[list[Call]], quiet: bool = True) -> tuple[int, float, dict]:
    """Connect to ape's local test network, deploy and set up (not timed), then run
    ``sequences``; return (steps, seconds, details)."""
    import ape

    if quiet:  # ape logs every confirmed transaction at INFO
        from ape.logging import logger

        logger.set_level("ERROR")
        logging.getLogger("ape").setLevel(logging.CRITICAL)
    previous = ape.config.test.number_of_accounts
    ape.config.test.number_of_accounts = len(genesis.actor_names())
    try:
        with ape.networks.parse_network_choice(NETWORK) as provider:
            pair = ApePair()
            steps, seconds = pair.run(sequences)
            details = {"network": NETWORK, "provider": type(provider).__name__}
    finally:
        ape.config.test.number_of_accounts = previous
    return steps, seconds, details
