"""Deploy the protocol to an ape network from a configuration profile and check it.

    ape run deploy --network ethereum:local:test --account TEST::0
    ape run deploy --network ethereum:sepolia:node --account deployer --config sepolia \\
        --token 0x... --oracle 0x... --operator 0x... --token-holder 0x...

Parameters come from ``configs/<profile>.yaml`` (checked by ``deployment.config``);
``--token``, ``--oracle`` and ``--operator`` override the profile. A mock token and test
accounts as roles are allowed on local networks only. Off a local network the token must
first pass a transfer round trip on a private fork (``deployment.token_check``) from
``--token-holder``, an account holding it. The deployer owns the Governor, the timelock
through which roles and market parameters change later. Afterwards every stored
parameter is read back and compared with what was asked for.
"""

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand, account_option

from deployment.address import create_address
from deployment.config import LISTING_FIELDS, ConfigError, load
from deployment.token_check import TokenCheckError, check_token
from pyspec.constants import COLLATERAL_DECIMALS

EIP170_CODE_SIZE_LIMIT = 24_576


DECIMALS = "0x313ce567"  # decimals()


def check(label: str, actual, expected) -> None:
    status = "ok" if actual == expected else "MISMATCH"
    click.echo(f"  {status:8} {label}: {actual}")
    if actual != expected:
        raise click.ClickException(f"{label}: deployed {actual}, expected {expected}")


def resolve(role: str, value: str | None, account, local: bool) -> str:
    """An address for ``value`` as the profile writes it ("deployer", "test:<i>", 0x...)."""
    if value is None:
        raise click.UsageError(f"{role}: not set in the profile; pass --{role}")
    if value == "deployer":
        return account.address
    if value.startswith("test:"):
        if not local:
            raise click.UsageError(f"{role}: {value} is a test account; use a real address")
        return accounts.test_accounts[int(value[5:])].address
    return value


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
def cli(network, provider, account, profile, token, oracle, operator, token_holder):
    try:
        config = load(profile)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    local = provider.network.name == "local"
    token = token or config.token
    if token == "mock":
        if not local:
            raise click.UsageError("collateral.token: a mock token only on a local network")
        token = account.deploy(project.MockToken).address
    token = resolve("token", token, account, local)
    oracle = resolve("oracle", oracle or config.oracle, account, local)
    operator = resolve("operator", operator or config.operator, account, local)
    if token_holder is not None:
        round_trip(provider, token, token_holder)
    elif not local:
        raise click.UsageError("--token-holder: required off a local network")
    allocator = account.deploy(project.AdlAllocator)
    # the engine accepts trades only from the Settlement and role changes only from the
    # Governor, deployed after it at addresses known now
    settlement_address = create_address(account.address.lower(), account.nonce + 1)
    governor_address = create_address(account.address.lower(), account.nonce + 3)
    engine = account.deploy(
        project.PerpEngine,
        token,
        allocator,
        oracle,
        settlement_address,
        governor_address,
        config.liquidator_share_ratio,
        config.insurance_floor,
    )
    settlement = account.deploy(project.Settlement, engine, operator)
    views = account.deploy(project.PerpViews, engine)
    governor = account.deploy(project.Governor, engine, settlement, config.governance_delay)
    for market in config.markets:
        engine.add_market(market.listing(), sender=account)
    click.echo(f"PerpEngine at {engine.address} on {provider.network.choice}")
    click.echo(f"Settlement at {settlement.address}, PerpViews at {views.address}")
    click.echo(f"Governor at {governor.address} (delay {config.governance_delay} s)")
    click.echo(f"from {config.path.name}; checking:")
    code_size = len(provider.get_code(engine.address))
    check("runtime size under EIP-170", code_size <= EIP170_CODE_SIZE_LIMIT, True)
    check("token", engine.token(), token)
    # a collateral token with other decimals would misprice every amount by powers of ten
    call = {"from": account.address, "to": token, "data": DECIMALS}
    decimals = provider.make_request("eth_call", [call, "latest"])
    check("token decimals", int(decimals, 16), COLLATERAL_DECIMALS)
    check("adl allocator", engine.adl_allocator(), allocator.address)
    check("governor", engine.governor(), governor.address)
    check("governor at the predicted address", governor.address.lower(), governor_address)
    check("governor engine", governor.engine(), engine.address)
    check("governor settlement", governor.settlement(), settlement.address)
    check("governance delay", governor.delay(), config.governance_delay)
    check("owner", governor.owner(), account.address)
    check("guardian", engine.guardian(), account.address)
    check("oracle", engine.oracle(), oracle)
    check("settlement", engine.settlement(), settlement.address)
    check("settlement at the predicted address", settlement.address.lower(), settlement_address)
    check("settlement engine", settlement.engine(), engine.address)
    check("operator", settlement.operator(), operator)
    check("position views engine", views.engine(), engine.address)
    check("liquidator share", engine.liquidator_share_ratio(), config.liquidator_share_ratio)
    check("insurance floor", engine.insurance_floor(), config.insurance_floor)
    check("market count", engine.market_count(), len(config.markets))
    for market_id, market in enumerate(config.markets):
        stored = engine.markets(market_id)
        for field, expected in zip(LISTING_FIELDS, market.listing(), strict=True):
            check(f"market {market_id} ({market.name}) {field}", getattr(stored, field), expected)


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
    # each check was judged where it was made: some expect a bound (">= 1000000"), not a
    # value, so they are reported, not compared again
    for label, actual, _ in checks:
        click.echo(f"  {'ok':8} {label}: {actual}")
