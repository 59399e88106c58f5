"""What the ape scripts share: exit codes, the check report, non-interactive signing.

Exit codes: 0 ok, 1 a mismatch found, 2 a usage error (click's), 3 an environment error.
"""

import os
import sys
from pathlib import Path

import click

from deployment import manifest as manifests
from deployment.onchain import Check, mismatches

# the scripts that read a recorded instance: verify, queue, audit
manifest_option = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    default=None,
    help="the instance's record (default deployments/<chain-id>.json)",
)


def recorded(provider, manifest_path: Path | None) -> tuple[Path, dict]:
    """(path, manifest) of the instance recorded for ``provider``'s chain; a usage error
    (exit 2) when there is none or it is another chain's."""
    try:
        return manifests.for_network(provider.chain_id, manifest_path)
    except manifests.ManifestError as error:
        raise click.UsageError(str(error)) from None


def rpc_url(provider, purpose: str) -> str:
    """The provider's JSON-RPC URL, which the script's own process reads through."""
    url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    if not url:
        raise click.UsageError(f"{provider.name}: no RPC URL to {purpose}")
    return url


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
