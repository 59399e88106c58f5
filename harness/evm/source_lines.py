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

__all__ = ["branch_points", "pc_lines"]

JUMPI, PUSH1, PUSH32 = 0x57, 0x60, 0x7F
# the statements whose conditional jump is a branch of the source: an ``if`` (body or
# not) and an ``assert`` (passes or reverts); loops and the compiler's own checks are not
BRANCHING = ("If", "Assert")


def _compile(name: str, root: Path) -> dict:
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
    lines, nodes = {}, maps["pc_raw_ast_map"]
    for pc, node in nodes.items():
        if isinstance(node, vy_ast.Module):  # the whole file: no line of its own
            continue
        source = Path(node.module_node.resolved_path).resolve()
        lines[pc] = (str(source.relative_to(root)), node.lineno)
    branches = [pc for pc in _jumpis(code) if type(nodes.get(pc)).__name__ in BRANCHING]
    return {"lines": sorted(lines.items()), "branches": branches}


def _jumpis(code: bytes) -> list[int]:
    """The pcs of the JUMPI instructions (push data skipped)."""
    found, pc = [], 0
    while pc < len(code):
        op = code[pc]
        if op == JUMPI:
            found.append(pc)
        pc += 1 + (op - PUSH1 + 1 if PUSH1 <= op <= PUSH32 else 0)
    return found


@cache
def _cached(name: str, root: Path, digest: str) -> dict:
    cache_file = root / ".build" / "harness" / digest / f"{name}.lines.json"
    if cache_file.exists():
        return json.loads(cache_file.read_text())
    data = _compile(name, root)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")  # workers may race
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, cache_file)
    return data


def _data(name: str, root: Path | None) -> dict:
    root = Path(root or os.environ.get("HARNESS_SOURCE_ROOT") or REPO_ROOT).resolve()
    return _cached(name, root, artifacts.sources_hash(root))


def pc_lines(name: str, root: Path | None = None) -> dict[int, tuple[str, int]]:
    """Runtime pc of contract ``name`` -> (source file relative to the repo, line)."""
    return {pc: (path, line) for pc, (path, line) in _data(name, root)["lines"]}


def branch_points(name: str, root: Path | None = None) -> list[int]:
    """The pcs of the conditional jumps of ``if`` and ``assert`` statements (which way is
    which is the compiler's choice: an ``assert`` jumps when it passes)."""
    return _data(name, root)["branches"]
