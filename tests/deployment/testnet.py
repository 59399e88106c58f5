"""An anvil playing a testnet for the deployment tests: its own chain id, automine and a
base fee (as a public testnet has), a token with 6 decimals and a keyfile account
that signs through ape without a prompt. The tests started it, so they may fund accounts
and move its clock."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import astuple
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
    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        argv = [anvil_binary(), "--silent", "--port", str(port), "--chain-id", str(CHAIN_ID)]
        self.process = anvil_process.start(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.rpc("eth_chainId", [])
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                self._conn = None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send(self, sender: str, to: str | None, data: bytes) -> dict:
        """A transaction as a wallet sends it: gas priced by the node, mined by automine."""
        tx = {"from": sender, "data": "0x" + data.hex(), **({"to": to} if to else {})}
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
    env = {
        **os.environ,
        "APE_DATA_FOLDER": str(data_folder),
        "PYTHONPATH": str(REPO_ROOT),
        "PATH": f"{REPO_ROOT / '.venv/bin'}:{REPO_ROOT / 'node_modules/.bin'}:{os.environ['PATH']}",
    }
    env.pop(f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE", None)
    if passphrase is not None:
        env[f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE"] = passphrase
    return subprocess.run(
        [str(REPO_ROOT / ".venv/bin/ape"), *argv],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def put_in_use(net: StandInTestnet, manifest: dict, operator: str) -> dict[str, str]:
    """Use the deployed instance as its users would: two traders (keys the harness holds,
    tokens from the minter) deposit and trade 500 lots through the operator, one cancels
    an order, the oracle publishes a fresh price and the Governor's owner schedules a call
    (every role impersonated: the tests started this node). Return the traders."""
    from harness.core import orders
    from harness.evm.base import extra_accounts
    from pyspec.settlement import Order
    from pyspec.state import OrderBook

    address = {n: c["address"].lower() for n, c in manifest["contracts"].items()}
    token = manifest["request"]["token"]
    owner, oracle = manifest["request"]["owner"], manifest["request"]["oracle"]

    def call(sender: str, contract: str, to: str, fn: str, *args) -> dict:
        abi = artifacts.load(contract).abi
        return net.send(
            sender, to, FunctionCodec(next(f for f in abi if f.get("name") == fn)).encode(args)
        )

    long, short = extra_accounts(2)
    for who in (long, short, operator, owner, oracle):
        net.rpc("anvil_impersonateAccount", [who])
        net.rpc("anvil_setBalance", [who, hex(10**20)])
    for trader in (long, short):
        call(MINTER, "MockToken", token, "mint", trader, 5_000 * 10**6)
        call(trader, "MockToken", token, "approve", address["PerpEngine"], 5_000 * 10**6)
        call(trader, "PerpEngine", address["PerpEngine"], "deposit", 5_000 * 10**6)
    now = int(net.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    call(oracle, "PerpEngine", address["PerpEngine"], "update_price", 0, 1_010_000, now)
    book = OrderBook(address["Settlement"], CHAIN_ID, operator)
    buy = Order(long, 0, True, 500, 1_010_000, False, 1, now + 86_400)
    sell = Order(short, 0, False, 500, 1_010_000, False, 1, now + 86_400)
    signed = [(o, orders.sign(book, o)) for o in (buy, sell)]
    call(operator, "Settlement", address["Settlement"], "settle",
         astuple(buy), signed[0][1], astuple(sell), signed[1][1], 500, 1_010_000)  # fmt: skip
    resting = Order(long, 0, True, 100, 1_000_000, False, 2, now + 86_400)
    call(long, "Settlement", address["Settlement"], "cancel_order", astuple(resting))
    set_oracle = next(
        f for f in artifacts.load("EngineGovernance").abi if f.get("name") == "set_oracle"
    )
    data = FunctionCodec(set_oracle).encode([oracle])
    call(owner, "Governor", address["Governor"], "schedule", address["PerpEngine"], data)
    return {"long": long, "short": short}
