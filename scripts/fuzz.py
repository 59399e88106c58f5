"""Differential fuzz campaign from ape: ``ape run fuzz -- --seconds 60 --chain anvil``.

The same campaign as ``make fuzz`` (``harness.campaign``); arguments after ``--`` are
passed through.
"""

import sys

import click

from harness import campaign


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args):
    sys.exit(campaign.main(list(args)))
