"""The chain interface every backend implements, and the types it speaks.

Every backend uses the same 20 accounts (anvil's default mnemonic), gas price 0 (so ETH
balances never change) and the Prague hardfork, so the same sequence of deployments gives
the same contract addresses on all of them. Calldata and logs are raw bytes (``abi``
encodes and decodes them); no ape or web3 contract objects are involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: Gas limit of every transaction and call (no estimation round trip).
TX_GAS = 30_000_000
#: Hardfork used by both backends (py-evm's latest is Prague; vyper 0.4.3 defaults to it).
HARDFORK = "prague"
CHAIN_ID = 31337
N_ACCOUNTS = 20
#: Block time of a fresh chain (revm's block environment, anvil's ``--timestamp``); the
#: harness moves it only by explicit waits, so both chains see the same block times.
GENESIS_TIME = 1_700_000_000
#: Balance of each account, in wei (1e9 ether).
ACCOUNT_BALANCE = 10**27

# The first 20 accounts of anvil's default mnemonic
# "test test test test test test test test test test test junk" (m/44'/60'/0'/0/i).
ACCOUNTS: tuple[str, ...] = (
    "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
    "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
    "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65",
    "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc",
    "0x976ea74026e726554db657fa54763abd0c3a0aa9",
    "0x14dc79964da2c08b23698b3d3cc7ca32193d9955",
    "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f",
    "0xa0ee7a142d267c1f36714e4a8f75612f20a79720",
    "0xbcd4042de499d14e55001ccbb24a551f3b954096",
    "0x71be63f3384f5fb98995898a86b02fb2426c5788",
    "0xfabb0ac9d68b0b445fb7357272ff202c5651694a",
    "0x1cbd3b2770909d4e10f157cabc84c7264073c9ec",
    "0xdf3e18d64bc6a983f673ab319ccae4f1a57c7097",
    "0xcd3b766ccdd6ae721141f452c550ca635964ce71",
    "0x2546bcd3c84621e976d8185a91a922ae77ecec30",
    "0xbda5747bfd65f08deb54cb465eb87d40e51b197e",
    "0xdd2fd4581271e230360230f9337d5c0430bf44c0",
    "0x8626f6940e2eb28930efb4cef49b2d1f2c9c1199",
)


# Private key of extra account i: a fixed small integer, so it can sign orders too.
EXTRA_KEY_BASE = 0x5000


def extra_key(index: int) -> bytes:
    return (EXTRA_KEY_BASE + index).to_bytes(32, "big")


def extra_accounts(count: int) -> list[str]:
    """Deterministic accounts after anvil's 20, for runs with more actors (a full market's
    holders), with known keys (``extra_key``): impersonated on anvil, funded on the
    embedded chain."""
    return [_address_of(extra_key(i)) for i in range(count)]


def _address_of(key: bytes) -> str:
    from eth_keys import keys

    return keys.PrivateKey(key).public_key.to_address()


_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
ZERO_ADDRESS = "0x" + "00" * 20


class ChainError(RuntimeError):
    """A backend failure that is not a contract revert (bad deploy, RPC error, ...)."""


@dataclass(frozen=True, slots=True)
class Log:
    address: str  # lowercase 0x-hex
    topics: tuple[bytes, ...]  # 32-byte words
    data: bytes


@dataclass(frozen=True, slots=True)
class TxResult:
    success: bool
    reason: str | None  # decoded Error(string), "panic: 0x.." for Panic(uint256), else None
    logs: tuple[Log, ...]  # empty on failure
    gas_used: int  # receipt gasUsed for transact(); 0 for call()
    output: bytes  # return data (or revert data on failure); see backend notes


class Chain(Protocol):
    """What the differential core needs of a chain: deploy (``nonce`` predicts the next
    address), transact, call, snapshot, and
    block time (``now``: the time transactions and calls see; ``set_time``: move it, for
    the next transaction and every call after it)."""

    name: str
    accounts: list[str]

    def now(self) -> int: ...
    def set_time(self, timestamp: int) -> None: ...
    def nonce(self, account: str) -> int: ...
    def deploy(self, initcode: bytes, sender: str) -> str: ...
    def transact(self, sender: str, to: str, data: bytes) -> TxResult: ...
    def call(self, to: str, data: bytes, sender: str | None = None) -> TxResult: ...
    def snapshot(self) -> object: ...
    def revert(self, snap: object, rearm: bool = True) -> None:
        """Return to ``snap``; ``rearm``: take it again at once, to revert to it later
        (else it is spent: the journal's checkpoints are undone last first)."""

    def close(self) -> None: ...


def decode_revert(data: bytes) -> str | None:
    """Reason of a revert from its return data.

    ``Error(string)`` gives the string; ``Panic(uint256)`` gives ``"panic: 0x.."``;
    anything else (no data, custom errors) gives None.
    """
    if len(data) >= 68 and data[:4] == _ERROR_SELECTOR:
        try:
            offset = int.from_bytes(data[4:36], "big")
            start = 4 + offset
            length = int.from_bytes(data[start : start + 32], "big")
            raw = data[start + 32 : start + 32 + length]
            if len(raw) == length:
                return raw.decode("utf-8", errors="replace")
        except (ValueError, OverflowError):
            return None
        return None
    if len(data) == 36 and data[:4] == _PANIC_SELECTOR:
        return f"panic: {hex(int.from_bytes(data[4:], 'big'))}"
    return None


class Snap:
    """Mutable snapshot handle: reverting re-arms it so it can be reverted to again."""

    __slots__ = ("ident",)

    def __init__(self, ident: object) -> None:
        self.ident = ident
