"""The deployment tests' testnet: ``harness.deployed.rehearsal``'s stand-in (its own chain
id, automine and a base fee, a token with 6 decimals, a keyfile account that signs
through ape without a prompt). The tests started it, so they may fund accounts, move its
clock and put the instance they deploy in use."""

from __future__ import annotations

from dataclasses import astuple

from harness.deployed.rehearsal import (  # noqa: F401 (the tests' names for them)
    ALIAS,
    CHAIN_ID,
    MINTER,
    PASSPHRASE,
    StandInTestnet,
    ape,
    keyfile_account,
)
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec


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
