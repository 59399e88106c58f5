"""Differential fuzz campaign from ape: ``ape run fuzz -- --seconds 60 --chain anvil``.

The same campaign as ``make fuzz``, run as its own process (``python -m
harness.campaign``); arguments after ``--`` are passed through.
"""

import subprocess
import sys

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args):
    sys.exit(subprocess.call([sys.executable, "-m", "harness.campaign", *args]))
