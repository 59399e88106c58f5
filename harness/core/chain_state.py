"""The chain's state in the dump layout (``harness.core.dump``): through the lens on any
chain (``LensReader``), from storage on the embedded chain (``StorageReader``).

``StateLens.dump`` reads every field through the contracts' getters: about 100 us of EVM
for a partial comparison, a third of a differential step. On the embedded chain the same
words are read from revm's storage at the slots the compiler's layout gives (``vyper -f
layout``): a HashMap's entry at keccak256(slot ++ key), a struct's members one slot each in
the getter's order. A word costs about 0.3 us.

Only a compiler-generated getter's value is read from storage (a public variable of that
name, checked when the reader is built), with one exception. The two getters written by
hand, ``Governor.owner`` and ``PerpEngine.market_holders``, are called (in one call,
``StateLens.hand_written``, so their own code runs as the lens ran it: a review had
``owner()`` answer the pending owner while one was set, which storage reads missed)
whenever the call compared changed a role, a market's listing or status fields or its
holders on the spec's side (``hand_written``), and at every full comparison. Otherwise
their variables are read from storage too (``dump(getters=False)``), about 25 us less. A
getter that answers wrong only in a state a call moving balances, prices or funding
alone brings, and that ends before the next full comparison, goes unseen, as does a
chain-only change to a field a partial comparison does not read that a later call heals.
Periodic full comparisons (every ``Pair.full_every`` steps) read storage; the one at
every sequence end reads through the lens, so a reader that strayed from the layout
shows there as a divergence; ``tests/differential/test_storage_reads.py`` compares the
two reads on the states of random sequences.
"""

from __future__ import annotations

from functools import lru_cache

from harness.core.dump import MARKET_FIELDS, POSITION_FIELDS, REQUEST_FIELDS, ROLE_WORDS
from harness.evm.abi import FunctionCodec
from harness.evm.artifacts import Artifact
from pyspec.constants import EVERY_MARKET, MAX_POSITIONS_PER_MARKET
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

    def __init__(
        self, chain, addresses: dict[str, str], art: dict[str, Artifact], lens: str
    ) -> None:
        self.chain, self.lens = chain, lens
        self.engine, self.token = addresses["engine"], addresses["token"]
        self.settlement, self.governor = addresses["settlement"], addresses["governor"]
        engine, settlement = art["PerpEngine"], art["Settlement"]
        self.slots = {name: art[c].storage for name, c in CONTRACTS.items()}
        self.market_members = members(engine, "markets", MARKET_FIELDS)
        self.position_members = members(engine, "positions", POSITION_FIELDS)
        self.request_members = members(settlement, "exit_requests", REQUEST_FIELDS)
        for contract, getters in GENERATED.items():  # storage only behind compiler getters
            functions = {f.get("name") for f in art[CONTRACTS[contract]].abi}
            for getter in getters:
                assert getter in self.slots[contract] and getter in functions, getter
        for contract, variables in BEHIND_HAND_WRITTEN.items():
            assert all(v in self.slots[contract] for v in variables), variables
        by_hand = FunctionCodec(art["StateLens"].fn("hand_written"))
        self._by_hand = by_hand.encode((self.engine, self.governor))
        # slots by account and market (bounded); an order's or a call's is computed afresh
        self._cache: dict[tuple, int] = {}

    def _at(self, contract: str, variable: str, *keys) -> int:
        """The slot of ``variable`` (at ``keys`` when it is a HashMap), remembered."""
        k = (contract, variable, *keys)
        slot = self._cache.get(k)
        if slot is None:
            readable = (*GENERATED[contract], *BEHIND_HAND_WRITTEN.get(contract, ()))
            assert variable in readable, f"{variable}: no compiler getter"
            slot = self._cache[k] = entry(self.slots[contract][variable], *keys)
        return slot

    def _hand_written(self) -> list[int]:
        """``StateLens.hand_written``: the owner, then per market its holder count and
        holders (one call: each getter's own code runs)."""
        result = self.chain.call(self.lens, self._by_hand)
        assert result.success, f"StateLens.hand_written reverted: {result.reason}"
        out, word = result.output, int.from_bytes
        return [word(out[i : i + 32], "big") for i in range(64, 64 + 32 * word(out[32:64]), 32)]

    def _stored_by_hand(self, count: int) -> list[int]:
        """``_hand_written``'s words from storage: the owner, then per market of ``count``
        its holder count and holders (a DynArray: its length, then one slot each)."""
        read, engine, at = self.chain.storage, self.engine, self._at
        out = [read(self.governor, at("governor", "_owner"))]
        for market_id in range(count):
            slot = at("engine", "holders", market_id)
            n = read(engine, slot)
            out.append(n)  # a length past the bound (a corrupt word) shows as a divergence
            out += [read(engine, slot + 1 + i) for i in range(min(n, MAX_POSITIONS_PER_MARKET))]
        return out

    def dump(self, digests, call_ids, accounts, market_ids, getters: bool = True) -> list[int]:
        """The words ``LensReader.dump`` returns for these arguments; ``getters``: the
        hand-written getters' values by calling them, else from their storage."""
        read = self.chain.storage
        engine, token, settlement, governor = (
            self.engine, self.token, self.settlement, self.governor
        )  # fmt: skip
        at, slots = self._at, self.slots
        count = read(engine, at("engine", "market_count"))
        by_hand = self._hand_written() if getters else self._stored_by_hand(count)
        out = [
            read(engine, at("engine", "insurance_fund")),
            read(engine, at("engine", "bad_debt")),
            count,
            read(token, at("token", "balanceOf", engine)),
            self.chain.now(),
            by_hand[0],
            read(governor, at("governor", "pending_owner")),
            read(engine, at("engine", "guardian")),
            read(engine, at("engine", "oracle")),
            read(settlement, at("settlement", "operator")),
            read(engine, at("engine", "fill_count")),
            read(settlement, at("settlement", "last_trade_time")),
            read(engine, at("engine", "loss_epoch")),
            read(engine, at("engine", "fresh_total")),
        ]
        market_ids = [m for m in sorted(set(market_ids)) if m < count]  # the lens's bits
        held = 1  # where the next market's holders are in ``by_hand``
        for market_id in range(count):
            base = at("engine", "markets", market_id)
            out += [read(engine, base + offset) for offset in self.market_members]
            n = by_hand[held]
            out += by_hand[held : held + 1 + n]  # the count, then the holders
            held += 1 + n
        for account in accounts:
            out.append(read(token, at("token", "balanceOf", account)))
            out.append(read(engine, at("engine", "collateral", account)))
            out.append(read(engine, at("engine", "booked", account)))
            out.append(read(engine, at("engine", "fresh", account)))
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
            out.append(read(settlement, entry(slots["settlement"]["filled"], digest)))
            out.append(read(settlement, entry(slots["settlement"]["cancelled"], digest)))
        out.append(len(call_ids))
        for ident in call_ids:
            out.append(int.from_bytes(ident, "big"))
            out.append(read(governor, entry(slots["governor"]["eta"], ident)))
        return [w - WORD if w >= SIGN else w for w in out]  # the lens's int256 words


def hand_written(seen: dict) -> tuple:
    """What a call must change, on the spec's side of a ``Pair._observe``, for a partial
    comparison to ask the hand-written getters: a role (the owner, the pending owner a
    review's ``owner()`` answered, the guardian, the oracle, the operator), a market's
    listing or status fields, or its holders. A call that moves only balances, prices,
    funding, ADL rounds and counters leaves them unasked."""
    return (*seen["globals"][ROLE_WORDS], *map(_listing_and_holders, seen["markets"]))


@lru_cache(maxsize=1 << 10)
def _listing_and_holders(words: tuple) -> tuple:
    return (*(words[i] for i in _LISTING), *words[len(MARKET_FIELDS) :])


_MOVING = {
    "price", "price_timestamp", "open_interest", "funding_index", "funding_residue",
    "funding_rate", "funding_timestamp", "long_adl_round", "short_adl_round",
}  # fmt: skip
_LISTING = tuple(i for i, field in enumerate(MARKET_FIELDS) if field not in _MOVING)


# The getters the lens calls whose values ``StorageReader`` reads from storage: each the
# compiler's own for the public variable of its name.
GENERATED = {
    "engine": (
        "insurance_fund", "bad_debt", "market_count", "guardian", "oracle", "fill_count",
        "markets", "collateral", "booked", "positions", "fresh", "loss_epoch", "fresh_total",
    ),
    "token": ("balanceOf",),
    "governor": ("pending_owner", "eta"),
    "settlement": (
        "operator", "last_trade_time", "min_nonce", "exit_requests", "filled", "cancelled",
    ),
}  # fmt: skip
# The variables behind the hand-written getters (``StorageReader._stored_by_hand``).
BEHIND_HAND_WRITTEN = {"engine": ("holders",), "governor": ("_owner",)}
# The contracts a dump reads, by the names ``_at`` takes.
CONTRACTS = {
    "engine": "PerpEngine",
    "token": "MockToken",
    "settlement": "Settlement",
    "governor": "Governor",
}
