"""Executable specification of a cross-margin perpetual-futures protocol.

Each module mirrors a Vyper module under ``contracts/`` (named in its docstring); each
function names its contract counterpart. The spec is the oracle of the differential
harness: the contracts must produce exactly the same state, reverts and events.
"""
