"""Chains reached over raw JSON-RPC: a private anvil process, or the node of an ape network.

``RpcChain`` speaks the ``Chain`` interface to any anvil-compatible node over one
keep-alive HTTP connection with manual mining: a transaction is 3 round trips (send,
``evm_mine``, receipt); a failed one costs one more (``debug_traceTransaction`` with the
call tracer returns the revert data of the mined transaction itself). ``AnvilChain``
starts and owns an anvil process; ``ForkChain`` starts one forking a node that something
else runs, which it never writes to.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import socket
import subprocess
import time

from deployment import anvil_process
from harness import REPO_ROOT
from harness.evm.base import (
    ACCOUNT_BALANCE,
    ACCOUNTS,
    CHAIN_ID,
    GENESIS_TIME,
    HARDFORK,
    N_ACCOUNTS,
    TX_GAS,
    ZERO_ADDRESS,
    ChainError,
    Log,
    Snap,
    TxResult,
    decode_revert,
    extra_accounts,
)

_GAS_HEX = hex(TX_GAS)
_HEADERS = {"Content-Type": "application/json"}


class RpcChain:
    """The ``Chain`` interface over JSON-RPC to ``host:port`` (manual mining).

    ``transact().output`` is b"" on success (a receipt carries no return data; use
    ``call``), and the revert data on failure.
    """

    name = "rpc"
    # the gas price of every transaction: 0 on a chain without base fee (every chain the
    # harness starts but a fork of a node with one: ``ForkChain``)
    gas_price = 0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.accounts = list(ACCOUNTS)
        self._conn: http.client.HTTPConnection | None = None
        self._id = 0
        self._time: int | None = None  # None: the node's own clock (its latest block)

    # -- transport --------------------------------------------------------------------
    def _connect(self) -> None:
        self._conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self._conn.connect()
        self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def _alive(self) -> bool:
        """Whether a dropped connection is worth one retry."""
        return True

    def _rpc_raw(self, method: str, params: list) -> dict:
        self._id += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params},
            separators=(",", ":"),
        )
        for attempt in (0, 1):
            if self._conn is None:
                self._connect()
            try:
                self._conn.request("POST", "/", body, _HEADERS)
                payload = self._conn.getresponse().read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self._conn = None
                if attempt or not self._alive():
                    raise
        return json.loads(payload)

    def rpc(self, method: str, params: list):
        """One JSON-RPC call; raise ``ChainError`` on an error reply."""
        msg = self._rpc_raw(method, params)
        if "error" in msg:
            raise ChainError(f"{method}: {msg['error']}")
        return msg["result"]

    # -- Chain interface --------------------------------------------------------------
    def now(self) -> int:
        if self._time is None:
            return int(self.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        return self._time

    def set_time(self, timestamp: int) -> None:
        if timestamp != self.now():  # an empty block, so that calls see the time at once
            self.rpc("evm_mine", [timestamp])
        self._time = timestamp

    def _send(self, tx: dict) -> dict:
        tx_hash = self.rpc("eth_sendTransaction", [tx])
        # every block at the harness's time (anvil accepts equal timestamps)
        self.rpc("evm_mine", [] if self._time is None else [self._time])
        receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:
            raise ChainError(f"transaction {tx_hash} not mined by evm_mine")
        return receipt

    def _revert_data(self, tx_hash: str) -> bytes:
        trace = self.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        out = trace.get("output") or "0x"
        return bytes.fromhex(out[2:])

    def nonce(self, account: str) -> int:
        return int(self.rpc("eth_getTransactionCount", [account, "latest"]), 16)

    def deploy(self, initcode: bytes, sender: str) -> str:
        tx = {"from": sender, "data": "0x" + initcode.hex(), "gas": _GAS_HEX}
        tx["gasPrice"] = hex(self.gas_price)
        receipt = self._send(tx)
        if receipt["status"] != "0x1" or not receipt.get("contractAddress"):
            out = self._revert_data(receipt["transactionHash"])
            raise ChainError(f"deploy failed: reason={decode_revert(out)!r}")
        return receipt["contractAddress"].lower()

    def transact(self, sender: str, to: str, data: bytes) -> TxResult:
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": _GAS_HEX}
        receipt = self._send({**tx, "gasPrice": hex(self.gas_price)})
        gas_used = int(receipt["gasUsed"], 16)
        if receipt["status"] == "0x1":
            return TxResult(True, None, _logs(receipt), gas_used, b"")
        out = self._revert_data(receipt["transactionHash"])
        return TxResult(False, decode_revert(out), (), gas_used, out)

    def call(self, to: str, data: bytes, sender: str | None = None) -> TxResult:
        tx = {"from": sender or ZERO_ADDRESS, "to": to, "data": "0x" + data.hex(), "gas": _GAS_HEX}
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

    def snapshot(self) -> Snap:
        return Snap(self.rpc("evm_snapshot", []))

    def revert(self, snap: Snap, rearm: bool = True) -> None:
        if not self.rpc("evm_revert", [snap.ident]):
            raise ChainError(f"evm_revert({snap.ident}) failed")
        if rearm:
            snap.ident = self.rpc("evm_snapshot", [])  # anvil consumes the id: re-arm

    def close(self) -> None:
        self._disconnect()


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


def anvil_binary() -> str:
    """The npm-installed anvil (its native binary when present), or ``$ANVIL_BIN``."""
    env = os.environ.get("ANVIL_BIN")
    if env:
        if not os.access(env, os.X_OK):
            raise ChainError(f"anvil not found: ANVIL_BIN={env} is not an executable")
        return env
    # Prefer the native binary shipped in the platform package: no node wrapper process.
    for cand in sorted((REPO_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(cand, os.X_OK):
            return str(cand)
    wrapper = REPO_ROOT / "node_modules" / ".bin" / "anvil"
    if wrapper.exists():
        return str(wrapper)
    raise ChainError(
        "anvil not found in node_modules: run `make setup` (it runs `npm ci`, which installs "
        "the pinned anvil) or set ANVIL_BIN"
    )


class AnvilChain(RpcChain):
    """A private anvil process (``--no-mining``) on a free localhost port."""

    name = "anvil"
    chain_id = CHAIN_ID
    # the harness's own chain has no fees; a fork keeps its node's (``ForkChain``)
    _fees: tuple[str, ...] = ("--base-fee", "0", "--gas-price", "0")

    def __init__(
        self,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
        genesis_time: int | None = GENESIS_TIME,
    ) -> None:
        """``genesis_time``: the first block's time; None keeps the node's (a fork's)."""
        super().__init__("127.0.0.1", 0)
        clock = () if genesis_time is None else ("--timestamp", str(genesis_time))
        self._extra_args = (*extra_args, "--no-mining", *clock)
        self._genesis_time = genesis_time
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen | None = None
        self._start()
        self._time = genesis_time
        atexit.register(self.close)

    def add_accounts(self, count: int) -> None:
        """Fund and impersonate ``count`` more accounts (``extra_accounts``) and append
        them to ``accounts`` (the embedded chain's ``add_accounts``)."""
        for account in extra_accounts(count):
            self.rpc("anvil_setBalance", [account, hex(ACCOUNT_BALANCE)])
            self.rpc("anvil_impersonateAccount", [account])
            self.accounts.append(account)

    def _start(self) -> None:
        last_err: Exception | None = None
        for _attempt in range(3):
            self.port = anvil_process.free_port()
            cmd = [
                anvil_binary(),
                "--silent",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--accounts", str(N_ACCOUNTS),
                "--balance", str(ACCOUNT_BALANCE // 10**18),
                "--chain-id", str(self.chain_id),
                "--hardfork", HARDFORK,
                *self._fees,
                "--gas-limit", str(TX_GAS),
                *self._extra_args,
            ]  # fmt: skip
            self._proc = anvil_process.start(
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
        accounts = self.rpc("eth_accounts", [])
        if [a.lower() for a in accounts[:N_ACCOUNTS]] != self.accounts:
            raise ChainError(f"unexpected anvil accounts: {accounts[:3]}...")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise ChainError(f"anvil exited with {self._proc.returncode}: {err.strip()}")
            try:
                self._connect()
                if int(self.rpc("eth_chainId", []), 16) == self.chain_id:
                    return
            except (OSError, http.client.HTTPException):
                self._conn = None
                time.sleep(0.05)
        raise ChainError("timeout waiting for anvil")

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _kill(self) -> None:
        self._disconnect()
        proc, self._proc = self._proc, None
        if proc is not None:
            anvil_process.stop(proc)
            if proc.stderr is not None:
                proc.stderr.close()

    def restart(self) -> None:
        """Fresh anvil process (empty chain): for long campaigns, re-deploy afterwards."""
        self._kill()
        self._start()
        self._time = self._genesis_time

    def close(self) -> None:
        self._kill()


class ForkChain(AnvilChain):
    """A private anvil forking a node that something else runs (an ape network's, a
    deployed instance's): the harness mines, impersonates and moves time on its own copy,
    so the node keeps its mining mode, balances and clock. The copy keeps the node's base
    fee and its EIP-1559 course from block to block: every transaction is priced at the
    base fee of the block it will be mined in (``gas_price``), and impersonated senders get
    ether for it. Its chain id is ``chain_id`` (the harness's by default; an audit keeps
    the node's, which signed orders and the imported state name). ``block``: the node's
    block to fork at (default its latest; an audit's replay forks where the audit did)."""

    name = "fork"
    _fees = ()

    def __init__(
        self, uri: str, on_close=None, chain_id: int = CHAIN_ID, block: int | None = None
    ) -> None:
        self._on_close = on_close
        self.chain_id = chain_id
        at = () if block is None else ("--fork-block-number", str(block))
        super().__init__(("--fork-url", uri, "--no-storage-caching", *at), genesis_time=None)
        self.gas_price = self.next_base_fee()

    def next_base_fee(self) -> int:
        """The base fee of the next block (EIP-1559, from the latest's)."""
        history = self.rpc("eth_feeHistory", ["0x1", "latest", []])
        return int(history["baseFeePerGas"][-1], 16)

    def _send(self, tx: dict) -> dict:
        self.gas_price = self.next_base_fee()
        return super()._send({**tx, "gasPrice": hex(self.gas_price)})

    def impersonate(self, account: str) -> None:
        """Send from ``account`` on the fork (a role's holder, a harness actor), with ether
        for gas should the fork have a base fee."""
        self.rpc("anvil_impersonateAccount", [account])
        if self.gas_price:
            self.rpc("anvil_setBalance", [account, hex(ACCOUNT_BALANCE)])

    def close(self) -> None:
        super().close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


def ape_network_chain(choice: str) -> ForkChain:
    """A private fork of the ape network ``choice``'s node (ape starts it if it runs it).
    A live network is refused unless ape names it a fork (``ethereum:sepolia-fork``): the
    fork would read all it touches from a public RPC."""
    from ape import networks

    if "://" in choice:
        raise ChainError(
            f"ape:{choice}: a URL says nothing of what it serves; name a local or fork "
            "network (ape:ethereum:local:foundry, ape:ethereum:sepolia-fork:foundry)"
        )
    ecosystem_name, _, rest = choice.partition(":")
    ecosystem = networks.get_ecosystem(ecosystem_name or networks.default_ecosystem_name)
    network = ecosystem.get_network(rest.partition(":")[0] or ecosystem.default_network_name)
    if not (network.is_local or network.is_fork):
        raise ChainError(
            f"ape:{choice}: {network.name} is a live network; run on its fork "
            f"(ape:{ecosystem.name}:{network.name}-fork:foundry) or a local one"
        )
    context = networks.parse_network_choice(choice)
    provider = context.__enter__()
    return ForkChain(provider.uri, on_close=lambda: context.__exit__(None, None, None))
