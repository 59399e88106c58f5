"""Compile the project's Vyper contracts for the harness, with an on-disk cache.

``load("MockToken")`` finds ``contracts/**/MockToken.vy``, compiles it with the
pip-installed vyper (same compiler ape uses) and returns its ABI and deployment
bytecode. ``deployment.build.compile_source`` keeps them under ``.build/compiled/<hash>/``
where the hash covers the vyper version and every ``.vy``/``.vyi`` file under
``contracts/`` (so editing a module invalidates the contracts that import it).

Search path: ``contracts/``, the repo root, and (added by vyper) the compiled contract's
own folder, so ``import lib.x``, ``import contracts.lib.x`` and relative imports all
work. ``ape compile`` lacks ``contracts/`` on its path: there ``import lib.x`` only
resolves from contracts at the top of ``contracts/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from eth_abi import encode

from deployment.build import compile_source, sources_hash
from harness import REPO_ROOT
from harness.evm.abi import canonical_type

__all__ = ["Artifact", "load", "source_path", "sources_hash"]


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: list
    bytecode: bytes  # deployment (init) code; append ABI-encoded ctor args to deploy
    runtime: bytes  # the deployed code (before immutables), for the reports' provenance
    storage: dict  # each storage variable's slot (the layout): ``chain_state.StorageReader``

    def fn(self, name: str) -> dict:
        """ABI entry of function ``name`` (first match)."""
        for item in self.abi:
            if item.get("type") == "function" and item.get("name") == name:
                return item
        raise KeyError(f"{self.name} has no function {name!r}")

    def constructor(self) -> dict | None:
        for item in self.abi:
            if item.get("type") == "constructor":
                return item
        return None

    def initcode(self, *args) -> bytes:
        """Deployment bytecode + ABI-encoded constructor ``args``."""
        ctor = self.constructor()
        if ctor is None or not ctor.get("inputs"):
            if args:
                raise TypeError(f"{self.name} constructor takes no arguments")
            return self.bytecode
        types = [canonical_type(p) for p in ctor["inputs"]]
        return self.bytecode + encode(types, list(args))


def source_path(name: str, root: Path = REPO_ROOT) -> Path:
    """``contracts/**/<name>.vy`` (must be unique)."""
    matches = [p for p in (root / "contracts").rglob(f"{name}.vy")]
    if not matches:
        raise FileNotFoundError(f"no contracts/**/{name}.vy")
    if len(matches) > 1:
        raise ValueError(f"ambiguous contract name {name!r}: {matches}")
    return matches[0]


@cache
def _load_cached(name: str, root: Path, digest: str) -> Artifact:
    """``digest``: the sources' hash, so an edited source tree (a mutant's) loads afresh."""
    data = compile_source(source_path(name, root), root)
    abi = data["abi"]
    if name in DELEGATES:  # the entry points it runs by delegatecall are its own
        own = {(i["type"], i.get("name")) for i in abi}
        delegate = _load_cached(DELEGATES[name], root, digest).abi
        abi = abi + [i for i in delegate if (i["type"], i.get("name")) not in own | CTOR]
    return Artifact(name, abi, _bytes(data["bytecode"]), _bytes(data["runtime"]), data["storage"])


# A contract whose ``__default__`` forwards to another's code by delegatecall, and that
# code: its functions and events are called and emitted at the forwarding contract.
DELEGATES = {"PerpEngine": "EngineGovernance"}
CTOR = {("constructor", None)}


def _bytes(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.removeprefix("0x"))


def load(name: str, root: Path | None = None) -> Artifact:
    """Compiled artifact of ``contracts/**/<name>.vy`` (cached on disk and in memory).

    ``HARNESS_SOURCE_ROOT`` points the harness at another tree's ``contracts/`` (a
    mutant's, in ``make mutate``)."""
    root = Path(root or os.environ.get("HARNESS_SOURCE_ROOT") or REPO_ROOT).resolve()
    return _load_cached(name, root, sources_hash(root))
