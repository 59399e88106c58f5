"""Orders as EIP-712 typed data, by eth_account: the trade-consent property
(``properties._check_consent``) recomputes each order's digest and signer here, written
from the EIP and independent of the spec's encoder (``pyspec.settlement``)."""

from __future__ import annotations

from functools import lru_cache

import coincurve
from eth_account.messages import encode_typed_data, hash_domain
from eth_utils import to_checksum_address

from pyspec.keccak import keccak  # the hash primitive only: the encoding here is its own

ORDER_FIELDS = (
    ("trader", "address"),
    ("market", "uint256"),
    ("is_buy", "bool"),
    ("size", "uint256"),
    ("limit_price", "uint256"),
    ("reduce_only", "bool"),
    ("nonce", "uint256"),
    ("expiry", "uint256"),
)


def eip712_order(verifying_contract: str, chain_id: int, order: tuple) -> dict:
    """An order as EIP-712 typed data in eth_account's form (written from the EIP, not
    from the spec's encoder)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [{"name": name, "type": kind} for name, kind in ORDER_FIELDS],
        },
        "primaryType": "Order",
        "domain": {
            "name": "Perp Settlement",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(verifying_contract),
        },
        "message": {name: value for (name, _), value in zip(ORDER_FIELDS, order, strict=True)},
    }


@lru_cache(maxsize=256)
def _typed_domain(verifying_contract: str, chain_id: int) -> bytes:
    """The EIP-712 domain hash of a Settlement, by eth_account: the typed data checked
    whole once (``encode_typed_data``'s validation of the domain and the primary type),
    its domain hash then reused for every order of that domain."""
    typed = eip712_order(
        verifying_contract, chain_id, ("0x" + "00" * 20, 0, False, 0, 0, False, 0, 0)
    )
    whole = encode_typed_data(full_message=typed)
    domain = hash_domain(typed["domain"])
    assert whole.header == domain
    return domain


_ORDER_TYPEHASH = keccak(
    ("Order(" + ",".join(f"{kind} {name}" for name, kind in ORDER_FIELDS) + ")").encode()
)


def _word(kind: str, value) -> bytes:
    """One field's 32-byte word as EIP-712's ``encodeData`` writes an atomic value."""
    if kind == "address":
        value = int(value, 16)
    elif kind == "bool":
        value = int(bool(value))
    return value.to_bytes(32, "big")


def signed_by(verifying_contract: str, chain_id: int, order: tuple, signature: bytes):
    """(EIP-712 digest, signer) of an order, written from the EIP and not from the spec's
    encoder: the domain hash by eth_account (cached per domain), the struct hash word by
    word, the signer recovered by libsecp256k1 (None when the signature is not r || s || v
    with v 27 or 28, or recovers nothing). eth_account's whole typed-data path makes the
    same digest and signer (``tests/spec/test_order_signatures.py``) at about 30 times
    the cost, which the trade-consent property paid on every match."""
    struct = keccak(
        _ORDER_TYPEHASH
        + b"".join(_word(kind, v) for (_, kind), v in zip(ORDER_FIELDS, order, strict=True))
    )
    digest = keccak(b"\x19\x01" + _typed_domain(verifying_contract, chain_id) + struct)
    return digest, _recover(digest, bytes(signature))


# (digest, signature) -> signer, for the signatures the harness made with its keys: a
# signature the key of A made over a digest recovers A over that digest (and only that
# one), so recovering it again is left to the signatures the harness did not make
_SIGNED: dict[tuple[bytes, bytes], str] = {}


def remember(digest: bytes, signature: bytes, signer: str) -> None:
    """Record that ``signer``'s key made ``signature`` over ``digest``."""
    if len(_SIGNED) >= 1 << 16:
        _SIGNED.clear()
    _SIGNED[(digest, signature)] = signer.lower()


def _recover(digest: bytes, signature: bytes) -> str | None:
    if (known := _SIGNED.get((digest, signature))) is not None:
        return known
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([signature[64] - 27]), digest, hasher=None
        )
    except Exception:  # noqa: BLE001 (r or s out of range, or no point: nobody signed it)
        return None
    return "0x" + keccak(key.format(compressed=False)[1:])[-20:].hex()
