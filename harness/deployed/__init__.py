"""Tools for an instance someone deployed: read its state (``harness/core/state_import``)
and show or check it (``adl_queue``, ``audit`` on the instance as ``fork`` attaches it)."""

import sys

from deployment import manifest as manifests


def read_manifest(path) -> dict | None:
    """The manifest at ``path``, or None after saying on stderr why it cannot be read
    (the command then exits 2: a usage error)."""
    try:
        return manifests.load(path)
    except manifests.ManifestError as error:
        print(error, file=sys.stderr)
        return None
