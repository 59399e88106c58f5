"""Tools for an instance someone deployed: read its state (``harness/core/state_import``)
and show or check it (``adl_queue``)."""
