"""What the ape scripts share: exit codes, the check report, non-interactive signing.

Exit codes: 0 ok, 1 a mismatch found, 2 a usage error (click's), 3 an environment error.
"""

import os
import sys

import click

from deployment.onchain import Check, mismatches


class Mismatch(click.ClickException):
    exit_code = 1


class EnvironmentFailure(click.ClickException):
    exit_code = 3


def report(checks: list[Check]) -> None:
    """Print every check; raise ``Mismatch`` listing the failed ones."""
    for label, actual, expected in checks:
        status = "ok" if actual == expected else "MISMATCH"
        click.echo(f"  {status:8} {label}: {actual}")
    failed = mismatches(checks)
    if failed:
        lines = "\n".join(f"  {label}: chain {a}, expected {e}" for label, a, e in failed)
        raise Mismatch(f"{len(failed)} of {len(checks)} checks differ:\n{lines}")


def unlock(account) -> None:
    """Sign without prompting when the keyfile's passphrase is in the environment
    (``APE_ACCOUNTS_<alias>_PASSPHRASE``, ape's own variable): CI has no one to type it."""
    if not hasattr(account, "set_autosign"):
        return  # a test account signs without prompting
    variable = f"APE_ACCOUNTS_{account.alias}_PASSPHRASE"
    passphrase = os.environ.get(variable)
    if passphrase is None:
        if not sys.stdin.isatty():
            raise EnvironmentFailure(f"{variable}: not set, and no terminal to ask on")
        return  # ape prompts for the passphrase and each signature
    try:
        account.set_autosign(True, passphrase=passphrase)
    except Exception as error:  # noqa: BLE001 (ape's InvalidPasswordError and kin)
        raise EnvironmentFailure(f"{variable}: cannot unlock {account.alias}: {error}") from None
