"""Mutation testing of the contracts against the differential harness (``make mutate``).

    python -m harness.campaign.mutate --max 40 --seconds 20 --seed 1

Each mutant changes one token of one line of the engine's Vyper sources (a comparison,
a rounding helper, an arithmetic operator, min/max, a boolean) in a copy of the tree.
Mutants that do not compile, or compile to the original bytecode (equivalent), are set
aside; each remaining one gets a short differential campaign. A mutant is killed when the
campaign reports a divergence or a violated invariant. Survivors show what the campaign
does not see: read them, then strengthen the machine or accept them as equivalent.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import REPO_ROOT as ROOT
from harness.arguments import AT_LEAST_ZERO, POSITIVE, SECONDS
from harness.evm import artifacts

TARGETS = [
    "contracts/PerpEngine.vy",
    "contracts/EngineGovernance.vy",
    "contracts/AdlAllocator.vy",
    "contracts/Settlement.vy",
    "contracts/Governor.vy",
    "contracts/PerpViews.vy",
    "contracts/lib/fixed_math.vy",
] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "contracts" / "engine").glob("*.vy"))
# (name, pattern, replacement): each match of the pattern on a code line is one mutant.
OPERATORS = (
    ("ge->gt", r"(?<=\s)>=(?=\s)", ">"),
    ("gt->ge", r"(?<=\s)>(?=\s)", ">="),
    ("le->lt", r"(?<=\s)<=(?=\s)", "<"),
    ("lt->le", r"(?<=\s)<(?=\s)", "<="),
    ("eq->ne", r"(?<=\s)==(?=\s)", "!="),
    ("ne->eq", r"(?<=\s)!=(?=\s)", "=="),
    ("ceil->floor", r"\bceil_div\(", "floor_div("),
    ("floor->ceil", r"\bfloor_div\(", "ceil_div("),
    ("plus->minus", r"(?<=\s)\+(?=\s)", "-"),
    ("minus->plus", r"(?<=\s)-(?=\s)", "+"),
    ("max->min", r"\bmax\(", "min("),
    ("min->max", r"\bmin\(", "max("),
    ("true->false", r"\bTrue\b", "False"),
)


@dataclass
class Mutant:
    file: str
    line: int
    operator: str
    original: str
    mutated: str
    status: str = "pending"  # invalid, equivalent, killed, survived, error
    detail: str = ""
    seconds: float = 0.0


def code_lines(text: str):
    """Yield (line number, line) of statement lines: no docstrings, comments or decorators."""
    in_docstring = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith('"""'):
            if not (len(stripped) > 3 and stripped.endswith('"""')):
                in_docstring = not in_docstring
            continue
        if in_docstring or not line.startswith("    ") or stripped.startswith(("#", "@", "log ")):
            continue
        yield number, line


def enumerate_mutants() -> list[Mutant]:
    mutants = []
    for file in TARGETS:
        for number, line in code_lines((ROOT / file).read_text()):
            code = line.split("#")[0]
            for name, pattern, replacement in OPERATORS:
                for match in re.finditer(pattern, code):
                    mutated = code[: match.start()] + replacement + code[match.end() :]
                    mutants.append(Mutant(file, number, name, line.strip(), mutated.strip()))
    return mutants


def materialize(mutant: Mutant, workdir: Path) -> Path:
    """Copy contracts/ into ``workdir`` with the mutant applied; return the new root."""
    root = workdir / f"m{abs(hash((mutant.file, mutant.line, mutant.mutated))) % 10**10}"
    shutil.copytree(ROOT / "contracts", root / "contracts")
    path = root / mutant.file
    lines = path.read_text().splitlines(keepends=True)
    original = lines[mutant.line - 1]
    indent = original[: len(original) - len(original.lstrip())]
    comment = original.split("#", 1)[1] if "#" in original else None
    lines[mutant.line - 1] = indent + mutant.mutated + (f"  #{comment}" if comment else "\n")
    path.write_text("".join(lines))
    return root


# Contracts compiled from one file of their own; a module mutant changes the engine, its
# governance code, or both (they share the engine's modules).
STANDALONE = ("AdlAllocator", "Settlement", "PerpViews", "Governor")
ENGINE = ("PerpEngine", "EngineGovernance")


def compiled_by(file: str) -> tuple[str, ...]:
    """The contracts whose bytecode a mutant of ``file`` may change (the equivalence
    check): its own, or the engine's two."""
    name = Path(file).stem
    return (name,) if name in STANDALONE else ENGINE


def classify(mutant: Mutant, workdir: Path, originals: dict, seen: dict) -> Path | None:
    """Materialize and compile the mutant; return its root when it deserves a campaign."""
    root = materialize(mutant, workdir)
    contracts = compiled_by(mutant.file)
    original = b"".join(originals[name] for name in contracts)
    try:
        bytecode = b"".join(artifacts.load(name, root).bytecode for name in contracts)
    except Exception as error:  # any compiler rejection makes the mutant invalid
        mutant.status, mutant.detail = "invalid", str(error).strip().splitlines()[0][:120]
        return None
    if bytecode == original or bytecode in seen:
        mutant.status = "equivalent"
        mutant.detail = "same bytecode as " + (
            "the original" if bytecode == original else seen[bytecode]
        )
        return None
    seen[bytecode] = f"{mutant.file}:{mutant.line} {mutant.operator}"
    return root


def run_campaign(mutant: Mutant, root: Path, args) -> Mutant:
    """A short campaign against the mutant: exit 1 (a divergence) kills it."""
    started = time.monotonic()
    command = [
        sys.executable, "-m", "harness.campaign", "--seconds", str(args.seconds),
        "--max-steps", str(args.max_steps), "--seed", str(args.seed), "--database", "",
        "--out", str(root / "report"),
    ]  # fmt: skip
    env = {**os.environ, "HARNESS_SOURCE_ROOT": str(root)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    mutant.seconds = round(time.monotonic() - started, 1)
    if result.returncode == 1:
        mutant.status = "killed"
        mutant.detail = next((x for x in result.stderr.splitlines() if x.strip()), "")[:160]
    elif result.returncode == 0:
        mutant.status = "survived"
    else:
        mutant.status = "error"
        mutant.detail = (result.stderr.strip().splitlines() or ["?"])[-1][:160]
    return mutant


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=AT_LEAST_ZERO, default=30, help="mutants to sample (0: all)")
    parser.add_argument("--seed", type=AT_LEAST_ZERO, default=1, help="sampling and campaign seed")
    parser.add_argument("--seconds", type=SECONDS, default=15.0, help="campaign budget per mutant")
    parser.add_argument("--max-steps", type=POSITIVE, default=20_000, help="step budget per mutant")
    parser.add_argument("--jobs", type=POSITIVE, default=2, help="mutants judged at once")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    mutants = enumerate_mutants()
    total = len(mutants)
    if args.max and args.max < total:
        mutants = random.Random(args.seed).sample(mutants, args.max)
    originals = {name: artifacts.load(name).bytecode for name in (*ENGINE, *STANDALONE)}
    seen: dict = {}
    print(f"{total} mutants in {len(TARGETS)} files; judging {len(mutants)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        live = []
        for mutant in mutants:  # compile one at a time: the bytecode table is shared
            root = classify(mutant, Path(tmp), originals, seen)
            if root is None:
                print(f"  {mutant.status:<10} {mutant.file}:{mutant.line} {mutant.operator}")
            else:
                live.append((mutant, root))
        with ThreadPoolExecutor(args.jobs) as pool:
            jobs = [pool.submit(run_campaign, mutant, root, args) for mutant, root in live]
            for job in jobs:
                m = job.result()
                print(f"  {m.status:<10} {m.file}:{m.line} {m.operator}: {m.mutated}", flush=True)
    counts = {
        s: sum(m.status == s for m in mutants)
        for s in ("killed", "survived", "equivalent", "invalid", "error")
    }
    judged = counts["killed"] + counts["survived"]
    score = counts["killed"] / judged if judged else 0.0
    out = args.out or ROOT / "reports" / (datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-mutation")
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "mutants_total": total,
        "sampled": len(mutants),
        **counts,
        "mutation_score": round(score, 3),
        "seed": args.seed,
        "seconds_per_mutant": args.seconds,
        "mutants": [asdict(m) for m in mutants],
    }
    (out / "mutation.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = [
        "# Mutation testing",
        "",
        f"{total} mutants enumerated, {len(mutants)} sampled (seed {args.seed}); campaign of "
        f"{args.seconds:.0f}s / {args.max_steps} steps per mutant.",
        "",
        "| killed | survived | equivalent | invalid | error | score |",
        "|---|---|---|---|---|---|",
        f"| {counts['killed']} | {counts['survived']} | {counts['equivalent']} | "
        f"{counts['invalid']} | {counts['error']} | {score:.0%} |",
        "",
        "| status | where | operator | mutated line | detail |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {m.status} | {m.file}:{m.line} | {m.operator} | `{m.mutated}` | {m.detail} |"
        for m in sorted(mutants, key=lambda m: (m.status != "survived", m.file, m.line))
    ]
    (out / "mutation.md").write_text("\n".join(lines) + "\n")
    print(
        f"killed {counts['killed']}, survived {counts['survived']}, equivalent "
        f"{counts['equivalent']}, invalid {counts['invalid']}, error {counts['error']}: "
        f"score {score:.0%}\nreport: {out / 'mutation.md'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
