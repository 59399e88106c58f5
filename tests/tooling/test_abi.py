"""The static ABI codec (``harness.evm.abi``) against eth_abi, the reference: the same
bytes for every valid value of every type in the project's ABIs, the same error for an
invalid one, the same values decoded (addresses lowercase)."""

import random
import signal

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

from harness.evm import artifacts
from harness.evm.abi import (
    EventDecoder,
    _normalize,
    _split_tuple,
    _StaticDecoder,
    _StaticEncoder,
    canonical_type,
)

CONTRACTS = ("MockToken", "PerpEngine", "StateLens", "Settlement", "PerpViews", "Governor")
CONTRACTS += ("Bundler", "AdlAllocator")


def project_types() -> list[tuple[str, ...]]:
    """Every input and output type list of every function and event."""
    out = set()
    for name in CONTRACTS:
        for item in artifacts.load(name).abi:
            for key in ("inputs", "outputs"):
                if item.get(key):
                    out.add(tuple(canonical_type(p) for p in item[key]))
    return sorted(out)


def value(typ: str, rng: random.Random, odd: bool = False):
    """A value of ``typ``: valid, or with ``odd`` sometimes invalid or unusual."""
    if typ.endswith("]"):
        base, count = typ[: typ.rindex("[")], typ[typ.rindex("[") + 1 : -1]
        n = int(count) if count else rng.randrange(4)
        if odd and rng.random() < 0.1:
            n += 1
        items = [value(base, rng, odd) for _ in range(n)]
        return items if rng.random() < 0.5 else tuple(items)
    if typ.startswith("("):
        return tuple(value(t, rng, odd) for t in _split_tuple(typ))
    if odd and rng.random() < 0.15:
        return rng.choice([-1, 2**256, True, None, "0x12", b"\x01" * 33, 1.5, bytearray(3)])
    if typ.startswith("uint"):
        bits = int(typ[4:])
        return rng.choice([0, 1, 2**bits - 1, rng.randrange(2**bits)])
    if typ.startswith("int"):
        bits = int(typ[3:])
        return rng.choice(
            [
                0,
                -1,
                -(2 ** (bits - 1)),
                2 ** (bits - 1) - 1,
                rng.randrange(2**bits) - 2 ** (bits - 1),
            ]
        )
    if typ == "address":
        raw = rng.randbytes(20)
        return rng.choice(["0x" + raw.hex(), raw, "0x" + raw.hex().upper()[2:].rjust(40, "0")])
    if typ == "bool":
        return rng.random() < 0.5
    if typ == "bytes":
        return rng.randbytes(rng.randrange(70))
    if typ == "string":
        return "x" * rng.randrange(40)
    return rng.randbytes(rng.choice([32, 32, 5]))  # bytes32 (shorter: right-padded)


def outcome(fn, *args):
    try:
        return fn(*args)
    except Exception as error:
        return type(error)


@pytest.mark.parametrize("odd", [False, True])
def test_encoding_is_eth_abi(odd):
    rng = random.Random(21)
    for types in project_types():
        fast = _StaticEncoder(types)
        for _ in range(60):
            args = [value(t, rng, odd) for t in types]
            assert outcome(fast, args) == outcome(abi_encode, types, args), (types, args)


class Endless(Exception):
    """eth_abi still decoding after ``LIMIT`` seconds."""


LIMIT = 2.0


def bounded(fn, *args):
    """``outcome`` of ``fn``, or ``Endless``: a corrupted array length makes eth_abi decode
    the array item by item, and with the decoders ape registers (when a test before
    imported ape) past the data's end (a run filled 5.7 GB in 17 minutes)."""

    def stop(signum, frame):
        raise Endless

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        return outcome(fn, *args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_decoding_is_eth_abi():
    for types in project_types():
        rng = random.Random(f"22 {types}")  # another ABI's types move no other draws
        fast = _StaticDecoder(types)
        for _ in range(60):
            data = abi_encode(types, [value(t, rng) for t in types])
            if rng.random() < 0.3:  # dirty padding, a wrong length
                at = rng.randrange(len(data) + 1)
                data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
                data = data[: rng.choice([len(data), len(data) - 1])]
            expected = bounded(abi_decode, types, data)
            if expected is Endless:  # a length past the data: ours refuses it at once
                assert isinstance(outcome(fast, data), type), (types, data.hex())
                continue
            if isinstance(expected, tuple):
                expected = tuple(_normalize(v, t) for v, t in zip(expected, types, strict=True))
            assert outcome(fast, data) == expected, (types, data.hex())


def test_events_decode_as_before():
    """Every event of the engine, encoded by eth_abi, decodes to its values."""
    rng = random.Random(23)
    abi = artifacts.load("PerpEngine").abi
    decoder = EventDecoder(abi)
    from harness.evm.abi import event_topic, signature
    from harness.evm.base import Log

    for item in (i for i in abi if i.get("type") == "event"):
        inputs = item["inputs"]
        values = [value(canonical_type(p), rng) for p in inputs]
        topics = [event_topic(signature(item))]
        data_types, data_values = [], []
        for p, v in zip(inputs, values, strict=True):
            if p.get("indexed"):
                topics.append(abi_encode([canonical_type(p)], [v]))
            else:
                data_types.append(canonical_type(p))
                data_values.append(v)
        log = Log("0x" + "11" * 20, tuple(topics), abi_encode(data_types, data_values))
        name, decoded = decoder.decode(log)
        expected = tuple(
            _normalize(
                abi_decode([canonical_type(p)], abi_encode([canonical_type(p)], [v]))[0],
                canonical_type(p),
            )
            for p, v in zip(inputs, values, strict=True)
        )
        assert (name, decoded) == (item["name"], expected)
