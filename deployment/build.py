"""The contracts compiled from their sources as they are now, with vyper itself: what a
deployment must ship. ape-vyper compiles a contract again only when its own file
changed, not when a module it imports did, so ape's build can be stale; deploy and
verify compare it with this first (``stale_contracts``)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".build" / "compiled"


# what ``_compile`` asks the compiler for: part of the cache's key, so changing it
# compiles afresh
OUTPUTS = "abi.bytecode.bytecode_runtime.layout"


def sources_hash(root: Path = REPO_ROOT) -> str:
    """A hash of the compiler's version and every source under ``root``/contracts: what
    any contract's build depends on."""
    import vyper

    h = hashlib.sha256(f"vyper={vyper.__version__}\n".encode())
    for path in sorted(p for ext in ("*.vy", "*.vyi") for p in (root / "contracts").rglob(ext)):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def compile_source(path: Path, root: Path = REPO_ROOT) -> dict:
    """abi, bytecode, runtime code and storage slots (by variable) of ``path`` (under
    ``root``/contracts); kept in the
    repository's ``.build/compiled/<OUTPUTS>-<sources_hash of root>/``, so the next
    deploy, verify, campaign or mutant of the same sources does not compile again. A
    source edited while it compiles leaves nothing kept (the output may be of either
    version)."""
    digest = sources_hash(root)
    # one cache for every source tree (a mutant's, a patched copy's): the key is the
    # content, so a tree compiled once anywhere is not compiled again
    name = str(path.relative_to(root)).replace("/", "__") + ".json"
    cached = CACHE / f"{OUTPUTS}-{digest}" / name
    try:
        data = json.loads(cached.read_text())
        if "storage" in data:
            return data
    except (OSError, ValueError):
        pass
    data = _compile(path, root)
    if sources_hash(root) != digest:  # a source changed while it compiled: keep nothing
        return data
    cached.parent.mkdir(parents=True, exist_ok=True)
    # atomic: several pytest-xdist workers may compile at once
    fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, cached)
    return data


def _compile(path: Path, root: Path) -> dict:
    import vyper
    from vyper.compiler.input_bundle import FilesystemInputBundle

    # contracts/ is the import root (`import lib.constants`), as in ape-vyper's config
    bundle = FilesystemInputBundle([root / "contracts", root])
    file_input = bundle.load_file(path.relative_to(root / "contracts"))
    out = vyper.compile_from_file_input(
        file_input, input_bundle=bundle, output_formats=OUTPUTS.split(".")
    )
    return {
        "abi": out["abi"],
        "bytecode": out["bytecode"],
        "runtime": out["bytecode_runtime"],
        "storage": storage_slots(out["layout"].get("storage_layout", {})),
    }


def storage_slots(layout: dict) -> dict[str, int]:
    """Each storage variable's slot from the compiler's storage layout; a module's
    variables (an initialized module is a nested layout) by their own names."""
    slots = {}
    for name, entry in layout.items():
        found = {name: entry["slot"]} if "slot" in entry else storage_slots(entry)
        assert not found.keys() & slots.keys(), f"storage variable named twice: {name}"
        slots.update(found)
    return slots


def stale_contracts(project, names: tuple[str, ...], root: Path = REPO_ROOT) -> list[str]:
    """The contracts among ``names`` whose runtime code in ape's build is not what
    ``contracts/<name>.vy`` compiles to now."""
    stale = []
    for name in names:
        built = bytes(getattr(project, name).contract_type.get_runtime_bytecode())
        fresh = compile_source(root / "contracts" / f"{name}.vy", root)["runtime"]
        if built != bytes.fromhex(fresh.removeprefix("0x")):
            stale.append(name)
    return stale


def require_fresh_build(project, names: tuple[str, ...]) -> None:
    """Raise ``StaleBuild`` naming the contracts ape's build has stale."""
    stale = stale_contracts(project, names)
    if stale:
        raise StaleBuild(
            f"ape's build of {', '.join(stale)} is not what the sources compile to now "
            "(ape-vyper recompiles a contract only when its own file changes, not a module "
            "it imports): run `ape compile --force`"
        )


class StaleBuild(Exception):
    pass
