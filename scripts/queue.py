"""A deployed instance's ADL candidates: ``ape run queue --network <network> [--manifest
deployments/<chain-id>.json] [--market M] [--json]``.

Per market and side, the positions the market's policy would deleverage first (queue:
PnL% order; pro-rata: weights and shares), each with its size, unrealized PnL, light
(``adl_quantile``) and ``adl_exposure``, read from the instance's own views and events at
one block (``python -m harness.deployed.adl_queue``, run as its own process with the
network's RPC URL). Exit codes: 0 shown, 2 a usage error (no such manifest, another
chain's, a network without an RPC URL).
"""

import subprocess
import sys

import click
from ape.cli import ConnectedProviderCommand

from deployment.cli import manifest_option, recorded, rpc_url


@click.command(cls=ConnectedProviderCommand)
@manifest_option
@click.option("--market", type=int, default=None, help="one market (default every one)")
@click.option("--json", "as_json", is_flag=True, help="the candidates as JSON")
def cli(provider, manifest_path, market, as_json):
    path, _ = recorded(provider, manifest_path)
    args = ["--rpc", rpc_url(provider, "read the instance through"), "--manifest", str(path)]
    args += ["--market", str(market)] if market is not None else []
    args += ["--json"] if as_json else []
    sys.exit(subprocess.call([sys.executable, "-m", "harness.deployed.adl_queue", *args]))
