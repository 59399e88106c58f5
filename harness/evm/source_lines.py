"""Which Vyper source line each runtime pc of a contract belongs to, for coverage.

The compiler's runtime source map (the AST node behind every instruction) names the
node's own module, so an internal function inlined from ``contracts/engine/*.vy`` maps
to that file, not to the contract that imports it. Compiled like ``artifacts`` (same
search path and settings; the runtime code is checked equal to the artifact's) and cached
beside it, per source tree.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path

from harness import REPO_ROOT
from harness.evm import artifacts

__all__ = ["pc_lines"]


def _compile(name: str, root: Path) -> dict[int, tuple[str, int]]:
    from vyper import ast as vy_ast
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.phases import CompilerData
    from vyper.compiler.settings import Settings, get_global_settings
    from vyper.ir import compile_ir

    bundle = FilesystemInputBundle([root / "contracts", root])
    path = artifacts.source_path(name, root)
    file_input = bundle.load_file(path.relative_to(root / "contracts"))
    data = CompilerData(file_input, bundle, settings=get_global_settings() or Settings())
    code, maps = compile_ir.assembly_to_evm(data.assembly_runtime, compiler_metadata=None)
    if code != artifacts.load(name, root).runtime[: len(code)]:
        raise RuntimeError(f"{name}: the source map's runtime code is not the artifact's")
    lines = {}
    for pc, node in maps["pc_raw_ast_map"].items():
        if isinstance(node, vy_ast.Module):  # the whole file: no line of its own
            continue
        source = Path(node.module_node.resolved_path).resolve()
        lines[pc] = (str(source.relative_to(root)), node.lineno)
    return lines


@cache
def _cached(name: str, root: Path, digest: str) -> dict[int, tuple[str, int]]:
    cache_file = root / ".build" / "harness" / digest / f"{name}.lines.json"
    if cache_file.exists():
        return {int(pc): (path, line) for pc, (path, line) in json.loads(cache_file.read_text())}
    lines = _compile(name, root)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")  # workers may race
    with os.fdopen(fd, "w") as f:
        json.dump(sorted(lines.items()), f)
    os.replace(tmp, cache_file)
    return lines


def pc_lines(name: str, root: Path | None = None) -> dict[int, tuple[str, int]]:
    """Runtime pc of contract ``name`` -> (source file relative to the repo, line)."""
    root = Path(root or os.environ.get("HARNESS_SOURCE_ROOT") or REPO_ROOT).resolve()
    return _cached(name, root, artifacts.sources_hash(root))
