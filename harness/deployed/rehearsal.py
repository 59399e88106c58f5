"""A testnet deployment rehearsed on this machine: an anvil playing the testnet (its own
chain id, automine, a base fee), a fresh keyfile account whose passphrase is in the
environment (as CI holds it), and a token with 6 decimals; then a command run against it.

    python -m harness.deployed.rehearsal -- ape run deploy --network {url} \\
        --account {account} --config configs/sepolia.yaml --token {token} \\
        --token-holder {holder} --oracle deployer --operator <address> [--dry-run]

``{url}``, ``{account}``, ``{token}`` and ``{holder}`` are filled in; the command runs with
``APE_DATA_FOLDER`` holding the keyfile and ``APE_ACCOUNTS_<alias>_PASSPHRASE`` set, and its
exit status is the rehearsal's. ``--round-trip`` runs what a protocol team's CI runs
instead: deploy, deploy again (nothing to do), verify, audit and queue, each command shown
before its output. The deployment tests use the same stand-in.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account

from deployment import anvil_process
from harness import REPO_ROOT
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
from harness.evm.anvil import RpcChain, anvil_binary
from harness.evm.base import ChainError

CHAIN_ID = 424242
ALIAS = "ci_deployer"
PASSPHRASE = "not-a-secret"
# anvil's unlocked development account 0 mints the token; it holds no role
MINTER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


class StandInTestnet(RpcChain):
    """An anvil playing a testnet on a free port: its own chain id, automine and a base
    fee, as a public testnet has."""

    def __init__(self) -> None:
        # a free port can be taken by another process before anvil binds it: then this
        # anvil exits, and whatever answers there is not it (another chain id), so retry
        for _attempt in range(3):
            super().__init__("127.0.0.1", anvil_process.free_port())
            argv = [
                anvil_binary(),
                "--silent",
                "--port",
                str(self.port),
                "--chain-id",
                str(CHAIN_ID),
            ]
            self.process = anvil_process.start(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self._ready():
                return
            self.stop()
        raise ChainError("the stand-in testnet's anvil did not start on a free port")

    def _ready(self) -> bool:
        deadline = time.monotonic() + 30
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                if int(self.rpc("eth_chainId", []), 16) == CHAIN_ID:
                    return self.process.poll() is None
            except OSError:
                self._conn = None
            time.sleep(0.05)
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send(self, sender: str, to: str | None, data: bytes) -> dict:
        """A transaction as a wallet sends it: gas priced by the node, mined by automine,
        with a quarter more gas than estimated (as ``scripts/deploy.py`` sends): mined a
        second after the estimate's block, a call accrues funding and writes storage the
        estimate left alone (a settle ran out of gas at the estimate under load)."""
        tx = {"from": sender, "data": "0x" + data.hex(), **({"to": to} if to else {})}
        tx["gas"] = hex(int(self.rpc("eth_estimateGas", [tx]), 16) * 5 // 4)
        tx_hash = self.rpc("eth_sendTransaction", [tx])
        # automine may answer before the block is written
        deadline = time.monotonic() + 10
        while (receipt := self.rpc("eth_getTransactionReceipt", [tx_hash])) is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if receipt is None or receipt["status"] != "0x1":
            raise ChainError(f"transaction {tx_hash} failed: {receipt}")
        return receipt

    def token(self, name: str = "MockToken", holder: str = MINTER) -> str:
        """A fresh token of ``name`` with 10,000 whole units held by ``holder``."""
        artifact = artifacts.load(name)
        token = self.send(MINTER, None, artifact.initcode())["contractAddress"]
        mint = next(f for f in artifact.abi if f.get("name") == "mint")
        self.send(MINTER, token, FunctionCodec(mint).encode([holder, 10_000 * 10**6]))
        return token

    def stop(self) -> None:
        self.close()
        anvil_process.stop(self.process, timeout=10)


def keyfile_account(data_folder: Path, testnet: StandInTestnet) -> str:
    """A fresh keyfile account ``ALIAS`` in ape's ``data_folder``, funded; its address."""
    account = Account.create()
    folder = data_folder / "accounts"
    folder.mkdir(parents=True, exist_ok=True)
    keyfile = Account.encrypt(account.key, PASSPHRASE)
    (folder / f"{ALIAS}.json").write_text(json.dumps(keyfile))
    testnet.rpc("anvil_setBalance", [account.address, hex(10**20)])
    return account.address.lower()


def ape(data_folder: Path, *argv: str, passphrase: str | None = PASSPHRASE, timeout=120):
    """``ape <argv>`` as CI runs it: no terminal, the passphrase in the environment."""
    return subprocess.run(
        [str(REPO_ROOT / ".venv/bin/ape"), *argv],
        cwd=REPO_ROOT,
        env=environment(data_folder, passphrase),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# the round trip a protocol team's CI makes: deploy, rerun (nothing to do), verify, the
# audit of the deployed instance on a fork, its ADL candidates
DEPLOY = (
    "ape run deploy --network {url} --account {account} --config sepolia --token {token} "
    "--token-holder {holder} --oracle deployer --operator {operator} --manifest {manifest}"
)
ROUND_TRIP = (
    DEPLOY,
    DEPLOY,
    "ape run verify --network {url} --manifest {manifest}",
    "ape run audit --network {url} --manifest {manifest} --steps 20 --seed 1 --out {folder}/audit",
    "ape run queue --network {url} --manifest {manifest}",
)
# an operator nobody holds a key of: the stand-in's own accounts are development ones
OPERATOR = "0x000000000000000000000000000000000000dEaD"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.deployed.rehearsal", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--round-trip",
        action="store_true",
        help="deploy, deploy again, verify, audit and queue, each shown with its output",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.round_trip == bool(command):
        parser.error("either --round-trip or -- then the command to run against the stand-in")
    commands = [c.split(" ") for c in ROUND_TRIP] if args.round_trip else [command]
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as folder:
        net = StandInTestnet()
        try:
            account = keyfile_account(Path(folder), net)
            values = {
                "url": net.url, "account": ALIAS, "token": net.token(), "holder": MINTER,
                "operator": OPERATOR, "folder": folder, "manifest": f"{folder}/{CHAIN_ID}.json",
            }  # fmt: skip
            print(
                f"stand-in testnet: chain {CHAIN_ID} at {net.url}; keyfile account {ALIAS} "
                f"({account}); token {values['token']} held by {MINTER}",
                flush=True,
            )
            for words in commands:
                filled = [word.format(**values) for word in words]
                if args.round_trip:
                    print(f"\n$ {' '.join(filled)}", flush=True)
                code = subprocess.call(filled, cwd=REPO_ROOT, env=environment(Path(folder)))
                if code:
                    return code
            return 0
        finally:
            net.stop()


def environment(data_folder: Path, passphrase: str | None = PASSPHRASE) -> dict[str, str]:
    """A CI job's environment for ape: no terminal to type in, the keyfile's passphrase in
    ape's own variable, the project's Python and anvil first on the PATH."""
    env = {
        **os.environ,
        "APE_DATA_FOLDER": str(data_folder),
        "PYTHONPATH": str(REPO_ROOT),
        # ape-vyper's own config model makes pydantic warn on every ape command (the Makefile
        # silences the same message)
        "PYTHONWARNINGS": "ignore:Field 'import_remapping' has an incomplete definition",
        "PATH": f"{REPO_ROOT / '.venv/bin'}:{REPO_ROOT / 'node_modules/.bin'}:{os.environ['PATH']}",
    }
    env.pop(f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE", None)
    if passphrase is not None:
        env[f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE"] = passphrase
    return env


if __name__ == "__main__":
    sys.exit(main())
