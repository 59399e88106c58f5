"""Check a deployed instance against its manifest: ``ape run verify --network <network>
[--manifest deployments/<chain-id>.json]``.

Every contract's runtime code equals the build's (its immutables aside) and the recorded
hash; every role and parameter equals what the config asked for; the markets are listed
as configured. ape's build is first checked against the sources (``deployment.build``).
Exit codes: 0 verified, 1 differences found (listed), 2 a usage error (no
such manifest, another chain's), 3 an environment error.
"""

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from deployment.build import StaleBuild, require_fresh_build
from deployment.cli import EnvironmentFailure, manifest_option, recorded, report
from deployment.onchain import CONTRACTS, instance_checks


@click.command(cls=ConnectedProviderCommand)
@manifest_option
def cli(provider, manifest_path):
    path, manifest = recorded(provider, manifest_path)
    try:
        require_fresh_build(project, CONTRACTS)
    except StaleBuild as error:
        raise EnvironmentFailure(str(error)) from None
    engine = manifest["contracts"]["PerpEngine"]["address"]
    click.echo(f"{path}: PerpEngine at {engine}, deployed at block {manifest['block']}")
    report(instance_checks(project, provider, manifest))
    click.echo(f"verified: the instance is as {path} records")
