"""Orders as EIP-712 typed data, by eth_account: the trade-consent property
(``properties._check_consent``) recomputes each order's digest and signer here, written
from the EIP and independent of the spec's encoder (``pyspec.settlement``)."""

from __future__ import annotations

from functools import lru_cache

from eth_account import Account
from eth_account.messages import (
    SignableMessage,
    _hash_eip191_message,
    encode_typed_data,
    hash_domain,
    hash_eip712_message,
)
from eth_utils import to_checksum_address

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


@lru_cache(maxsize=65536)
def signed_by(verifying_contract: str, chain_id: int, order: tuple, signature: bytes):
    """(EIP-712 digest, signer) of an order, by eth_account (not the spec's code): what
    ``encode_typed_data`` of ``eip712_order`` makes, its domain hash cached per domain."""
    typed = eip712_order(verifying_contract, chain_id, order)
    message = SignableMessage(
        b"\x01",
        _typed_domain(verifying_contract, chain_id),
        hash_eip712_message({"Order": typed["types"]["Order"]}, typed["message"]),
    )
    digest = _hash_eip191_message(message)
    try:
        signer = Account._recover_hash(digest, signature=signature).lower()
    except Exception:  # noqa: BLE001 (eth_account raises several kinds for a bad signature)
        signer = None
    return digest, signer
