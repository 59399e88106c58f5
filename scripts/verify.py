"""Check a deployed instance against its manifest: ``ape run verify --network <network>
[--manifest deployments/<chain-id>.json]``.

Every contract's runtime code equals the build's (its immutables aside) and the recorded
hash; every role and parameter equals what the config asked for; the markets are listed
as configured. ape's build is first checked against the sources (``deployment.build``).
Exit codes: 0 verified, 1 differences found (listed), 2 a usage error (no
such manifest, another chain's), 3 an environment error.
"""

from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from deployment import manifest as manifests
from deployment.build import StaleBuild, require_fresh_build
from deployment.cli import EnvironmentFailure, report
from deployment.onchain import CONTRACTS, instance_checks


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    default=None,
    help="the instance's record (default deployments/<chain-id>.json)",
)
def cli(provider, manifest_path):
    try:
        path, manifest = manifests.for_network(provider.chain_id, manifest_path)
    except manifests.ManifestError as error:
        raise click.UsageError(str(error)) from None
    try:
        require_fresh_build(project, CONTRACTS)
    except StaleBuild as error:
        raise EnvironmentFailure(str(error)) from None
    engine = manifest["contracts"]["PerpEngine"]["address"]
    click.echo(f"{path}: PerpEngine at {engine}, deployed at block {manifest['block']}")
    report(instance_checks(project, provider, manifest))
    click.echo(f"verified: the instance is as {path} records")
