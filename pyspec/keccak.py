"""keccak256, as the EVM computes it (Vyper's ``keccak256`` builtin): the order digests,
the Governor's call ids and kinds. pysha3's C implementation: the spec hashes every
order the harness signs and every call it schedules."""

from sha3 import keccak_256


def keccak(data: bytes) -> bytes:
    """The 32-byte keccak256 of ``data``."""
    return keccak_256(data).digest()
