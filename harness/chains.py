"""Chain backends for the differential harness.

Two backends share one small, fast interface (``Chain``):

* ``RevmChain`` (``harness.revm_chain``): revm in process through pyrevm, the default
  ("embedded"): fast enough to compare the full state after every step. Its gas figures
  are not a real chain's (transactions share one journal); measure gas on anvil.
* ``AnvilChain``: a local ``anvil`` process driven over raw JSON-RPC on one keep-alive
  HTTP connection. By default (manual mining) a transaction is 3 round trips
  (send, ``evm_mine``, receipt); a failed transaction costs one more
  (``debug_traceTransaction`` with the call tracer, which returns the revert data of the
  mined transaction itself). See ``AnvilChain`` for the 1-round-trip automine mode.

Both backends use the same 20 accounts (anvil's default mnemonic), gas price 0 (so ETH
balances never change) and the Prague hardfork, so the same sequence of deployments
gives the same contract addresses on both.

No ape or web3 contract objects are involved: calldata and logs are raw bytes; see
``harness.abi`` for encoding and decoding.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "ACCOUNTS",
    "AnvilChain",
    "Chain",
    "ChainError",
    "Log",
    "TxResult",
    "decode_revert",
    "make_chain",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Gas limit of every transaction and call (no estimation round trip).
TX_GAS = 30_000_000
#: Hardfork used by both backends (py-evm's latest is Prague; vyper 0.4.3 defaults to it).
HARDFORK = "prague"
CHAIN_ID = 31337
N_ACCOUNTS = 20
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

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_ZERO_ADDRESS = "0x" + "00" * 20


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
    name: str
    accounts: list[str]

    def deploy(self, initcode: bytes, sender: str) -> str: ...
    def transact(self, sender: str, to: str, data: bytes) -> TxResult: ...
    def call(self, to: str, data: bytes, sender: str | None = None) -> TxResult: ...
    def snapshot(self) -> object: ...
    def revert(self, snap: object) -> None: ...
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


class _Snap:
    """Mutable snapshot handle: reverting re-arms it so it can be reverted to again."""

    __slots__ = ("ident", "extra")

    def __init__(self, ident: object, extra: object = None) -> None:
        self.ident = ident
        self.extra = extra


# --------------------------------------------------------------------------------------
# Anvil (raw JSON-RPC)
# --------------------------------------------------------------------------------------


def _anvil_binary() -> str:
    env = os.environ.get("ANVIL_BIN")
    if env:
        return env
    # Prefer the native binary shipped in the platform package: no node wrapper process.
    for cand in sorted((REPO_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(cand, os.X_OK):
            return str(cand)
    wrapper = REPO_ROOT / "node_modules" / ".bin" / "anvil"
    if wrapper.exists():
        return str(wrapper)
    raise ChainError("anvil not found: run `make venv` (npm ci) or set ANVIL_BIN")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnvilChain:
    """A private anvil process on a free localhost port.

    ``mining="manual"`` (default): anvil runs with ``--no-mining``; a transaction is
    ``eth_sendTransaction`` + ``evm_mine`` + ``eth_getTransactionReceipt`` (3 round
    trips). ``mining="auto"``: automine and one ``eth_sendTransactionSync`` round trip
    (about 2x faster), but anvil 1.7.1 then sometimes loses a transaction sent after many
    ``evm_revert``s on a long chain (the call hangs 30 s and fails with "Transaction
    confirmation timeout"), so use it only for workloads without snapshot/revert.

    ``transact().output`` is b"" on success (a receipt carries no return data; use
    ``call``), and the revert data on failure.
    """

    name = "anvil"

    def __init__(
        self,
        mining: str = "manual",
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        if mining not in ("manual", "auto"):
            raise ValueError("mining must be 'manual' or 'auto'")
        self.mining = mining
        self._extra_args = tuple(extra_args) + (("--no-mining",) if mining == "manual" else ())
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen | None = None
        self._conn: http.client.HTTPConnection | None = None
        self._id = 0
        self.accounts = list(ACCOUNTS)
        self._start()
        atexit.register(self.close)

    # -- process ----------------------------------------------------------------------
    def _start(self) -> None:
        binary = _anvil_binary()
        last_err: Exception | None = None
        for _attempt in range(3):
            self.port = _free_port()
            cmd = [
                binary,
                "--silent",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--accounts", str(N_ACCOUNTS),
                "--balance", str(ACCOUNT_BALANCE // 10**18),
                "--chain-id", str(CHAIN_ID),
                "--hardfork", HARDFORK,
                "--base-fee", "0",
                "--gas-price", "0",
                "--gas-limit", str(TX_GAS),
                *self._extra_args,
            ]  # fmt: skip
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            try:
                self._wait_ready()
                break
            except ChainError as e:
                last_err = e
                self._kill()
        else:
            raise ChainError(f"anvil did not start: {last_err}")
        accs = self._rpc("eth_accounts", [])
        if [a.lower() for a in accs[:N_ACCOUNTS]] != self.accounts:
            raise ChainError(f"unexpected anvil accounts: {accs[:3]}...")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise ChainError(f"anvil exited with {self._proc.returncode}: {err.strip()}")
            try:
                self._connect()
                if int(self._rpc("eth_chainId", []), 16) == CHAIN_ID:
                    return
            except (OSError, http.client.HTTPException):
                self._conn = None
                time.sleep(0.05)
        raise ChainError("timeout waiting for anvil")

    def _connect(self) -> None:
        host = getattr(self, "host", "127.0.0.1")
        self._conn = http.client.HTTPConnection(host, self.port, timeout=120)
        self._conn.connect()
        self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _kill(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stderr is not None:
            proc.stderr.close()

    def restart(self) -> None:
        """Fresh anvil process (empty chain): for long campaigns, re-deploy afterwards."""
        self._kill()
        self._start()

    # -- RPC --------------------------------------------------------------------------
    _HEADERS = {"Content-Type": "application/json"}

    def _rpc_raw(self, method: str, params: list) -> dict:
        self._id += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params},
            separators=(",", ":"),
        )
        for attempt in (0, 1):
            conn = self._conn
            if conn is None:
                self._connect()
                conn = self._conn
            try:
                conn.request("POST", "/", body, self._HEADERS)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self._conn = None
                if attempt or self._proc is None or self._proc.poll() is not None:
                    raise
        return json.loads(payload)

    def _rpc(self, method: str, params: list):
        msg = self._rpc_raw(method, params)
        if "error" in msg:
            raise ChainError(f"{method}: {msg['error']}")
        return msg["result"]

    @staticmethod
    def _logs(receipt: dict) -> tuple[Log, ...]:
        fromhex = bytes.fromhex
        return tuple(
            Log(
                lg["address"].lower(),
                tuple(fromhex(t[2:]) for t in lg["topics"]),
                fromhex(lg["data"][2:]),
            )
            for lg in receipt["logs"]
        )

    def _send(self, tx: dict) -> dict:
        if self.mining == "auto":
            return self._rpc("eth_sendTransactionSync", [tx])
        tx_hash = self._rpc("eth_sendTransaction", [tx])
        self._rpc("evm_mine", [])
        receipt = self._rpc("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:
            raise ChainError(f"transaction {tx_hash} not mined by evm_mine")
        return receipt

    # -- interface --------------------------------------------------------------------
    def deploy(self, initcode: bytes, sender: str) -> str:
        tx = {"from": sender, "data": "0x" + initcode.hex(), "gas": _GAS_HEX, "gasPrice": "0x0"}
        receipt = self._send(tx)
        if receipt["status"] != "0x1" or not receipt.get("contractAddress"):
            out = self._revert_data(receipt["transactionHash"])
            raise ChainError(f"deploy failed: reason={decode_revert(out)!r}")
        return receipt["contractAddress"].lower()

    def transact(self, sender: str, to: str, data: bytes) -> TxResult:
        tx = {
            "from": sender,
            "to": to,
            "data": "0x" + data.hex(),
            "gas": _GAS_HEX,
            "gasPrice": "0x0",
        }
        receipt = self._send(tx)
        gas_used = int(receipt["gasUsed"], 16)
        if receipt["status"] == "0x1":
            return TxResult(True, None, self._logs(receipt), gas_used, b"")
        out = self._revert_data(receipt["transactionHash"])
        return TxResult(False, decode_revert(out), (), gas_used, out)

    def _revert_data(self, tx_hash: str) -> bytes:
        trace = self._rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        out = trace.get("output") or "0x"
        return bytes.fromhex(out[2:])

    def call(self, to: str, data: bytes, sender: str | None = None) -> TxResult:
        tx = {"from": sender or _ZERO_ADDRESS, "to": to, "data": "0x" + data.hex(), "gas": _GAS_HEX}
        msg = self._rpc_raw("eth_call", [tx, "latest"])
        if "error" not in msg:
            return TxResult(True, None, (), 0, bytes.fromhex(msg["result"][2:]))
        err = msg["error"]
        raw = err.get("data")
        if not isinstance(raw, str) or err.get("code") not in (3, -32000, -32003, -32015):
            if "revert" not in str(err.get("message", "")).lower():
                raise ChainError(f"eth_call: {err}")
        out = bytes.fromhex(raw[2:]) if isinstance(raw, str) and raw.startswith("0x") else b""
        return TxResult(False, decode_revert(out), (), 0, out)

    def snapshot(self) -> object:
        return _Snap(self._rpc("evm_snapshot", []))

    def revert(self, snap: object) -> None:
        assert isinstance(snap, _Snap)
        if not self._rpc("evm_revert", [snap.ident]):
            raise ChainError(f"evm_revert({snap.ident}) failed")
        snap.ident = self._rpc("evm_snapshot", [])  # anvil consumes the id: re-arm

    def close(self) -> None:
        self._kill()

    # -- extras (not part of the Chain protocol) --------------------------------------
    def rpc(self, method: str, params: list):
        """Raw JSON-RPC escape hatch (debugging, time travel, ...)."""
        return self._rpc(method, params)


_GAS_HEX = hex(TX_GAS)


class NodeChain(AnvilChain):
    """An anvil-compatible node that something else runs, e.g. the provider of an ape
    network (``ethereum:local:foundry``, a mainnet fork): raw JSON-RPC to its URI, the
    harness accounts impersonated (gas price 0, so they need no ether)."""

    name = "node"

    def __init__(self, uri: str, on_close=None) -> None:
        from urllib.parse import urlparse

        address = urlparse(uri)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 8545
        self.mining = "manual"
        self._proc = None
        self._conn = None
        self._id = 0
        self._on_close = on_close
        self.accounts = list(ACCOUNTS)
        for account in self.accounts:
            self._rpc("anvil_impersonateAccount", [account])

    def restart(self) -> None:
        raise ChainError("a node run by someone else cannot be restarted from here")

    def close(self) -> None:
        self._kill()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


def ape_network_chain(choice: str) -> NodeChain:
    """Connect to the ape network ``choice`` (ape starts its node) and attach to it."""
    from ape import networks

    context = networks.parse_network_choice(choice)
    provider = context.__enter__()
    return NodeChain(provider.uri, on_close=lambda: context.__exit__(None, None, None))


def make_chain(name: str, **kwargs) -> Chain:
    """``"embedded"``, ``"anvil"`` or ``"ape:<network choice>"`` (kwargs go to the
    backend's constructor)."""
    if name.startswith("ape:"):
        return ape_network_chain(name.removeprefix("ape:"))
    if name == "embedded":
        from harness.revm_chain import RevmChain

        return RevmChain(**kwargs)
    if name == "anvil":
        return AnvilChain(**kwargs)
    raise ValueError(f"unknown chain backend {name!r} (expected 'embedded' or 'anvil')")
