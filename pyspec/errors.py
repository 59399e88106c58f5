"""Reverts, mirrored by the contracts' ``assert ..., "reason"`` statements."""


class Revert(Exception):
    """A rejected call. ``reason`` is the exact string the contract reverts with."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def require(condition: bool, reason: str) -> None:
    """Check ``condition``; reject the call with ``reason`` otherwise (Vyper ``assert``)."""
    if not condition:
        raise Revert(reason)
