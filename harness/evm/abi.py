"""Small, fast ABI helpers (cached eth_abi codecs; no web3/ape contract objects)."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi import decode as _abi_decode
from eth_abi import encode as _abi_encode
from eth_utils import keccak

__all__ = [
    "EventDecoder",
    "FunctionCodec",
    "canonical_type",
    "decode_output",
    "encode_call",
    "event_topic",
    "selector",
    "signature",
]


@cache
def selector(sig: str) -> bytes:
    """4-byte selector of a canonical signature such as ``"transfer(address,uint256)"``."""
    return keccak(text=sig)[:4]


@cache
def event_topic(sig: str) -> bytes:
    """topic0 of a canonical event signature such as ``"Transfer(address,address,uint256)"``."""
    return keccak(text=sig)


def canonical_type(param: dict) -> str:
    """Canonical ABI type string of an ABI parameter (expands tuples)."""
    t = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){t[5:]}"
    return t


def signature(item: dict) -> str:
    return f"{item['name']}({','.join(canonical_type(p) for p in item.get('inputs', []))})"


def _normalize(value: Any, typ: str) -> Any:
    """Lowercase addresses (eth_abi returns checksummed ones), recurse into arrays/tuples."""
    if typ == "address":
        return value.lower()
    if typ.endswith("]"):
        inner = typ[: typ.rindex("[")]
        return tuple(_normalize(v, inner) for v in value)
    if typ.startswith("("):
        inner_types = _split_tuple(typ)
        return tuple(_normalize(v, t) for v, t in zip(value, inner_types, strict=True))
    return value


def _split_tuple(typ: str) -> list[str]:
    body = typ[1:-1]
    out, depth, cur = [], 0, []
    for ch in body:
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def _needs_normalize(types: tuple[str, ...]) -> bool:
    return any("address" in t for t in types)


class FunctionCodec:
    """Encoder/decoder for one ABI function (build once, reuse in hot loops)."""

    __slots__ = ("name", "sig", "selector", "in_types", "out_types", "_norm_out")

    def __init__(self, fn_abi: dict) -> None:
        self.name = fn_abi["name"]
        self.sig = signature(fn_abi)
        self.selector = selector(self.sig)
        self.in_types = tuple(canonical_type(p) for p in fn_abi.get("inputs", []))
        self.out_types = tuple(canonical_type(p) for p in fn_abi.get("outputs", []))
        self._norm_out = _needs_normalize(self.out_types)

    def encode(self, args) -> bytes:
        if not self.in_types:
            return self.selector
        return self.selector + _abi_encode(self.in_types, args)

    def decode(self, output: bytes) -> tuple:
        if not self.out_types:
            return ()
        vals = _abi_decode(self.out_types, output)
        if self._norm_out:
            vals = tuple(_normalize(v, t) for v, t in zip(vals, self.out_types, strict=True))
        return vals


_codecs: dict[int, FunctionCodec] = {}


def _codec(fn_abi: dict) -> FunctionCodec:
    # keyed by identity: ABI dicts come from a loaded artifact and live as long as it does
    c = _codecs.get(id(fn_abi))
    if c is None or c.name != fn_abi["name"]:
        c = _codecs[id(fn_abi)] = FunctionCodec(fn_abi)
    return c


def encode_call(fn_abi: dict, args) -> bytes:
    """selector + ABI-encoded ``args`` (a sequence, in ABI order)."""
    return _codec(fn_abi).encode(args)


def decode_output(fn_abi: dict, output: bytes) -> tuple:
    """Decoded return values as a tuple (addresses lowercase)."""
    return _codec(fn_abi).decode(output)


class _EventCodec:
    __slots__ = ("name", "indexed", "data_types", "order", "norm")

    def __init__(self, ev: dict) -> None:
        self.name = ev["name"]
        inputs = ev.get("inputs", [])
        self.indexed = tuple(canonical_type(p) for p in inputs if p.get("indexed"))
        self.data_types = tuple(canonical_type(p) for p in inputs if not p.get("indexed"))
        # position in ABI order of each (indexed..., data...) value
        idx = [i for i, p in enumerate(inputs) if p.get("indexed")]
        dat = [i for i, p in enumerate(inputs) if not p.get("indexed")]
        self.order = tuple(idx + dat)
        self.norm = _needs_normalize(self.indexed + self.data_types)


class EventDecoder:
    """Turns a ``Log`` into ``(event_name, args)`` with args in ABI order.

    Addresses are lowercase 0x-hex, integers ``int``, booleans ``bool``. Indexed
    dynamic values (strings, bytes, arrays) can only be given as their 32-byte topic
    (keccak hash), as in every ABI decoder.
    """

    def __init__(self, abi: list[dict]) -> None:
        self._by_topic: dict[bytes, _EventCodec] = {}
        for item in abi:
            if item.get("type") == "event" and not item.get("anonymous"):
                self._by_topic[event_topic(signature(item))] = _EventCodec(item)

    def names(self) -> list[str]:
        return [c.name for c in self._by_topic.values()]

    def can_decode(self, log) -> bool:
        return bool(log.topics) and log.topics[0] in self._by_topic

    def decode(self, log) -> tuple[str, tuple]:
        codec = self._by_topic.get(log.topics[0]) if log.topics else None
        if codec is None:
            raise KeyError(f"unknown event topic {log.topics[0].hex() if log.topics else None}")
        vals: list[Any] = []
        for t, topic in zip(codec.indexed, log.topics[1:], strict=True):
            if t in ("string", "bytes") or t.endswith("]") or t.startswith("("):
                vals.append(topic)  # hashed
            else:
                vals.append(_abi_decode((t,), topic)[0])
        if codec.data_types:
            vals.extend(_abi_decode(codec.data_types, log.data))
        types = codec.indexed + codec.data_types
        if codec.norm:
            vals = [
                _normalize(v, t) if isinstance(v, str | tuple | list) else v
                for v, t in zip(vals, types, strict=True)
            ]
        out: list[Any] = [None] * len(vals)
        for pos, v in zip(codec.order, vals, strict=True):
            out[pos] = v
        return codec.name, tuple(out)

    def decode_all(self, logs) -> list[tuple[str, tuple]]:
        """Decode every log whose topic0 is known; others are skipped."""
        return [self.decode(lg) for lg in logs if self.can_decode(lg)]
