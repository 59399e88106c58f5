"""A deployed protocol on a chain beside its spec state, driven call by call.

``Protocol.apply`` runs one call on both sides and demands the same outcome: the same
success or revert reason, the same events in the same order, and the same full state.
Calls name accounts by actor ("trader3"), never by address, so a recorded sequence
replays on any deployment.
"""

from dataclasses import dataclass

from harness import artifacts
from harness.abi import EventDecoder, FunctionCodec
from harness.chains import Chain
from harness.snapshot import first_difference, spec_dump
from pyspec import engine, margin, token, views
from pyspec.errors import Revert
from pyspec.state import State

MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True, slots=True)
class MarketConfig:
    initial_margin_ratio: int
    maintenance_margin_ratio: int
    liquidation_fee_ratio: int
    price_band_ratio: int
    max_funding_rate: int
    maker_fee_ratio: int
    taker_fee_ratio: int
    initial_price: int

    def listing(self) -> tuple:
        """The arguments of ``add_market``."""
        return (
            self.initial_margin_ratio,
            self.maintenance_margin_ratio,
            self.liquidation_fee_ratio,
            self.price_band_ratio,
            self.max_funding_rate,
            self.maker_fee_ratio,
            self.taker_fee_ratio,
        )


DEFAULT_MARKETS = (
    # 10x initial, 20x maintenance; funding up to 0.5% per update; fees 0.02% / 0.05%
    MarketConfig(100_000, 50_000, 10_000, 50_000, 5_000, 200, 500, 1_000_000),
    # 5x initial, 10x maintenance; funding up to 1% per update; fees 0 / 0.1%
    MarketConfig(200_000, 100_000, 20_000, 100_000, 10_000, 0, 1_000, 25_000_000),
)
LIQUIDATOR_SHARE_RATIO = 500_000
INSURANCE_FLOOR = 100 * 10**6
INITIAL_INSURANCE = 1_000 * 10**6
TRADER_FUNDS = 1_000_000 * 10**6


@dataclass(frozen=True, slots=True)
class Call:
    """One external call: ``target`` is "engine" or "token"; address arguments are actor names."""

    target: str
    fn: str
    sender: str
    args: tuple

    def __str__(self) -> str:
        args = ", ".join(repr(a) for a in self.args)
        return f"{self.sender} -> {self.target}.{self.fn}({args})"


@dataclass(frozen=True, slots=True)
class Outcome:
    success: bool
    reason: str | None
    events: list  # the spec's events (equal to the chain's when apply returns)
    gas_used: int


class Divergence(AssertionError):
    """Spec and chain disagreed; ``kind`` is "revert", "events", "state" or "view"."""

    def __init__(self, call: Call, kind: str, field: str, spec, chain):
        self.call, self.kind, self.field, self.spec, self.chain = call, kind, field, spec, chain
        super().__init__(
            f"{kind} divergence after {call}\n"
            f"  field: {field}\n  spec:  {spec!r}\n  chain: {chain!r}"
        )


def check_events(call: Call, spec: list, chain: list) -> None:
    """Raise ``Divergence`` at the first event that differs (name and arguments)."""
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
    )


def _spec_token_call(state: State, fn: str, sender: str, args: tuple) -> None:
    t = state.token
    if fn == "mint":
        token.mint(t, *args)
    elif fn == "approve":
        token.approve(t, sender, *args)
    elif fn == "transfer":
        token.transfer(t, sender, *args)
    elif fn == "transferFrom":
        token.transfer_from(t, sender, *args)
    else:
        raise KeyError(fn)


class Protocol:
    """Token, engine and state lens deployed on ``chain``, mirrored by a spec ``State``."""

    def __init__(self, chain: Chain, markets=DEFAULT_MARKETS, n_traders: int = 8):
        self.chain = chain
        self.markets = markets
        token_art = artifacts.load("MockToken")
        engine_art = artifacts.load("PerpEngine")
        lens_art = artifacts.load("StateLens")
        names = ["owner", "oracle", "operator", "outsider"] + [
            f"trader{i}" for i in range(n_traders)
        ]
        self.actors = dict(zip(names, chain.accounts, strict=False))
        self.traders = [f"trader{i}" for i in range(n_traders)]
        owner = self.actors["owner"]
        self.token_address = chain.deploy(token_art.initcode(), owner)
        self.engine_address = chain.deploy(
            engine_art.initcode(
                self.token_address,
                self.actors["oracle"],
                self.actors["operator"],
                LIQUIDATOR_SHARE_RATIO,
                INSURANCE_FLOOR,
            ),
            owner,
        )
        self.lens_address = chain.deploy(lens_art.initcode(), owner)
        self.actors["engine"] = self.engine_address
        self.names = {address: name for name, address in self.actors.items()}
        # Every account whose balances the state comparison covers.
        self.accounts = [self.actors[n] for n in ["owner", "outsider", *self.traders]]

        self._codecs = {
            "engine": {f["name"]: FunctionCodec(f) for f in _functions(engine_art.abi)},
            "token": {f["name"]: FunctionCodec(f) for f in _functions(token_art.abi)},
        }
        self._targets = {"engine": self.engine_address, "token": self.token_address}
        self._decoders = {
            self.engine_address: EventDecoder(engine_art.abi),
            self.token_address: EventDecoder(token_art.abi),
        }
        dump = FunctionCodec(next(f for f in _functions(lens_art.abi) if f["name"] == "dump"))
        self._dump_call = dump.encode((self.engine_address, self.token_address, self.accounts))

        self.state = engine.new_state(
            self.engine_address,
            token.Token(self.token_address),
            owner,
            self.actors["oracle"],
            self.actors["operator"],
            LIQUIDATOR_SHARE_RATIO,
            INSURANCE_FLOOR,
        )
        self._setup()
        self._base_state = self.state.copy()
        self._base_dump = self.last_dump
        self._base_snapshot = chain.snapshot()

    def _setup(self) -> None:
        for i, m in enumerate(self.markets):
            self.must("engine", "add_market", "owner", *m.listing())
            self.must("engine", "update_price", "oracle", i, m.initial_price, 1)
        for name in ["owner", "outsider", *self.traders]:
            self.must("token", "mint", "owner", name, TRADER_FUNDS)
            self.must("token", "approve", name, "engine", MAX_UINT256)
        self.must("engine", "top_up_insurance", "owner", INITIAL_INSURANCE)

    def must(self, target: str, fn: str, sender: str, *args) -> Outcome:
        outcome = self.apply(Call(target, fn, sender, args))
        assert outcome.success, f"setup call {fn} failed: {outcome.reason}"
        return outcome

    def reset(self) -> None:
        """Return both sides to the state right after setup (snapshot, not redeploy)."""
        self.chain.revert(self._base_snapshot)
        self.state = self._base_state.copy()
        self.last_dump = self._base_dump

    def address(self, name: str) -> str:
        return self.actors[name]

    def resolve(self, args: tuple) -> tuple:
        """Return ``args`` with actor names replaced by their addresses."""
        return tuple(self.actors[a] if isinstance(a, str) else a for a in args)

    def apply(self, call: Call) -> Outcome:
        """Run ``call`` on the spec and on the chain; raise ``Divergence`` if they disagree."""
        sender = self.actors[call.sender]
        args = self.resolve(call.args)

        saved = self.state.copy()
        self.state.events.clear()
        spec_reason = None
        try:
            if call.target == "engine":
                getattr(engine, "process_" + call.fn)(self.state, sender, *args)
            else:
                _spec_token_call(self.state, call.fn, sender, args)
        except Revert as revert:
            spec_reason = revert.reason
            self.state = saved
            self.state.events.clear()

        data = self._codecs[call.target][call.fn].encode(args)
        result = self.chain.transact(sender, self._targets[call.target], data)
        spec_ok = spec_reason is None
        if result.success != spec_ok or result.reason != spec_reason:
            raise Divergence(
                call,
                "revert",
                "outcome",
                "ok" if spec_ok else f"revert {spec_reason!r}",
                "ok" if result.success else f"revert {result.reason!r}",
            )
        events = list(self.state.events)
        chain_events = [self._decoders[log.address].decode(log) for log in result.logs]
        check_events(call, events, chain_events)
        self.check_state(call)
        return Outcome(spec_ok, spec_reason, events, result.gas_used)

    ACCOUNT_VIEWS = {
        "equity": margin.equity,
        "initial_margin": margin.initial_margin,
        "maintenance_margin": margin.maintenance_margin,
        "free_collateral": views.free_collateral,
        "health": views.health,
    }
    POSITION_VIEWS = {
        "liquidation_price": views.liquidation_price,
        "bankruptcy_price": views.bankruptcy_price,
        "adl_rank": views.adl_rank,
        "adl_quantile": views.adl_quantile,
    }

    def check_views(self, names: list[str]) -> int:
        """Compare every trader view on spec and chain for the actors ``names``; return
        how many were compared."""
        codecs = self._codecs["engine"]
        compared = 0
        for name in names:
            address = self.actors[name]
            queries = [(fn, spec, (address,)) for fn, spec in self.ACCOUNT_VIEWS.items()]
            queries += [
                (fn, spec, (address, market_id))
                for market_id in range(len(self.state.markets))
                for fn, spec in self.POSITION_VIEWS.items()
            ]
            for fn, spec_view, args in queries:
                expected = spec_view(self.state, *args)
                expected = tuple(expected) if isinstance(expected, tuple) else (expected,)
                result = self.chain.call(self.engine_address, codecs[fn].encode(args))
                actual = codecs[fn].decode(result.output) if result.success else result.reason
                if actual != expected:
                    call = Call("engine", fn, name, args)
                    raise Divergence(call, "view", f"{fn}{args}", expected, actual)
                compared += 1
        return compared

    def send(self, call: Call):
        """Run ``call`` on the chain only (contract unit tests); return the ``TxResult``."""
        args = self.resolve(call.args)
        data = self._codecs[call.target][call.fn].encode(args)
        return self.chain.transact(self.actors[call.sender], self._targets[call.target], data)

    def chain_dump(self) -> list[int]:
        out = self.chain.call(self.lens_address, self._dump_call).output
        count = int.from_bytes(out[32:64], "big")
        return [
            int.from_bytes(out[64 + 32 * i : 96 + 32 * i], "big", signed=True) for i in range(count)
        ]

    def check_state(self, call: Call) -> None:
        chain = self.last_dump = self.chain_dump()
        spec = spec_dump(self.state, self.accounts)
        difference = first_difference(spec, chain, self.accounts, self.names)
        if difference is not None:
            raise Divergence(call, "state", *difference)


def _functions(abi: list) -> list[dict]:
    return [item for item in abi if item.get("type") == "function"]
