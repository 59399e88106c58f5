"""The audit's view of a deployed instance on its fork (``audit``): the checks ``ape run
verify`` makes, over JSON-RPC at one block; the campaign's actors on it, funded by the
token's mint or by writing its storage; and ``attach``, which checks the instance against
its manifest, imports its state, compares it with the chain's and attaches a ``Pair``
(the audit and its replay both start there)."""

from types import SimpleNamespace

from eth_utils import keccak

from deployment.address import create_address
from deployment.onchain import instance_checks, mismatches
from harness.core import genesis, invariants
from harness.core.call import Call, bundle
from harness.core.dump import MARKET_FIELDS, first_difference, parse, spec_dump
from harness.core.orders import N_EXTRA_KEYS
from harness.core.pair import Pair
from harness.core.state_import import (
    Deployment,
    Reader,
    chain_dump_of,
    import_state,
    latest_block,
)
from harness.evm import artifacts
from harness.evm.anvil import ForkChain
from harness.evm.base import ACCOUNTS, ChainError, extra_accounts


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
        # the one web3 call the checks make: a recorded transaction's receipt
        receipt = lambda tx_hash: read.rpc("eth_getTransactionReceipt", [tx_hash])  # noqa: E731
        self.web3 = SimpleNamespace(eth=SimpleNamespace(get_transaction_receipt=receipt))

    def __getattr__(self, name: str) -> _Container:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Container(self._read, name)

    def get_code(self, address: str) -> bytes:
        return bytes.fromhex(self._read.rpc("eth_getCode", [address, hex(self._read.block)])[2:])


def instance_differences(rpc, manifest: dict, block: int, say=print) -> list[tuple]:
    """``ape run verify``'s checks of the instance: the code against the build and the
    manifest's hashes, every role and parameter against its request; ``say`` each, return
    the ones that differ."""
    project = RpcProject(Reader(rpc, block))
    checks = instance_checks(project, project, manifest)
    for label, actual, expected in checks:
        say(f"  {'ok' if actual == expected else 'MISMATCH':8} {label}: {actual}")
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


def resident_names(accounts: list[str], actors: dict[str, str]) -> dict[str, str]:
    """The instance's own users among the imported ``accounts`` (those no actor holds),
    named ``resident0``, ``resident1``, ... in import order."""
    taken = set(actors.values())
    users = [a for a in accounts if a not in taken]
    return {f"resident{i}": address for i, address in enumerate(users)}


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
        # added to the stored word, not written over it: a token that packs flags beside
        # the balance (USDC v2.2 keeps its blacklist bit in the word's top bit) keeps them
        word = int(chain.rpc("eth_getStorageAt", [token, key, "latest"]), 16) + amount
        chain.rpc("anvil_setStorageAt", [token, key, "0x" + word.to_bytes(32, "big").hex()])
        if balance(address) != new:
            raise ChainError(f"token {token}: writing {address}'s balance did not take")
        state.token.balances[address] = new


class Log:
    """Prints each line and keeps it under a section of the report (``report.md``)."""

    def __init__(self) -> None:
        self.sections: dict[str, list[str]] = {}

    def __call__(self, section: str, line: str) -> None:
        print(line, flush=True)
        self.sections.setdefault(section, []).append(line)


def attach(chain: ForkChain, manifest: dict, funding, log: Log, record: dict) -> Pair | None:
    """Check the instance ``manifest`` records on the fork ``chain``, import its state,
    compare it with the chain's and attach a ``Pair`` to it (the roles impersonated, the
    harness actors funded); None after a difference (``record["result"]`` says which).
    ``record`` gets the deployment as found: the fork block, each contract's address and
    runtime keccak, the actors and how they were funded."""
    deployment = Deployment.from_manifest(manifest)
    block = latest_block(chain.rpc)
    timestamp = int(chain.rpc("eth_getBlockByNumber", [hex(block), False])["timestamp"], 16)
    record.update(chain_id=manifest["chain_id"], block=block, timestamp=timestamp, contracts={})
    log("deployment", f"deployment: chain {manifest['chain_id']}, forked at block {block}")
    for name, entry in manifest["contracts"].items():
        code = bytes.fromhex(chain.rpc("eth_getCode", [entry["address"], hex(block)])[2:])
        record["contracts"][name] = {
            "address": entry["address"],
            "runtime_keccak": code_hash(code),
            "manifest_keccak": entry.get("runtime_keccak"),
        }
        log("deployment", f"  {name:12} {entry['address']} runtime keccak {code_hash(code)}")
    log("checks", "code and parameters against the manifest:")
    differences = instance_differences(chain.rpc, manifest, block, lambda s: log("checks", s))
    if differences:
        for label, actual, expected in differences:
            log("checks", f"DIFFERENCE {label}: chain {actual}, manifest {expected}")
        record["result"] = f"{len(differences)} differences from the manifest (campaign not run)"
        return None

    actors, traders = harness_actors(Reader(chain.rpc, block), deployment)
    harness_accounts = [actors[n] for n in ("owner", "outsider", *traders)]
    imported = import_state(chain.rpc, deployment, block, also=tuple(harness_accounts))
    state = imported.state
    log(
        "import",
        f"imported at block {imported.block}: {len(state.markets)} markets, "
        f"{len(state.accounts)} accounts with collateral or positions, "
        f"{len(state.book.touched)} orders filled or cancelled, "
        f"{len(state.timelock.eta)} Governor calls queued, fund {state.insurance_fund}, "
        f"bad debt {state.bad_debt}",
    )
    spec = spec_dump(state, imported.accounts)
    chain_words = chain_dump_of(chain.rpc, deployment, imported)
    difference = first_difference(spec, chain_words, imported.accounts, {})
    if difference is not None:
        field, spec_value, chain_value = difference
        log("import", f"DIFFERENCE at {field}: imported {spec_value!r}, chain {chain_value!r}")
        record["result"] = "the imported state differs from the chain's (campaign not run)"
        return None
    log("import", f"imported state equals the chain's ({len(spec)} words)")
    # the comparison reads the accounts the import found; the engine's token balance does
    # not: an account the event scan missed leaves it short of the books
    try:
        invariants.check_state(parse(chain_words, len(imported.accounts)), "import")
    except invariants.InvariantViolation as violation:
        log("import", f"DIFFERENCE the import's books: {violation}")
        record["result"] = "the imported accounts do not add up to the engine's balance"
        return None
    log("import", "the imported accounts add up to the engine's token balance")

    token = state.token.address
    if funding is None:  # mint where the token is the project's mock
        token_code = bytes.fromhex(chain.rpc("eth_getCode", [token, hex(block)])[2:])
        funding = "mint" if token_code == artifacts.load("MockToken").runtime else "storage"
    record["fund"] = funding
    residents = resident_names(imported.accounts, actors)
    actors |= residents
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
            record["result"] = f"the harness actors cannot be funded: {error} (campaign not run)"
            return None
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
        residents=list(residents),
    )
    record["actors"] = {
        name: address
        for name, address in pair.actors.items()
        if name not in ("engine", "settlement", "governor")
    }
    record["traders"] = list(traders)
    record["residents"] = len(residents)
    record["imported_accounts"] = len(imported.accounts)
    return pair
