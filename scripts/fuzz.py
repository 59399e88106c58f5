"""Differential fuzz campaign from ape: ``ape run fuzz -- --seconds 60 --chain anvil``.

The same campaign as ``make fuzz``, run as its own process (``python -m
harness.campaign``); every argument is passed through, so ``ape run fuzz --help`` shows
the campaign's options, defaults, exit codes and report. ``--network <choice>`` (ape's
option) runs it on that ape network: ``--chain ape:<choice>``.
"""

import subprocess
import sys

import click


@click.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args):
    args = list(args)
    if "--network" in args:
        at = args.index("--network")
        if at + 1 >= len(args):
            raise click.UsageError("--network: needs a network choice")
        args[at : at + 2] = ["--chain", f"ape:{args[at + 1]}"]
    sys.exit(subprocess.call([sys.executable, "-m", "harness.campaign", *args]))
