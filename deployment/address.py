"""Contract addresses known before deployment: the engine names the Settlement contract
deployed right after it, so deployers compute that address from their nonce."""

import rlp
from eth_utils import keccak


def create_address(sender: str, nonce: int) -> str:
    """The address of the contract ``sender`` creates with its ``nonce``-th transaction
    (lowercase 0x-hex)."""
    return "0x" + keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:].hex()
