"""Deploy the protocol to an ape network and check what was deployed.

    ape run deploy --network ethereum:local:test            (ape's in-process test chain)
    ape run deploy --network ethereum:sepolia:node --account deployer --token 0x...

On a local network it deploys the mock collateral token and uses test accounts as the
oracle and operator; elsewhere pass the real token and role addresses. Afterwards every
stored parameter is read back and compared with what was asked for.
"""

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand, account_option

from harness.protocol import DEFAULT_MARKETS, INSURANCE_FLOOR, LIQUIDATOR_SHARE_RATIO


def check(label: str, actual, expected) -> None:
    status = "ok" if actual == expected else "MISMATCH"
    click.echo(f"  {status:8} {label}: {actual}")
    if actual != expected:
        raise click.ClickException(f"{label}: deployed {actual}, expected {expected}")


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--token", default=None, help="collateral token (default: deploy MockToken)")
@click.option("--oracle", default=None, help="ORACLE role (default: a test account)")
@click.option("--operator", default=None, help="OPERATOR role (default: a test account)")
def cli(network, provider, account, token, oracle, operator):
    local = provider.network.name == "local"
    if token is None:
        if not local:
            raise click.UsageError("--token is required outside a local network")
        token = account.deploy(project.MockToken).address
    oracle = oracle or accounts.test_accounts[1].address
    operator = operator or accounts.test_accounts[2].address
    engine = account.deploy(
        project.PerpEngine, token, oracle, operator, LIQUIDATOR_SHARE_RATIO, INSURANCE_FLOOR
    )
    for market in DEFAULT_MARKETS:
        engine.add_market(*market.listing(), sender=account)
    click.echo(f"PerpEngine at {engine.address} on {provider.network.choice}; checking:")
    check("runtime size under EIP-170", len(provider.get_code(engine.address)) <= 24_576, True)
    check("token", engine.token(), token)
    check("owner", engine.owner(), account.address)
    check("oracle", engine.oracle(), oracle)
    check("operator", engine.operator(), operator)
    check("liquidator share", engine.liquidator_share_ratio(), LIQUIDATOR_SHARE_RATIO)
    check("insurance floor", engine.insurance_floor(), INSURANCE_FLOOR)
    check("market count", engine.market_count(), len(DEFAULT_MARKETS))
    for market_id, market in enumerate(DEFAULT_MARKETS):
        stored = engine.markets(market_id)
        check(
            f"market {market_id} initial margin",
            stored.initial_margin_ratio,
            market.initial_margin_ratio,
        )
        check(
            f"market {market_id} maintenance margin",
            stored.maintenance_margin_ratio,
            market.maintenance_margin_ratio,
        )
        check(
            f"market {market_id} liquidation fee",
            stored.liquidation_fee_ratio,
            market.liquidation_fee_ratio,
        )
        check(f"market {market_id} price band", stored.price_band_ratio, market.price_band_ratio)
        check(f"market {market_id} funding bound", stored.max_funding_rate, market.max_funding_rate)
        check(f"market {market_id} maker fee", stored.maker_fee_ratio, market.maker_fee_ratio)
        check(f"market {market_id} taker fee", stored.taker_fee_ratio, market.taker_fee_ratio)
