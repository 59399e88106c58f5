"""Audit a deployed instance on a private fork: check its code and parameters against its
manifest, attach to its contracts (nothing redeployed), import its state into the spec,
check it equals the chain's, then run the differential campaign from that state.

    python -m harness.deployed.audit --manifest deployments/<chain-id>.json --fork-url URL
        [--seconds 10] [--steps N] [--seed S]

(``make audit ARGS=...``.) The fork is an anvil of its own (``ForkChain``, with the
node's chain id): the node at ``--fork-url`` is only read. On the fork the harness
impersonates the roles (the Governor's owner, the oracle, the operator, the guardian),
funds its own actors (keys it can sign orders with: anvil's accounts and the harness's
extra ones, the roles aside) by the token's ``mint`` when it is the project's MockToken,
else by writing their balances in the token's storage on the fork (``--fund storage``:
the mapping found by probing; the spec's balances follow, no event), and runs the
campaign's action policy from the imported state: every sequence starts from it
(the imported accounts, with their positions, orders and queued Governor calls, and the
funded actors), under every check of a campaign (state, reverts, events, views,
invariants, properties, liveness). ``--seconds`` (default 10) or ``--steps`` bound it;
``--seed`` (printed; random when absent) fixes its choices.

Exit codes: 0 agreed (the code, the parameters and the imported state are the manifest's
and the chain's, and spec and chain agreed on every step, at least one), 1 a difference
(the first one named: a code hash, a parameter, an imported field, a divergence) or no
step run, 2 a usage error (no such manifest, another chain's, a bad option), 3 no fork.
"""

import argparse
import random
import sys
import time
from types import SimpleNamespace

from eth_utils import keccak

from deployment.address import create_address
from deployment.onchain import CONTRACTS, instance_checks, mismatches
from harness.core import actions, genesis, invariants
from harness.core.branches import Stats, Stopped
from harness.core.call import Call, bundle
from harness.core.dump import MARKET_FIELDS, first_difference, spec_dump
from harness.core.machine import DifferentialMachine
from harness.core.orders import N_EXTRA_KEYS
from harness.core.pair import Pair
from harness.core.state_import import (
    Deployment,
    Reader,
    chain_dump_of,
    http_rpc,
    import_state,
    latest_block,
)
from harness.deployed import read_manifest
from harness.evm import artifacts
from harness.evm.anvil import ForkChain
from harness.evm.base import ACCOUNTS, ChainError, extra_accounts

AGREED, DIFFERENT, USAGE, NO_FORK = 0, 1, 2, 3
# calls per sequence: each sequence starts again from the imported state
SEQUENCE_STEPS = 60


def code_hash(code: bytes) -> str:
    return "0x" + keccak(code).hex()


class _Contract:
    """A deployed contract's views as ``deployment.onchain`` reads them through ape."""

    def __init__(self, read: Reader, name: str, address: str) -> None:
        self._read, self._name, self._address = read, name, address

    def __getattr__(self, fn: str):
        def view(*args):
            value = self._read(self._name, self._address, fn, *args)
            if fn == "markets":  # a struct: its fields by name
                return SimpleNamespace(**dict(zip(MARKET_FIELDS, value, strict=True)))
            return value

        return view


class _Container:
    def __init__(self, read: Reader, name: str) -> None:
        self._read, self._name = read, name
        self.contract_type = SimpleNamespace(
            get_runtime_bytecode=lambda: artifacts.load(name).runtime
        )

    def at(self, address: str) -> _Contract:
        if self._read.rpc("eth_getCode", [address, hex(self._read.block)]) == "0x":
            raise ChainError(f"no code at {address}")
        return _Contract(self._read, self._name, address)


class RpcProject:
    """What ``deployment.onchain.instance_checks`` needs of ape's project and provider,
    over JSON-RPC at one block: the same checks as ``ape run verify``."""

    def __init__(self, read: Reader) -> None:
        self._read = read

    def __getattr__(self, name: str) -> _Container:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Container(self._read, name)

    def get_code(self, address: str) -> bytes:
        return bytes.fromhex(self._read.rpc("eth_getCode", [address, hex(self._read.block)])[2:])


def instance_differences(rpc, manifest: dict, block: int) -> list[tuple]:
    """``ape run verify``'s checks of the instance: the code against the build and the
    manifest's hashes, every role and parameter against its request; print each, return
    the ones that differ."""
    project = RpcProject(Reader(rpc, block))
    checks = instance_checks(project, project, manifest)
    for label, actual, expected in checks:
        print(f"  {'ok' if actual == expected else 'MISMATCH':8} {label}: {actual}")
    return mismatches(checks)


def harness_actors(read: Reader, deployment: Deployment) -> tuple[dict[str, str], list[str]]:
    """The campaign's actors on the instance: its roles as the chain holds them, and the
    outsider and traders among the keys the harness holds (none of them a role)."""
    engine, gov = deployment.engine, deployment.governor
    roles = {
        "owner": read("Governor", gov, "owner"),
        "oracle": read("PerpEngine", engine, "oracle"),
        "operator": read("Settlement", deployment.settlement, "operator"),
        "guardian": read("PerpEngine", engine, "guardian"),
    }
    taken = {*roles.values(), engine, deployment.settlement, gov, deployment.views}
    free = [a for a in (*ACCOUNTS, *extra_accounts(N_EXTRA_KEYS)) if a not in taken]
    traders = genesis.trader_names()
    actors = {**roles, **dict(zip(["outsider", *traders], free, strict=False))}
    return actors, traders


def funding_calls(traders: list[str], mint: bool) -> list[Call]:
    """What a fresh pair's setup gives every state actor: ``TRADER_FUNDS`` minted (unless
    ``mint`` is False: the balances were written), the engine approved (the attacker
    contract's approval through a bundle)."""
    calls = []
    for name in ["owner", "outsider", *traders, genesis.ATTACKER]:
        if mint:
            calls.append(Call("token", "mint", "owner", (name, genesis.TRADER_FUNDS)))
        approve = Call("token", "approve", name, ("engine", genesis.MAX_UINT256))
        calls.append(bundle("owner", approve) if name == genesis.ATTACKER else approve)
    return calls


# storage slots searched for the token's balance mapping, in either layout
BALANCE_SLOTS = range(64)


def write_balances(chain: ForkChain, state, addresses: list[str], amount: int) -> None:
    """Give each of ``addresses`` ``amount`` more tokens by writing the token's storage on
    the fork, and the same to the spec's balances (no event: nothing was transferred)."""
    token = state.token.address
    codec = Reader(chain.rpc, 0).codecs["MockToken"]["balanceOf"]

    def balance(address: str) -> int:
        data = "0x" + codec.encode((address,)).hex()
        return codec.decode(
            bytes.fromhex(chain.rpc("eth_call", [{"to": token, "data": data}, "latest"])[2:])
        )[0]

    def key_of(address: str, slot: int, vyper: bool) -> str:
        word, index = bytes.fromhex(address[2:]).rjust(32, b"\0"), slot.to_bytes(32, "big")
        return "0x" + keccak(index + word if vyper else word + index).hex()

    probe = "0x" + "ba" * 20
    marker = 0x5EED_0000_0000_0000_0000_0001
    layout = None
    for slot in BALANCE_SLOTS:
        for vyper in (True, False):
            key = key_of(probe, slot, vyper)
            old = chain.rpc("eth_getStorageAt", [token, key, "latest"])
            chain.rpc("anvil_setStorageAt", [token, key, "0x" + marker.to_bytes(32, "big").hex()])
            found = balance(probe) == marker
            chain.rpc(
                "anvil_setStorageAt",
                [token, key, "0x" + bytes.fromhex(old[2:]).rjust(32, b"\0").hex()],
            )
            if found:
                layout = (slot, vyper)
                break
        if layout is not None:
            break
    if layout is None:
        raise ChainError(f"token {token}: no balance mapping in slots 0..{BALANCE_SLOTS[-1]}")
    for address in addresses:
        new = balance(address) + amount
        key = key_of(address, *layout)
        chain.rpc("anvil_setStorageAt", [token, key, "0x" + new.to_bytes(32, "big").hex()])
        if balance(address) != new:
            raise ChainError(f"token {token}: writing {address}'s balance did not take")
        state.token.balances[address] = new


def run_campaign(pair: Pair, seed: int, seconds: int, max_steps: int | None) -> tuple:
    """The campaign's action policy from ``pair``'s base state on a ``random.Random(seed)``
    until the time or step budget is spent; sequences of ``SEQUENCE_STEPS`` actions, each
    from the base state and ended like a campaign's (full comparison, liveness drain).
    Return (stats, seconds taken, the first failure or None)."""
    stats = Stats()
    started = time.monotonic()
    deadline = started + seconds

    def spent() -> str | None:
        if max_steps is not None and stats.steps >= max_steps:
            return "step budget"
        return "time budget" if time.monotonic() >= deadline else None

    stats.should_stop = spent
    latest: list = []

    class Audit(DifferentialMachine.bind(pair, stats)):
        def __init__(self):
            super().__init__()
            latest[:] = [self]

    choose = actions.RandomChoices(random.Random(seed))
    invariants.CHECKS.clear()
    try:
        while not spent():
            machine = Audit()
            machine.run(actions.opening_deposits(machine.world, choose))
            for _ in range(SEQUENCE_STEPS):
                machine.run(actions.next_calls(machine.world, choose, machine.menu))
            machine.end_sequence()
    except Stopped:
        # the budget ran out mid-sequence: end it like any other
        stats.should_stop = None
        try:
            latest[0].sequence.finish()
        except AssertionError as failure:
            return stats, time.monotonic() - started, failure
    except AssertionError as failure:
        return stats, time.monotonic() - started, failure
    return stats, time.monotonic() - started, None


def audit(
    chain: ForkChain, manifest: dict, seed: int, seconds: int, max_steps, funding=None
) -> int:
    """Check the instance ``manifest`` records on the fork ``chain``, import its state,
    compare, run the campaign from it; 0 or 1."""
    deployment = Deployment.from_manifest(manifest)
    block = latest_block(chain.rpc)
    print(f"deployment: chain {manifest['chain_id']}, forked at block {block}")
    for name, record in manifest["contracts"].items():
        code = bytes.fromhex(chain.rpc("eth_getCode", [record["address"], hex(block)])[2:])
        print(f"  {name:12} {record['address']} runtime keccak {code_hash(code)}")
    print("code and parameters against the manifest:")
    differences = instance_differences(chain.rpc, manifest, block)
    if differences:
        for label, actual, expected in differences:
            print(f"DIFFERENCE {label}: chain {actual}, manifest {expected}")
        print(f"result: {len(differences)} differences from the manifest (campaign not run)")
        return DIFFERENT

    actors, traders = harness_actors(Reader(chain.rpc, block), deployment)
    harness_accounts = [actors[n] for n in ("owner", "outsider", *traders)]
    imported = import_state(chain.rpc, deployment, block, also=tuple(harness_accounts))
    state = imported.state
    print(
        f"imported at block {imported.block}: {len(state.markets)} markets, "
        f"{len(state.accounts)} accounts with collateral or positions, "
        f"{len(state.book.touched)} orders filled or cancelled, "
        f"{len(state.timelock.eta)} Governor calls queued, fund {state.insurance_fund}, "
        f"bad debt {state.bad_debt}"
    )
    spec = spec_dump(state, imported.accounts)
    chain_words = chain_dump_of(chain.rpc, deployment, imported)
    difference = first_difference(spec, chain_words, imported.accounts, {})
    if difference is not None:
        field, spec_value, chain_value = difference
        print(f"DIFFERENCE at {field}: imported {spec_value!r}, chain {chain_value!r}")
        print("result: the imported state differs from the chain's (campaign not run)")
        return DIFFERENT
    print(f"imported state equals the chain's ({len(spec)} words)")

    token = state.token.address
    if funding is None:  # mint where the token is the project's mock
        token_code = bytes.fromhex(chain.rpc("eth_getCode", [token, hex(block)])[2:])
        funding = "mint" if token_code == artifacts.load("MockToken").runtime else "storage"
    for address in set(actors.values()):
        chain.impersonate(address)
    chain.set_time(chain.now())  # the lens and the attacker contract: at the block's time
    if funding == "storage":
        deployer = actors["outsider"]  # deploys the lens, then the attacker contract
        attacker = create_address(deployer, chain.nonce(deployer) + 1)
        funded = [actors[n] for n in ("owner", "outsider", *traders)] + [attacker]
        try:
            write_balances(chain, state, funded, genesis.TRADER_FUNDS)
        except ChainError as error:
            print(f"result: the harness actors cannot be funded: {error} (campaign not run)")
            return DIFFERENT
    contracts = {
        "token": token,
        "engine": deployment.engine,
        "settlement": deployment.settlement,
        "views": deployment.views,
        "governor": deployment.governor,
    }
    pair = Pair.attach(
        chain,
        state,
        contracts,
        actors,
        traders,
        imported.accounts,
        funding_calls(traders, mint=funding == "mint"),
        deployer=actors["outsider"],
    )
    budget = f"{max_steps} steps" if max_steps else f"{seconds} s"
    print(
        f"campaign from the imported state: seed {seed}, budget {budget}, "
        f"{len(pair.accounts)} accounts compared ({len(traders)} harness traders funded "
        f"by {'mint' if funding == 'mint' else 'writing the token storage'}), roles "
        "impersonated on the fork"
    )
    stats, took, failure = run_campaign(pair, seed, seconds, max_steps)
    checks = ", ".join(f"{k} {v}" for k, v in sorted(invariants.CHECKS.items()))
    print(
        f"campaign: {stats.steps} steps in {stats.sequences} sequences, {took:.1f} s; "
        f"checks: {checks}"
    )
    if failure is not None:
        print(f"DIVERGENCE {type(failure).__name__}: {failure}")
        for note in getattr(failure, "__notes__", []):
            print(note)
        print(f"result: divergence after {stats.steps} steps (seed {seed})")
        return DIFFERENT
    if stats.steps == 0:
        print("FAILED: the campaign ran no step: nothing was compared")
        return DIFFERENT
    print(f"result: agreed ({stats.steps} steps from the imported state, seed {seed})")
    return AGREED


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, help="deployments/<chain-id>.json")
    parser.add_argument("--fork-url", required=True, help="the deployed chain's RPC URL")
    parser.add_argument("--seconds", type=positive, default=10, help="the campaign's time")
    parser.add_argument("--steps", type=positive, help="the campaign's steps (then no time)")
    parser.add_argument("--seed", type=int, help="the campaign's seed (default: random)")
    parser.add_argument(
        "--fund",
        choices=("mint", "storage"),
        help="how the harness actors get tokens: the token's mint, or its balance written "
        "on the fork (default: mint for the project's MockToken, else storage)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return USAGE if exit_.code else AGREED
    if (manifest := read_manifest(args.manifest)) is None:
        return USAGE
    missing = [n for n in CONTRACTS if n not in manifest.get("contracts", {})]
    if "request" not in manifest or missing:
        print(f"{args.manifest}: no request or no {missing} recorded", file=sys.stderr)
        return USAGE
    try:
        chain_id = int(http_rpc(args.fork_url)("eth_chainId", []), 16)
    except (OSError, ValueError, ChainError) as error:
        print(f"--fork-url {args.fork_url}: {error}", file=sys.stderr)
        return NO_FORK
    if chain_id != manifest["chain_id"]:
        print(
            f"{args.manifest}: records chain {manifest['chain_id']}, "
            f"{args.fork_url} serves {chain_id}",
            file=sys.stderr,
        )
        return USAGE
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    seconds = 10**9 if args.steps else args.seconds
    try:
        chain = ForkChain(args.fork_url, chain_id=chain_id)
    except ChainError as error:
        print(f"--fork-url {args.fork_url}: {error}", file=sys.stderr)
        return NO_FORK
    try:
        print(f"audit of {args.manifest} on a fork of chain {chain_id} ({args.fork_url}):")
        print(f"seed {seed}", flush=True)
        return audit(chain, manifest, seed, seconds, args.steps, args.fund)
    finally:
        chain.close()


if __name__ == "__main__":
    sys.exit(main())
