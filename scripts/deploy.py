"""Deploy the protocol to an ape network from a configuration profile, record it, check it.

    ape run deploy --network ethereum:local:test --account TEST::0
    ape run deploy --network <ape network or RPC URL> --account <alias> --config sepolia \\
        --token 0x... --oracle 0x... --operator 0x... --token-holder 0x... [--dry-run]

Parameters come from ``configs/<profile>.yaml`` (checked by ``deployment.config``);
``--token``, ``--oracle`` and ``--operator`` override the profile. A mock token and the
well-known development accounts (``test:<i>`` or their addresses) as roles are allowed on
local networks only. Off a local network the token must have 6 decimals and pass a
transfer round trip on a private fork (``deployment.token_check``) from ``--token-holder``.
The deployer owns the Governor. A keyfile account signs without prompting when
``APE_ACCOUNTS_<alias>_PASSPHRASE`` holds its passphrase.

The instance is recorded in ``deployments/<chain-id>.json`` (off local networks, or where
``--manifest`` says). A rerun asking for the recorded instance verifies it and deploys
nothing; one asking for something else is refused with the differences unless
``--new-instance``. ``--dry-run`` deploys on a private fork of the network instead and
records nothing. Exit codes: 0 deployed or verified, 1 a check failed, 2 a usage error
or a refused request, 3 an environment error.
"""

import contextlib
from pathlib import Path

import click
from ape import accounts, chain, networks, project
from ape.cli import ConnectedProviderCommand, account_option

from deployment import manifest as manifests
from deployment.address import create_address
from deployment.build import StaleBuild, require_fresh_build
from deployment.cli import EnvironmentFailure, report, unlock
from deployment.config import ConfigError, load
from deployment.dev_accounts import dev_account_index
from deployment.onchain import CONTRACTS, code_hash, instance_checks
from deployment.token_check import ForkError, TokenCheckError, check_token, private_fork
from pyspec.constants import COLLATERAL_DECIMALS


def resolve(role: str, value: str | None, account, local: bool) -> str:
    """An address for ``value`` as the profile writes it ("deployer", "test:<i>", 0x...);
    off a local network never a development account, whose key anyone holds."""
    if value is None:
        raise click.UsageError(f"{role}: not set in the profile; pass --{role}")
    address = account.address if value == "deployer" else value
    if value.startswith("test:"):
        if not local:
            raise click.UsageError(f"{role}: {value} is a test account; use a real address")
        address = accounts.test_accounts[int(value[5:])].address
    index = dev_account_index(address)
    if index is not None and not local:
        raise click.UsageError(
            f"{role}: {value} is development account test:{index}, whose key is public; "
            "use a real address"
        )
    return address


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--config", "profile", default="default", help="configs/<profile>.yaml or a path")
@click.option("--token", default=None, help="collateral token (overrides the profile)")
@click.option("--oracle", default=None, help="ORACLE role (overrides the profile)")
@click.option("--operator", default=None, help="OPERATOR role (overrides the profile)")
@click.option(
    "--token-holder",
    default=None,
    help="an account holding the token: run a transfer round trip on a private fork first "
    "(required off a local network)",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    default=None,
    help="the instance's record (default deployments/<chain-id>.json; none on local networks)",
)
@click.option("--new-instance", is_flag=True, help="deploy although the manifest records one")
@click.option("--dry-run", is_flag=True, help="deploy on a private fork; send and record nothing")
def cli(
    network,
    provider,
    account,
    profile,
    token,
    oracle,
    operator,
    token_holder,
    manifest_path,
    new_instance,
    dry_run,
):
    try:
        config = load(profile)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    local = provider.network.name == "local"
    if manifest_path is None and not local:
        manifest_path = manifests.default_path(provider.chain_id)
    if dry_run and local:
        raise click.UsageError("--dry-run: a local network is its own dry run")
    token = token or config.token
    if token == "mock" and not local:
        raise click.UsageError("collateral.token: a mock token only on a local network")
    owner = resolve("owner (the deployer)", account.address, account, local)
    oracle = resolve("oracle", oracle or config.oracle, account, local)
    operator = resolve("operator", operator or config.operator, account, local)
    if token != "mock":
        token = resolve("token", token, account, local)
    request = manifests.request(config, owner, token, oracle, operator)
    try:
        require_fresh_build(project, CONTRACTS)
    except StaleBuild as error:
        raise EnvironmentFailure(str(error)) from None
    unlock(account)
    previous = None
    if manifest_path is not None and manifest_path.exists():
        try:
            previous = manifests.load(manifest_path)
        except manifests.ManifestError as error:
            raise click.UsageError(str(error)) from None
        if not new_instance:
            rerun(provider, manifest_path, previous, request)
            return
    if not local:
        check_decimals(token)
        if token_holder is None:
            raise click.UsageError("--token-holder: required off a local network")
        round_trip(provider, token, token_holder)
    elif token_holder is not None:
        round_trip(provider, token, token_holder)
    if dry_run:
        with fork_of(provider) as fork:
            click.echo(f"dry run on a private fork of {network_name(provider)} ({fork.uri}):")
            deploy(fork, account, config, request)
        click.echo("dry run: nothing sent, nothing recorded")
        return
    record = deploy(provider, account, config, request)
    if manifest_path is None:
        click.echo("no manifest on a local network (pass --manifest to keep one)")
        return
    manifests.save(manifest_path, record, previous)
    click.echo(f"recorded in {manifest_path}")


def network_name(provider) -> str:
    return provider.network.choice if provider.network.name != "custom" else provider.uri


def rerun(provider, path: Path, previous: dict, request: dict) -> None:
    """The manifest records an instance: nothing to do when it is the one asked for and
    the chain still holds it, else a refusal naming the differences."""
    if previous["chain_id"] != provider.chain_id:
        raise click.UsageError(f"{path}: records chain {previous['chain_id']}, not this one")
    differences = manifests.diff(previous["request"], request)
    if differences:
        lines = "\n".join(f"  {line}" for line in differences)
        raise click.UsageError(
            f"{path} records an instance deployed otherwise (recorded -> asked):\n{lines}\n"
            "pass --new-instance to deploy another one (the record keeps the old one)"
        )
    click.echo(f"{path} records this deployment; checking it on {network_name(provider)}:")
    report(instance_checks(project, provider, previous))
    click.echo("verified, nothing to do")


def check_decimals(token: str) -> None:
    try:
        decimals = project.MockToken.at(token).decimals()  # any ERC20's decimals()
    except Exception as error:  # noqa: BLE001 (no code there, a revert, a short return)
        raise click.UsageError(f"token: {token} has no decimals(): {error}") from None
    if decimals != COLLATERAL_DECIMALS:
        raise click.UsageError(
            f"token: {token} has {decimals} decimals; the engine counts in "
            f"{COLLATERAL_DECIMALS} (every amount would be off by powers of ten)"
        )


def with_margin(method, *args, sender):
    """``method(*args)`` with a quarter more gas than estimated: the transaction may land
    in a block a second later than the estimate's, and a price update then accrues
    funding, writing storage the estimate left alone (it ran out of gas under load)."""
    gas = method.estimate_gas_cost(*args, sender=sender)
    return method(*args, sender=sender, gas_limit=gas * 5 // 4)


def deploy(provider, account, config, request: dict) -> dict:
    """Deploy on ``provider``, list the markets, publish the first prices where the
    deployer is the oracle, check everything; return the manifest."""
    contracts, transactions = {}, []

    def create(name: str, *args):
        instance = account.deploy(getattr(project, name), *args)
        if not provider.network.is_dev:  # ape's own record of a live deployment
            project.deployments.track(instance)
        receipt = provider.get_receipt(instance.txn_hash)
        contracts[name] = {
            "address": instance.address,
            "transaction": str(receipt.txn_hash),
            "block": receipt.block_number,
            "constructor_args": [str(a) if not isinstance(a, int) else a for a in args],
            "runtime_keccak": code_hash(provider.get_code(instance.address)),
        }
        return instance

    def send(call: str, receipt) -> None:
        transactions.append({"call": call, "transaction": str(receipt.txn_hash)})

    token = request["token"]
    if token == "mock":
        token = create("MockToken").address
    allocator = create("AdlAllocator")
    governance = create("EngineGovernance", allocator.address)
    # the engine accepts trades only from the Settlement and role changes only from the
    # Governor, deployed after it at addresses known now
    settlement_address = create_address(account.address.lower(), account.nonce + 1)
    governor_address = create_address(account.address.lower(), account.nonce + 3)
    engine = create(
        "PerpEngine",
        token,
        allocator.address,
        governance.address,
        request["oracle"],
        settlement_address,
        governor_address,
        config.liquidator_share_ratio,
        config.insurance_floor,
    )
    settlement = create("Settlement", engine.address, request["operator"])
    create("PerpViews", engine.address)
    governor = create("Governor", engine.address, settlement.address, config.governance_delay)
    # the engine runs its privileged entry points from EngineGovernance's code
    privileged = project.EngineGovernance.at(engine.address)
    listing = privileged.add_market
    for market in config.markets:
        receipt = with_margin(listing, market.listing(), market.asset, sender=account)
        send(f"add_market {market.name}", receipt)
    oracle = oracle_signer(request["oracle"], account)
    if oracle is None:
        click.echo(f"initial prices: not published (the oracle {request['oracle']} does)")
    else:
        now = chain.blocks.head.timestamp
        for market_id, market in enumerate(config.markets):
            price = market.initial_price
            receipt = with_margin(privileged.update_price, market_id, price, now, sender=oracle)
            send(f"update_price {market.name} {price}", receipt)
            click.echo(f"initial price of {market.name}: {price} (published by {oracle.address})")
    click.echo(f"PerpEngine at {engine.address} on {network_name(provider)}")
    click.echo(f"Settlement at {settlement.address}, Governor at {governor.address}")
    if not provider.network.is_dev:
        click.echo(f"tracked in ape's deployments: {project.deployments.cache_folder}")
    click.echo(f"from {config.path.name}; checking:")
    record = {
        "format": manifests.FORMAT,
        "chain_id": provider.chain_id,
        "network": network_name(provider),
        "block": max(c["block"] for c in contracts.values()),
        "request": request,
        "config": manifests.config_record(config),
        "compiler": compiler_version(),
        "contracts": contracts,
        "transactions": transactions,
    }
    checks = instance_checks(project, provider, record)
    checks.append(("governor at the predicted address", governor.address.lower(), governor_address))
    checks.append(
        ("settlement at the predicted address", settlement.address.lower(), settlement_address)
    )
    report(checks)
    return record


def oracle_signer(oracle: str, account):
    """Who can sign the first prices: the deployer, or a local test account."""
    if oracle.lower() == account.address.lower():
        return account
    for test_account in accounts.test_accounts if dev_account_index(oracle) is not None else ():
        if test_account.address.lower() == oracle.lower():
            return test_account
    return None


def compiler_version() -> str:
    """The version of the compiler that built PerpEngine, as ape recorded it."""
    for compiler in project.manifest.compilers or ():
        if "PerpEngine" in (compiler.contractTypes or ()):
            return f"{compiler.name} {compiler.version}"
    raise EnvironmentFailure("ape recorded no compiler for PerpEngine: run ape compile")


@contextlib.contextmanager
def fork_of(provider):
    """ape connected to a private anvil fork of ``provider``'s node, stopped on exit."""
    with contextlib.ExitStack() as stack:
        try:
            fork = stack.enter_context(private_fork(provider.uri))
        except ForkError as error:
            raise EnvironmentFailure(f"--dry-run: {error}") from None
        with networks.parse_network_choice(f"http://127.0.0.1:{fork.port}") as fork_provider:
            yield fork_provider


def round_trip(provider, token: str, holder: str) -> None:
    """The token's transfer and pull, as the engine makes them, on a private fork of the
    network (``deployment.token_check``): one whole token there and back."""
    rpc = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    if rpc is None:
        raise click.UsageError("--token-holder: the provider has no RPC URL to fork")
    click.echo(f"token round trip on a fork of {rpc}:")
    try:
        checks = check_token(
            rpc, token, holder, 10**COLLATERAL_DECIMALS, decimals=COLLATERAL_DECIMALS
        )
    except TokenCheckError as error:
        *passed, (label, actual, expected) = error.checks  # the last one failed
        for label_, actual_, _ in passed:
            click.echo(f"  {'ok':8} {label_}: {actual_}")
        click.echo(f"  {'MISMATCH':8} {label}: {actual} (expected {expected})")
        raise click.ClickException(f"token check: {error}") from None
    except ForkError as error:
        raise EnvironmentFailure(f"token round trip: {error}") from None
    # each check was judged where it was made: some expect a bound (">= 1000000"), not a
    # value, so they are reported, not compared again
    for label, actual, _ in checks:
        click.echo(f"  {'ok':8} {label}: {actual}")
