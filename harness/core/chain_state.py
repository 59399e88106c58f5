"""The chain's state in the dump layout (``harness.core.dump``): through the lens on any
chain (``LensReader``), from storage on the embedded chain (``StorageReader``).

``StateLens.dump`` reads every field through the contracts' getters: about 100 us of EVM
for a partial comparison, a third of a differential step. On the embedded chain the same
words are read from revm's storage at the slots the compiler's layout gives (``vyper -f
layout``): a HashMap's entry at keccak256(slot ++ key), a struct's members one slot each in
the getter's order, a DynArray's length then its items. A word costs about 0.3 us.

Full comparisons (every ``Pair.full_every`` steps and at every sequence end) still read
through the lens and the getters, so a reader that strayed from the layout shows there as
a divergence; ``tests/differential/test_storage_reads.py`` compares the two on the states
of random sequences.
"""

from __future__ import annotations

from harness.core.dump import MARKET_FIELDS, POSITION_FIELDS, REQUEST_FIELDS
from harness.evm.abi import FunctionCodec
from harness.evm.artifacts import Artifact
from pyspec.constants import EVERY_MARKET
from pyspec.keccak import keccak

SIGN = 1 << 255
WORD = 1 << 256


def _key(value: int | str | bytes) -> bytes:
    """A HashMap key as its 32-byte word (an address or uint left-padded; a bytes32 as is)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        value = int(value, 16)
    return value.to_bytes(32, "big")


def entry(slot: int, *keys) -> int:
    """The slot of ``map[keys[0]][keys[1]]...`` for a HashMap at ``slot`` (Vyper:
    keccak256(slot ++ key) at each level)."""
    for key in keys:
        slot = int.from_bytes(keccak(slot.to_bytes(32, "big") + _key(key)), "big")
    return slot


def members(artifact: Artifact, getter: str, fields: tuple[str, ...]) -> list[int]:
    """Each of ``fields``' offset in the struct the public ``getter`` returns: its member
    order, one slot each (every member a single-word type, checked)."""
    (output,) = artifact.fn(getter)["outputs"]
    names = [c["name"] for c in output["components"]]
    single = {"uint256", "int256", "bool", "address"}
    assert all(c["type"] in single for c in output["components"]), f"{getter}: not one word each"
    return [names.index(field) for field in fields]


class LensReader:
    """``StateLens.dump`` at ``lens``, over the contracts ``addresses`` names ("engine",
    "token", "settlement", "governor")."""

    def __init__(self, chain, lens: str, addresses: dict[str, str], art: Artifact) -> None:
        self.chain, self.lens = chain, lens
        self.codec = FunctionCodec(next(f for f in art.abi if f.get("name") == "dump"))
        self.contracts = tuple(addresses[c] for c in ("engine", "token"))
        self.others = tuple(addresses[c] for c in ("settlement", "governor"))

    def dump(self, digests, call_ids, accounts, market_ids=None) -> list[int]:
        """The lens's words: every market's own fields, each of ``accounts`` in the markets
        ``market_ids`` (None: every one), the digests' and the call ids' entries."""
        mask = EVERY_MARKET if market_ids is None else sum(1 << m for m in market_ids)
        data = self.codec.encode((*self.contracts, accounts, *self.others, digests, call_ids, mask))
        out = self.chain.call(self.lens, data).output
        count, word = int.from_bytes(out[32:64], "big"), int.from_bytes
        return [word(out[i : i + 32], "big", signed=True) for i in range(64, 64 + 32 * count, 32)]


class StorageReader:
    """``LensReader.dump``'s words, read from the embedded chain's storage."""

    def __init__(self, chain, addresses: dict[str, str], art: dict[str, Artifact]) -> None:
        self.chain = chain
        self.engine, self.token = addresses["engine"], addresses["token"]
        self.settlement, self.governor = addresses["settlement"], addresses["governor"]
        engine, settlement = art["PerpEngine"], art["Settlement"]
        self.slots = {name: art[c].storage for name, c in CONTRACTS.items()}
        self.market_members = members(engine, "markets", MARKET_FIELDS)
        self.position_members = members(engine, "positions", POSITION_FIELDS)
        self.request_members = members(settlement, "exit_requests", REQUEST_FIELDS)
        self._cache: dict[tuple, int] = {}

    def _at(self, contract: str, variable: str, *keys) -> int:
        """The slot of ``variable`` (at ``keys`` when it is a HashMap), remembered."""
        k = (contract, variable, *keys)
        slot = self._cache.get(k)
        if slot is None:
            slot = self._cache[k] = entry(self.slots[contract][variable], *keys)
        return slot

    def dump(self, digests, call_ids, accounts, market_ids) -> list[int]:
        """The words ``LensReader.dump`` returns for these arguments."""
        read = self.chain.storage
        engine, token, settlement, governor = (
            self.engine, self.token, self.settlement, self.governor
        )  # fmt: skip
        at = self._at
        count = read(engine, at("engine", "market_count"))
        out = [
            read(engine, at("engine", "insurance_fund")),
            read(engine, at("engine", "bad_debt")),
            count,
            read(token, at("token", "balanceOf", engine)),
            self.chain.now(),
            read(governor, at("governor", "_owner")),
            read(governor, at("governor", "pending_owner")),
            read(engine, at("engine", "guardian")),
            read(engine, at("engine", "oracle")),
            read(settlement, at("settlement", "operator")),
            read(engine, at("engine", "fill_count")),
            read(settlement, at("settlement", "last_trade_time")),
        ]
        market_ids = [m for m in sorted(set(market_ids)) if m < count]  # the lens's bits
        for market_id in range(count):
            base = at("engine", "markets", market_id)
            out += [read(engine, base + offset) for offset in self.market_members]
            holders = at("engine", "holders", market_id)
            n = read(engine, holders)
            out.append(n)
            out += [read(engine, holders + 1 + i) for i in range(n)]
        for account in accounts:
            out.append(read(token, at("token", "balanceOf", account)))
            out.append(read(engine, at("engine", "collateral", account)))
            out.append(read(engine, at("engine", "booked", account)))
            for market_id in market_ids:
                base = at("engine", "positions", account, market_id)
                out += [read(engine, base + offset) for offset in self.position_members]
        for account in accounts:
            out.append(read(settlement, at("settlement", "min_nonce", account)))
            for market_id in market_ids:
                base = at("settlement", "exit_requests", account, market_id)
                out += [read(settlement, base + offset) for offset in self.request_members]
        out.append(len(digests))
        for digest in digests:
            out.append(int.from_bytes(digest, "big"))
            out.append(read(settlement, at("settlement", "filled", digest)))
            out.append(read(settlement, at("settlement", "cancelled", digest)))
        out.append(len(call_ids))
        for ident in call_ids:
            out.append(int.from_bytes(ident, "big"))
            out.append(read(governor, at("governor", "eta", ident)))
        return [w - WORD if w >= SIGN else w for w in out]  # the lens's int256 words


# The contracts a dump reads, by the names ``_at`` takes.
CONTRACTS = {
    "engine": "PerpEngine",
    "token": "MockToken",
    "settlement": "Settlement",
    "governor": "Governor",
}
