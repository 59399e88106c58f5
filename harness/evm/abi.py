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

    __slots__ = ("name", "sig", "selector", "in_types", "out_types", "_encode", "_decode")

    def __init__(self, fn_abi: dict) -> None:
        self.name = fn_abi["name"]
        self.sig = signature(fn_abi)
        self.selector = selector(self.sig)
        self.in_types = tuple(canonical_type(p) for p in fn_abi.get("inputs", []))
        self.out_types = tuple(canonical_type(p) for p in fn_abi.get("outputs", []))
        self._encode = _StaticEncoder(self.in_types)
        self._decode = _StaticDecoder(self.out_types)

    def encode(self, args) -> bytes:
        if not self.in_types:
            return self.selector
        return self.selector + self._encode(args)

    def decode(self, output: bytes) -> tuple:
        if not self.out_types:
            return ()
        return self._decode(output)


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
    __slots__ = ("name", "indexed", "data_types", "order", "norm", "topic_decoders", "data")

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
        self.topic_decoders = tuple(_StaticDecoder((t,)) for t in self.indexed)
        self.data = _StaticDecoder(self.data_types)


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
        for t, decode, topic in zip(
            codec.indexed, codec.topic_decoders, log.topics[1:], strict=True
        ):
            if t in ("string", "bytes") or t.endswith("]") or t.startswith("("):
                vals.append(topic)  # hashed
            else:
                vals.append(decode(topic)[0])
        if codec.data_types:
            vals.extend(codec.data(log.data))
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


# --- static codecs for the project's fixed ABIs -------------------------------------
# eth_abi builds and validates through several layers per value; the harness encodes a
# handful of fixed signatures thousands of times a second. ``_encoder``/``_decoder``
# compile one type into a closure once. They take only the plain, valid values they can
# encode exactly as eth_abi does (ints in range, lowercase hex or 20-byte addresses,
# bools, bytes) and raise ``_Slow`` on anything else, which hands the whole call to
# eth_abi: its result and its errors stay the reference (tests/tooling/test_abi.py
# compares the two on every type of every ABI).


class _Slow(Exception):
    """A value the static codec does not take: eth_abi encodes (or rejects) it."""


_ZERO = bytes(32)
_ONE = (1).to_bytes(32, "big")
_PAD12 = bytes(12)


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _encoder(typ: str):
    """(encode(value) -> bytes, dynamic) for the canonical type ``typ``."""
    if typ.endswith("]"):
        base, count = typ[: typ.rindex("[")], typ[typ.rindex("[") + 1 : -1]
        inner, inner_dyn = _encoder(base)
        if count == "":

            def array(value):
                if value.__class__ is not list and value.__class__ is not tuple:
                    raise _Slow
                return _word(len(value)) + _sequence(value, (inner,) * len(value), inner_dyn)

            return array, True
        size = int(count)

        def fixed(value):
            if (value.__class__ is not list and value.__class__ is not tuple) or len(value) != size:
                raise _Slow
            return _sequence(value, (inner,) * size, inner_dyn)

        return fixed, inner_dyn
    if typ.startswith("("):
        parts = [_encoder(t) for t in _split_tuple(typ)]
        encoders = tuple(e for e, _ in parts)
        dynamic = any(d for _, d in parts)
        flags = tuple(d for _, d in parts)

        def tuple_(value):
            if (value.__class__ is not list and value.__class__ is not tuple) or len(value) != len(
                encoders
            ):
                raise _Slow
            return _mixed(value, encoders, flags) if dynamic else _static(value, encoders)

        return tuple_, dynamic
    if typ.startswith("uint"):
        high = 1 << int(typ[4:] or 256)

        def uint(value):
            if value.__class__ is not int or not 0 <= value < high:
                raise _Slow
            return value.to_bytes(32, "big")

        return uint, False
    if typ.startswith("int"):
        high = 1 << (int(typ[3:] or 256) - 1)

        def int_(value):
            if value.__class__ is not int or not -high <= value < high:
                raise _Slow
            return value.to_bytes(32, "big", signed=True)

        return int_, False
    if typ == "address":

        def address(value):
            if value.__class__ is str:
                if len(value) != 42 or value[:2] != "0x" or value != value.lower():
                    raise _Slow
                try:
                    raw = bytes.fromhex(value[2:])
                except ValueError:
                    raise _Slow from None
            elif value.__class__ is bytes:
                raw = value
            else:
                raise _Slow
            if len(raw) != 20:
                raise _Slow
            return _PAD12 + raw

        return address, False
    if typ == "bool":

        def bool_(value):
            if value is True:
                return _ONE
            if value is False:
                return _ZERO
            raise _Slow

        return bool_, False
    if typ == "bytes":

        def bytes_(value):
            if value.__class__ is not bytes:
                raise _Slow
            size = len(value)
            return _word(size) + value + bytes(-size % 32)

        return bytes_, True
    if typ.startswith("bytes"):
        size = int(typ[5:])

        def fixed_bytes(value):
            if value.__class__ is not bytes or len(value) > size:
                raise _Slow
            return value + bytes(32 - len(value))

        return fixed_bytes, False

    def other(value):  # string and anything else: eth_abi's
        raise _Slow

    return other, True


def _static(values, encoders) -> bytes:
    return b"".join([encode(v) for encode, v in zip(encoders, values, strict=True)])


def _mixed(values, encoders, flags) -> bytes:
    parts = [encode(v) for encode, v in zip(encoders, values, strict=True)]
    offset = sum(32 if dynamic else len(p) for p, dynamic in zip(parts, flags, strict=True))
    heads, tails = [], []
    for part, dynamic in zip(parts, flags, strict=True):
        if dynamic:
            heads.append(_word(offset))
            tails.append(part)
            offset += len(part)
        else:
            heads.append(part)
    return b"".join(heads) + b"".join(tails)


def _sequence(values, encoders, dynamic: bool) -> bytes:
    if dynamic:
        return _mixed(values, encoders, (True,) * len(encoders))
    return _static(values, encoders)


class _StaticEncoder:
    """encode(types, args) for a fixed ``types``: the static codec, else eth_abi."""

    __slots__ = ("types", "encoders", "flags", "dynamic")

    def __init__(self, types: tuple[str, ...]) -> None:
        self.types = types
        parts = [_encoder(t) for t in types]
        self.encoders = tuple(e for e, _ in parts)
        self.flags = tuple(d for _, d in parts)
        self.dynamic = any(self.flags)

    def __call__(self, args) -> bytes:
        try:
            if (args.__class__ is not list and args.__class__ is not tuple) or len(args) != len(
                self.encoders
            ):
                raise _Slow
            if self.dynamic:
                return _mixed(args, self.encoders, self.flags)
            return _static(args, self.encoders)
        except _Slow:
            return _abi_encode(self.types, args)


def _word_decoder(typ: str):
    """decode(32-byte word) for a static elementary ``typ``, or None."""
    if typ.endswith("]"):  # an array: not one word
        return None
    if typ == "uint256":
        return lambda w: int.from_bytes(w, "big")
    if typ.startswith("uint"):
        high = 1 << int(typ[4:])

        def uint(w):
            value = int.from_bytes(w, "big")
            if value >= high:
                raise _Slow  # non-zero padding: eth_abi's error
            return value

        return uint
    if typ == "int256":
        return lambda w: int.from_bytes(w, "big", signed=True)
    if typ == "address":

        def address(w):
            if w[:12] != _PAD12:
                raise _Slow
            return "0x" + w[12:].hex()

        return address
    if typ == "bool":

        def bool_(w):
            if w == _ZERO:
                return False
            if w == _ONE:
                return True
            raise _Slow

        return bool_
    if typ == "bytes32":
        return bytes
    return None


def _flat_static(typ: str):
    """The elementary types of a static ``typ`` in order, and how to rebuild the value
    from their flat list; None for a type the static decoder does not take."""
    if typ.startswith("("):
        parts = [_flat_static(t) for t in _split_tuple(typ)]
        if any(p is None for p in parts):
            return None
        decoders = [d for p in parts for d in p[0]]
        sizes = [len(p[0]) for p in parts]
        builders = [p[1] for p in parts]

        def build(words):
            out, at = [], 0
            for size, builder in zip(sizes, builders, strict=True):
                out.append(builder(words[at : at + size]))
                at += size
            return tuple(out)

        return decoders, build
    decoder = _word_decoder(typ)
    if decoder is None:
        return None
    return [decoder], lambda words: words[0]


class _StaticDecoder:
    """decode(data) for fixed ``types`` (addresses lowercase): static words sliced
    directly when every type is static and the data has exactly their size, else
    eth_abi (then normalized)."""

    __slots__ = ("types", "decoders", "build", "size", "norm")

    def __init__(self, types: tuple[str, ...]) -> None:
        self.types = types
        self.norm = _needs_normalize(types)
        flat = _flat_static(f"({','.join(types)})") if types else None
        self.decoders = None if flat is None else flat[0]
        self.build = None if flat is None else flat[1]
        self.size = 32 * len(self.decoders) if self.decoders else 0

    def __call__(self, data: bytes) -> tuple:
        if self.decoders is not None and len(data) == self.size:
            try:
                words = [
                    decode(data[32 * i : 32 * i + 32]) for i, decode in enumerate(self.decoders)
                ]
                return self.build(words)
            except _Slow:
                pass
        vals = _abi_decode(self.types, data)
        if self.norm:
            vals = tuple(_normalize(v, t) for v, t in zip(vals, self.types, strict=True))
        return vals
