"""The differential audit of a deployed instance from ape: ``ape run audit --network
<network> [--manifest deployments/<chain-id>.json] [--seconds N | --steps N] [--seed S]``.

``make audit`` with the network's RPC URL as ``--fork-url``: a private anvil fork of the
network at its latest block, the instance checked against its manifest, its state
imported and compared, then the campaign from there (``python -m harness.deployed.audit``,
run as its own process). The network itself is only read. Exit codes: 0 agreed, 1 a
difference or a divergence, 2 a usage error, 3 an environment error.
"""

import subprocess
import sys
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

from deployment.cli import manifest_option, recorded, rpc_url


@click.command(cls=ConnectedProviderCommand)
@manifest_option
@click.option("--seconds", type=click.IntRange(min=1), default=None, help="the campaign's time")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="the campaign's steps")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="the campaign's seed")
@click.option("--fund", type=click.Choice(["mint", "storage"]), default=None)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="report folder")
def cli(provider, manifest_path, seconds, steps, seed, fund, out):
    path, _ = recorded(provider, manifest_path)
    args = ["--manifest", str(path), "--fork-url", rpc_url(provider, "fork the instance from")]
    for option, value in (("--seconds", seconds), ("--steps", steps), ("--seed", seed)):
        args += [option, str(value)] if value is not None else []
    args += ["--fund", fund] if fund else []
    args += ["--out", str(out)] if out else []
    sys.exit(subprocess.call([sys.executable, "-m", "harness.deployed.audit", *args]))
