"""A deployed instance's state as a spec ``State``, read from the contracts' own views and
events at one block, and the chain's own dump of it for comparison.

Getters give every value; events say which keys to read: the accounts (every address an
engine or Settlement event names, and every market holder), the order digests (filled or
cancelled) and the Governor's call ids (scheduled). Every read is pinned to one block, so
the state is one the chain held. Nothing is written to the node: ``lens_dump`` runs
``StateLens`` over an ``eth_call`` state override instead of deploying it.
"""

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from harness.core.dump import MARKET_FIELDS, dumped_call_ids, dumped_digests, stamp_fields
from harness.evm import artifacts
from harness.evm.abi import EventDecoder, FunctionCodec
from harness.evm.base import ChainError, Log
from pyspec import governor
from pyspec.constants import EVERY_MARKET, NEW_MONEY_EPOCH_SHIFT, NEW_MONEY_MASK
from pyspec.state import Account, Market, OrderBook, Position, State, Timelock
from pyspec.token import ZERO_ADDRESS, Token

_CONTRACTS = ("PerpEngine", "Settlement", "Governor", "PerpViews")
Rpc = Callable[[str, list], object]  # (method, params) -> result: RpcChain.rpc, ape's
# the lens's address in the state override: no contract lives there
LENS_ADDRESS = "0x" + "5e" * 20


@dataclass(frozen=True, slots=True)
class Deployment:
    """The addresses an import starts from (a manifest's, or a ``Pair``'s)."""

    engine: str
    settlement: str
    governor: str
    views: str
    first_block: int = 0  # where the event scan starts: the engine's deployment block

    @classmethod
    def from_manifest(cls, manifest: dict) -> "Deployment":
        """The instance a manifest (``deployment/manifest.py``) records."""
        contracts = manifest["contracts"]
        return cls(
            *(contracts[name]["address"].lower() for name in _CONTRACTS),
            contracts["PerpEngine"]["block"],
        )


@dataclass(slots=True)
class Imported:
    state: State
    accounts: list[str]  # every account read, in the order the events first named them
    block: int


class Reader:
    """Calls to the instance's contracts at one block over ``rpc``."""

    def __init__(self, rpc: Rpc, block: int) -> None:
        self.rpc, self.block = rpc, block
        self.codecs = {
            name: {f["name"]: FunctionCodec(f) for f in art.abi if f.get("type") == "function"}
            for name in (
                "PerpEngine",
                "EngineGovernance",
                "Settlement",
                "Governor",
                "PerpViews",
                "MockToken",
            )
            for art in (artifacts.load(name),)
        }

    def __call__(self, contract: str, address: str, fn: str, *args):
        """One view's decoded result (a single value unwrapped)."""
        codec = self.codecs[contract][fn]
        tx = {"to": address, "data": "0x" + codec.encode(args).hex()}
        output = self.rpc("eth_call", [tx, hex(self.block)])
        if output == "0x":  # a call to an address without code succeeds, empty
            raise ChainError(f"{contract}.{fn}: no code at {address} at block {self.block}")
        out = codec.decode(bytes.fromhex(output[2:]))
        return out[0] if len(out) == 1 else out

    def logs(self, addresses: list[str], first_block: int) -> list[Log]:
        found = self.rpc(
            "eth_getLogs",
            [{"address": addresses, "fromBlock": hex(first_block), "toBlock": hex(self.block)}],
        )
        return [
            Log(
                lg["address"].lower(),
                tuple(bytes.fromhex(t[2:]) for t in lg["topics"]),
                bytes.fromhex(lg["data"][2:]),
            )
            for lg in found
        ]


def http_rpc(url: str) -> Rpc:
    """JSON-RPC over HTTP(S) to ``url``, one request a call; an error reply raises."""

    def rpc(method: str, params: list):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise ChainError(f"{method}: {reply['error']}")
        return reply["result"]

    return rpc


def latest_block(rpc: Rpc) -> int:
    return int(rpc("eth_blockNumber", []), 16)


def import_state(
    rpc: Rpc, deployment: Deployment, block: int | None = None, also: tuple[str, ...] = ()
) -> Imported:
    """The instance's state at ``block`` (default the latest) as the spec holds it; the
    addresses ``also`` (an audit's harness actors) are read too, after those named."""
    block = latest_block(rpc) if block is None else block
    read = Reader(rpc, block)
    engine, settlement, gov = deployment.engine, deployment.settlement, deployment.governor
    events = _events(read, deployment)
    token_address = read("PerpEngine", engine, "token")
    markets = [_market(read, engine, i) for i in range(read("PerpEngine", engine, "market_count"))]
    accounts = _named_accounts(events, markets, {engine, settlement, gov, token_address})
    accounts += [a for a in dict.fromkeys(a.lower() for a in also) if a not in accounts]
    timestamp = int(rpc("eth_getBlockByNumber", [hex(block), False])["timestamp"], 16)

    token = Token(token_address, total_supply=read("MockToken", token_address, "totalSupply"))
    for address in [engine, *accounts]:
        token.balances[address] = read("MockToken", token_address, "balanceOf", address)
    for address in accounts:
        allowance = read("MockToken", token_address, "allowance", address, engine)
        if allowance:
            token.allowances[(address, engine)] = allowance

    state = State(
        engine,
        token,
        read("PerpEngine", engine, "governor"),
        read("PerpEngine", engine, "oracle"),
        read("PerpEngine", engine, "settlement"),
        read("PerpEngine", engine, "liquidator_share_ratio"),
        read("PerpEngine", engine, "insurance_floor"),
        timestamp,
        read("PerpEngine", engine, "guardian"),
        read("PerpEngine", engine, "insurance_fund"),
        read("PerpEngine", engine, "bad_debt"),
        read("PerpEngine", engine, "fill_count"),
        markets,
    )
    token.events = state.events
    state.loss_epoch = read("PerpEngine", engine, "loss_epoch")
    state.fresh_total = read("PerpEngine", engine, "fresh_total")
    for address in accounts:
        account = Account(read("PerpEngine", engine, "collateral", address))
        account.booked = read("PerpEngine", engine, "booked", address)
        fresh = read("PerpEngine", engine, "fresh", address)
        account.fresh_epoch, account.fresh = fresh >> NEW_MONEY_EPOCH_SHIFT, fresh & NEW_MONEY_MASK
        for market_id in range(len(markets)):
            size, entry, checkpoint, stamp = read(
                "PerpEngine", engine, "positions", address, market_id
            )
            position = Position(size, entry, checkpoint, *stamp_fields(stamp))
            if position.size:
                account.positions[market_id] = position
        if account.collateral or account.positions or account.booked or fresh:
            state.accounts[address] = account
    state.book = _book(read, settlement, accounts, len(markets), events)
    state.book.chain_id = int(rpc("eth_chainId", []), 16)
    state.timelock = _timelock(read, gov, events)
    return Imported(state, accounts, block)


def _events(read: Reader, deployment: Deployment) -> list[tuple[str, tuple]]:
    """Every event of the engine, the Settlement and the Governor, in chain order."""
    decoders = {
        deployment.engine: EventDecoder(artifacts.load("PerpEngine").abi),
        deployment.settlement: EventDecoder(artifacts.load("Settlement").abi),
        deployment.governor: EventDecoder(artifacts.load("Governor").abi),
    }
    logs = read.logs(list(decoders), deployment.first_block)
    return [decoders[log.address].decode(log) for log in logs]


def _market(read: Reader, engine: str, market_id: int) -> Market:
    fields = read("PerpEngine", engine, "markets", market_id)
    assert len(fields) == len(MARKET_FIELDS), f"markets({market_id}): {len(fields)} fields"
    market = Market(*fields)
    market.holders = list(read("PerpEngine", engine, "market_holders", market_id))
    return market


def _named_accounts(events: list, markets: list[Market], contracts: set[str]) -> list[str]:
    """Every address an event argument names or a market holds, the contracts and the
    zero address aside, in first-named order."""
    found: dict[str, None] = {}
    for _, args in events:
        for value in args:
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                found[value] = None
    for market in markets:
        found.update(dict.fromkeys(market.holders))
    return [a for a in found if a not in contracts and a != ZERO_ADDRESS]


def _book(
    read: Reader, settlement: str, accounts: list[str], n_markets: int, events: list
) -> OrderBook:
    book = OrderBook(settlement, 0, read("Settlement", settlement, "operator"))
    book.last_trade_time = read("Settlement", settlement, "last_trade_time")
    for name, args in events:
        if name in ("OrderFilled", "OrderCancelled") and args[0] not in book.touched:
            book.touched.append(args[0])
    for digest in book.touched:
        filled = read("Settlement", settlement, "filled", digest)
        if filled:
            book.filled[digest] = filled
        if read("Settlement", settlement, "cancelled", digest):
            book.cancelled[digest] = True
    for address in accounts:
        floor = read("Settlement", settlement, "min_nonce", address)
        if floor:
            book.min_nonce[address] = floor
        for market_id in range(n_markets):
            request = read("Settlement", settlement, "exit_requests", address, market_id)
            if any(request):
                book.exit_requests[(address, market_id)] = tuple(request)
    return book


def _timelock(read: Reader, address: str, events: list) -> Timelock:
    timelock = Timelock(
        address,
        read("Governor", address, "engine"),
        read("Governor", address, "settlement"),
        read("Governor", address, "delay"),
        read("Governor", address, "owner"),
        read("Governor", address, "pending_owner"),
    )
    for name, args in events:
        if name != "CallScheduled":
            continue
        ident, _, data, _ = args
        if ident not in timelock.touched:
            timelock.touched.append(ident)
        key = governor.kind(data)
        if key is not None:
            timelock.latest[key] = read("Governor", address, "latest", key)
    for ident in timelock.touched:
        eta = read("Governor", address, "eta", ident)
        if eta:
            timelock.eta[ident] = eta
    return timelock


def lens_dump(
    rpc: Rpc,
    deployment: Deployment,
    token: str,
    accounts: list[str],
    digests: list[bytes],
    call_ids: list[bytes],
    block: int,
) -> list[int]:
    """The chain's ``StateLens.dump`` at ``block``, the lens's code supplied by a state
    override (nothing deployed)."""
    lens = artifacts.load("StateLens")
    codec = FunctionCodec(lens.fn("dump"))
    data = codec.encode(
        (
            deployment.engine,
            token,
            accounts,
            deployment.settlement,
            deployment.governor,
            digests,
            call_ids,
            EVERY_MARKET,
        )
    )
    tx = {"to": LENS_ADDRESS, "data": "0x" + data.hex()}
    override = {LENS_ADDRESS: {"code": "0x" + lens.runtime.hex()}}
    try:
        output = rpc("eth_call", [tx, hex(block), override])
    except ChainError as error:
        raise ChainError(f"StateLens over a state override: {error}") from None
    return list(codec.decode(bytes.fromhex(output[2:]))[0])


def chain_dump_of(rpc: Rpc, deployment: Deployment, imported: Imported) -> list[int]:
    """The chain's dump of everything the import read, in ``spec_dump``'s layout."""
    state = imported.state
    return lens_dump(
        rpc,
        deployment,
        state.token.address,
        imported.accounts,
        dumped_digests(state),
        dumped_call_ids(state),
        imported.block,
    )
