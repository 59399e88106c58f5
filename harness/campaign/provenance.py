"""Where a report or a trace came from: the code (commit, dirty flag, hashes of the
contract sources, their runtime bytecode and the spec), the tools' versions, the date,
the host and the exact command, so a reader can tell whether a result still applies."""

import hashlib
import platform
import shlex
import socket
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata

from harness import REPO_ROOT
from harness.evm import artifacts

# the contracts a campaign deploys (``Pair``): their runtime code is what ran
DEPLOYED = (
    "MockToken",
    "PerpEngine",
    "StateLens",
    "Settlement",
    "PerpViews",
    "Governor",
    "AdlAllocator",
    "EngineGovernance",
    "Bundler",
)
# the distributions whose versions a result depends on (pyrevm is the embedded chain)
PACKAGES = ("vyper", "eth-ape", "hypothesis", "pyrevm")
# the hashes that decide whether a trace still replays the code it was found on
CODE_KEYS = ("contracts_sources", "runtime_bytecode", "spec")


def git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def spec_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "pyspec").rglob("*.py")):
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def bytecode_hash() -> str:
    """The deployed contracts' runtime code, compiled (from the on-disk cache when fresh)."""
    digest = hashlib.sha256()
    for name in DEPLOYED:
        digest.update(name.encode() + b"\0" + artifacts.load(name).runtime + b"\0")
    return digest.hexdigest()[:20]


def code() -> dict:
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "contracts_sources": artifacts.sources_hash(),
        "runtime_bytecode": bytecode_hash(),
        "spec": spec_hash(),
    }


def _anvil_version() -> str | None:
    try:
        done = subprocess.run(["anvil", "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.splitlines()[0].strip() if done.returncode == 0 and done.stdout else None


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    found["anvil"] = _anvil_version()
    return found


def command(module: str, argv: list[str] | None) -> str:
    """The command as typed: ``python -m <module>`` and its arguments."""
    return shlex.join(["python", "-m", module, *(sys.argv[1:] if argv is None else argv)])


def collect(command_line: str, seeds: dict) -> dict:
    return {
        "code": code(),
        "versions": versions(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "command": command_line,
        "seeds": seeds,
    }


def differences(recorded: dict, current: dict) -> list[str]:
    """The code hashes that differ between a recorded provenance's and ``current``."""
    was = recorded.get("code", {})
    return [
        f"{key.replace('_', ' ')}: {was.get(key)} then, {current[key]} now"
        for key in CODE_KEYS
        if was.get(key) != current[key]
    ]


def lines(provenance: dict) -> list[str]:
    """Provenance as Markdown list items, for the reports."""
    code_, versions_ = provenance["code"], provenance["versions"]
    dirty = {True: " (dirty: uncommitted changes)", False: " (clean)", None: ""}[code_["dirty"]]
    return [
        f"- commit: `{code_['commit']}`{dirty}",
        f"- contract sources: `{code_['contracts_sources']}`; runtime bytecode: "
        f"`{code_['runtime_bytecode']}`; spec (pyspec/): `{code_['spec']}` (sha256, 20 hex)",
        "- versions: " + ", ".join(f"{k} {v or 'not found'}" for k, v in versions_.items()),
        f"- date: {provenance['date']}; host: {provenance['host']}",
        f"- command: `{provenance['command']}`",
        f"- seeds: {provenance['seeds']['rule']}; batches run per worker: "
        f"{provenance['seeds']['batches']}",
    ]
