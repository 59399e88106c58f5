"""Pre-deployment check of a collateral token: a transfer round trip on a private fork.

The engine pulls collateral with ``transferFrom`` and pays it out with ``transfer``; it
accepts a transfer that returns nothing or ``true`` and refuses one that returns ``false``
or moves other than the amount asked (``PerpEngine._pull``). A token that fails here
would make every deposit revert, so both legs are run on the real token, on a throwaway
anvil fork of the target chain, before the engine is deployed against it.

    from deployment.token_check import check_token
    checks = check_token(rpc_url, usdc, whale, 1_000 * 10**6, decimals=6)
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from eth_abi import decode, encode
from eth_utils import keccak

from deployment import anvil_process

REPO_ROOT = Path(__file__).resolve().parents[1]

# A fresh account, the far end of the round trip: no history, so no blocklist or hook.
PROBE = "0x" + keccak(b"deployment.token_check probe")[12:].hex()
# Explicit gas, so that a reverting transaction is mined (with its reason), not refused
# by gas estimation.
TX_GAS = 1_000_000
GAS_MONEY = 10**21  # wei given to the impersonated senders, whatever the fork's gas price

Check = tuple[str, object, object]  # (label, actual, expected)


class TokenCheckError(Exception):
    """The token failed a check; ``checks`` holds the checks made, the failed one last."""

    def __init__(self, reason: str, checks: list[Check]) -> None:
        super().__init__(reason)
        self.checks = checks


class ForkError(RuntimeError):
    """The fork could not be started or answered an RPC call with an error."""


class _Rpc:
    """JSON-RPC over one HTTP connection (this module stands apart from the harness)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.next_id = 0

    def rpc(self, method: str, params: list):
        self.next_id += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        )
        try:
            self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
            reply = json.loads(self.conn.getresponse().read())
        except (OSError, http.client.HTTPException):
            self.conn.close()  # a refused connection leaves the request half-started
            raise
        if "error" in reply:
            raise ForkError(f"{method}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        self.conn.close()


def anvil_binary() -> str:
    """``$ANVIL_BIN``, the npm-installed anvil (its native binary first), or one on PATH."""
    if os.environ.get("ANVIL_BIN"):
        return os.environ["ANVIL_BIN"]
    modules = REPO_ROOT / "node_modules"
    for cand in [*sorted(modules.glob("@foundry-rs/anvil-*/bin/anvil")), modules / ".bin/anvil"]:
        if os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which("anvil")
    if found is None:
        raise ForkError("anvil not found: run `make setup` (npm ci) or set ANVIL_BIN")
    return found


def _selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def _revert_reason(out: bytes) -> str | None:
    """The string of an ``Error(string)`` revert, else None."""
    if out[:4] != _selector("Error(string)"):
        return None
    try:
        return decode(["string"], out[4:])[0]
    except Exception:  # noqa: BLE001 (malformed revert data: reported as hex)
        return None


def check_token(
    rpc_url: str,
    token: str,
    holder: str,
    amount: int,
    *,
    decimals: int,
    startup_timeout: float = 60.0,
) -> list[Check]:
    """Check ``token`` on a private anvil fork of ``rpc_url``: ``decimals()``, then
    ``transfer(holder -> probe, amount)`` and ``transferFrom(probe -> holder, amount)``
    sent by the holder after the probe's ``approve(holder, amount)``, as the engine pulls
    into itself. ``holder`` must hold ``amount`` on the forked chain.

    Returns every check when all pass; raises ``TokenCheckError`` with a one-line reason at
    the first that fails, so a deployment script cannot carry on past a bad token.
    """
    if amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    with private_fork(rpc_url, startup_timeout) as chain:
        return _Run(chain, token.lower()).round_trip(holder.lower(), amount, decimals)


@contextlib.contextmanager
def private_fork(rpc_url: str, startup_timeout: float = 60.0) -> Iterator[_Rpc]:
    """An anvil fork of ``rpc_url`` on a free port, stopped on exit; a throwaway fork, so
    it keeps no RPC storage cache behind."""
    port = anvil_process.free_port()
    cmd = [
        anvil_binary(),
        "--fork-url",
        rpc_url,
        "--port",
        str(port),
        "--silent",
        "--no-storage-caching",
    ]
    with tempfile.TemporaryFile() as stderr:
        proc = anvil_process.start(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )
        chain = _Rpc(port)
        try:
            _wait_ready(chain, proc, stderr, startup_timeout)
            yield chain
        finally:
            chain.close()
            anvil_process.stop(proc)


def _wait_ready(chain: _Rpc, proc: subprocess.Popen, stderr, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stderr.seek(0)
            lines = stderr.read().decode(errors="replace").strip().splitlines()
            last = lines[-1] if lines else "no output"
            raise ForkError(f"anvil fork exited with {proc.returncode}: {last}")
        try:
            chain.rpc("eth_chainId", [])
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    raise ForkError(f"anvil fork not ready after {timeout} s")


class _Run:
    """The checks on one fork, made in order and kept for the report."""

    def __init__(self, chain: _Rpc, token: str) -> None:
        self.chain, self.token = chain, token
        self.checks: list[Check] = []

    def round_trip(self, holder: str, amount: int, decimals: int) -> list[Check]:
        actual = self.view("decimals()")
        self.expect("decimals", actual, decimals, f"decimals() is {actual}, expected {decimals}")
        held = self.view("balanceOf(address)", holder)
        self.expect(
            "holder balance",
            held,
            f">= {amount}",
            f"holder holds {held}, less than amount {amount}",
            ok=held >= amount,
        )
        # anvil's automine answers before the block is mined: mine each one by hand
        self.chain.rpc("evm_setAutomine", [False])
        for account in (holder, PROBE):
            self.chain.rpc("anvil_impersonateAccount", [account])
            self.chain.rpc("anvil_setBalance", [account, hex(GAS_MONEY)])
        pay = self.data("transfer(address,uint256)", PROBE, amount)
        self.leg("transfer", holder, holder, PROBE, amount, pay)
        self.send("approve", PROBE, self.data("approve(address,uint256)", holder, amount))
        pull = self.data("transferFrom(address,address,uint256)", PROBE, holder, amount)
        self.leg("transferFrom", holder, PROBE, holder, amount, pull)
        return self.checks

    def expect(self, label: str, actual, expected, reason: str, ok: bool | None = None) -> None:
        self.checks.append((label, actual, expected))
        if not (actual == expected if ok is None else ok):
            raise TokenCheckError(reason, self.checks)

    def leg(self, name: str, sender: str, source: str, receiver: str, amount: int, data: bytes):
        """One transfer: it succeeds, and ``source`` pays exactly what ``receiver`` gets."""
        before_source, before_receiver = self.balance(source), self.balance(receiver)
        self.send(name, sender, data)
        received = self.balance(receiver) - before_receiver
        self.expect(
            f"{name}: received",
            received,
            amount,
            f"{name}: fee on transfer (received {received} of {amount})",
        )
        paid = before_source - self.balance(source)
        self.expect(
            f"{name}: paid",
            paid,
            amount,
            f"{name}: rebasing or fee (sender paid {paid} for {amount})",
        )

    def send(self, name: str, sender: str, data: bytes) -> None:
        """Send from an impersonated account; check it succeeded and returned nothing or
        true, as the engine's ``default_return_value=True`` accepts."""
        tx = {"from": sender, "to": self.token, "data": "0x" + data.hex(), "gas": hex(TX_GAS)}
        tx_hash = self.chain.rpc("eth_sendTransaction", [tx])
        self.chain.rpc("evm_mine", [])
        receipt = self.chain.rpc("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:
            raise ForkError(f"{name}: transaction {tx_hash} not mined by evm_mine")
        # the call tracer gives the return (or revert) data the receipt lacks
        trace = self.chain.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        out = bytes.fromhex((trace.get("output") or "0x")[2:])
        succeeded = receipt["status"] == "0x1"
        reason = _revert_reason(out) or "0x" + out.hex()
        self.expect(f"{name}: succeeded", succeeded, True, f"{name} reverted: {reason}")
        returned = _returned(out)
        self.expect(
            f"{name}: returns",
            returned,
            "nothing or true",
            f"{name} returns {returned}",
            ok=returned in ("nothing", "true"),
        )

    def view(self, sig: str, *args) -> int:
        """A uint256 view of the token; a revert or a short return fails the run."""
        call = {"to": self.token, "data": "0x" + self.data(sig, *args).hex()}
        try:
            out = self.chain.rpc("eth_call", [call, "latest"])
        except ForkError as e:
            raise TokenCheckError(f"{sig} failed: {e}", self.checks) from e
        if len(out) < 2 + 64:
            raise TokenCheckError(f"{sig} returned {out!r}, not a uint256", self.checks)
        return int(out[2:66], 16)

    def balance(self, account: str) -> int:
        return self.view("balanceOf(address)", account)

    @staticmethod
    def data(sig: str, *args) -> bytes:
        types = sig[sig.index("(") + 1 : -1].split(",") if args else []
        return _selector(sig) + encode(types, list(args))


def _returned(out: bytes) -> str:
    """What a transfer returned, read as the engine reads it: nothing, or a bool word."""
    if not out:
        return "nothing"
    if len(out) >= 32 and int.from_bytes(out[:32], "big") in (0, 1):
        return "true" if out[31] else "false"
    return "0x" + out.hex()
