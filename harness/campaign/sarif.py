"""A campaign's result as a SARIF 2.1.0 log for CI (code scanning): one rule per invariant
and property (the first four are the differential comparison itself) and ``divergence``
for a failure no invariant names; one result per failure, at the contract function and
the spec function the failing call ran, the counterexample attached and the minimized
calls as its code flow; the run's provenance in the run's properties. A run that did not
run to its end (an error, too few steps, a signal) says so in its invocation."""

import hashlib
import inspect
import json
import os
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from harness import REPO_ROOT
from harness.campaign import provenance
from harness.core import view_queries
from harness.core.call import Call, call_from_json, reached
from harness.core.invariants import INVARIANTS
from harness.core.readable import CONTRACTS, describe
from harness.core.spec_step import spec_function
from harness.evm import artifacts

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL = "perp-spec campaign"
# the rule of a failure that names no invariant or property
DIVERGENCE = "divergence"
DIFFERENTIAL = ("state", "reverts", "events", "views")
SRCROOT = "SRCROOT"
# the views the campaign compares, by name -> their spec function (``Pair.check_views``)
SPEC_VIEWS = {
    **view_queries.ACCOUNT_VIEWS,
    **view_queries.POSITION_VIEWS,
    **view_queries.MARKET_VIEWS,
    **view_queries.AMOUNT_VIEWS,
}


def information_uri() -> str:
    """The project's page: the git remote (https), GitHub Actions' repository, else the
    README where the campaign ran."""
    remote = provenance.git("remote", "get-url", "origin") or ""
    if remote.startswith("git@"):  # git@host:owner/name.git
        remote = "https://" + remote[4:].replace(":", "/", 1)
    if remote.startswith("https://"):
        return re.sub(r"\.git$", "", remote)
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if server and repository:
        return f"{server}/{repository}"
    return (REPO_ROOT / "README.md").as_uri()


def rules(summary: dict) -> list[dict]:
    """Every invariant and property, with how often this run checked it, then
    ``divergence``."""
    out = [
        {
            "id": name,
            "shortDescription": {"text": statement},
            "defaultConfiguration": {"level": "error"},
            "properties": {
                "checks": summary["checks"].get(name, 0),
                "tags": ["differential" if name in DIFFERENTIAL else "invariant"],
            },
        }
        for name, statement in INVARIANTS.items()
    ]
    out.append(
        {
            "id": DIVERGENCE,
            "shortDescription": {
                "text": "a failure that names no invariant or property (an unnamed check)"
            },
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["differential"]},
        }
    )
    return out


def artifact(path: Path) -> dict:
    """An artifact location: relative to the repository (``SRCROOT``) inside it, else a
    file URI."""
    path = Path(path).absolute()
    if path.is_relative_to(REPO_ROOT):
        return {"uri": path.relative_to(REPO_ROOT).as_posix(), "uriBaseId": SRCROOT}
    return {"uri": path.as_uri()}


def _location(path: Path, line: int | None, text: str) -> dict:
    physical = {"artifactLocation": artifact(path)}
    if line is not None:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical, "message": {"text": text}}


def contract_function(target: str, fn: str) -> tuple[Path, int | None] | None:
    """The Vyper file and line of ``def fn(`` (or the public variable ``fn``) that a call
    to ``target.fn`` runs: the contract's own file, else the module it exports it from;
    None when the contract has no such function."""
    if target not in CONTRACTS:
        return None  # the clock
    abi = artifacts.load(CONTRACTS[target]).abi
    if not any(i.get("type") == "function" and i.get("name") == fn for i in abi):
        return None  # the views' pseudo-call
    main = artifacts.source_path(CONTRACTS[target])
    pattern = re.compile(rf"^(def {re.escape(fn)}\(|{re.escape(fn)}: public\()", re.M)
    modules = sorted(p for p in (REPO_ROOT / "contracts").rglob("*.vy") if p != main)
    for path in [main, *modules]:
        found = pattern.search(path.read_text())
        if found:
            return path, path.read_text().count("\n", 0, found.start()) + 1
    return main, None


def spec_source(target: str, fn: str) -> tuple[Path, int] | None:
    """The spec file and line of the function a call to ``target.fn`` runs, or None."""
    try:
        function = SPEC_VIEWS[fn] if target == "views" else spec_function(target, fn)
    except (AttributeError, KeyError):
        return None
    return Path(inspect.getsourcefile(function)), inspect.getsourcelines(function)[1]


def call_locations(call: Call, role: str) -> list[dict]:
    """The contract function and the spec function of each call ``call`` makes."""
    return [place for c in reached(call) for place in entry_locations(f"{c.target}.{c.fn}", role)]


def entry_locations(entry: str, role: str) -> list[dict]:
    """The contract function and the spec function of ``entry`` ("target.fn")."""
    target, fn = entry.split(".", 1)
    out = []
    contract = contract_function(target, fn)
    if contract is not None:
        out.append(_location(*contract, f"{entry}: the contract function {role}"))
    spec = spec_source(target, fn)
    if spec is not None:
        out.append(_location(*spec, f"{entry}: the spec function {role}"))
    return out


def result(summary: dict, found: dict) -> dict:
    """The failure as a SARIF result."""
    failure = found.get("failure", {})
    rule = failure.get("invariant") or DIVERGENCE
    entries = failure.get("entry_points", [])
    locations = [p for e in entries for p in entry_locations(e, "the failing call ran")]
    trace_path = summary.get("counterexample")
    if trace_path:
        replay = f"the minimized counterexample: make replay TRACE={trace_path}"
        locations.append(_location(Path(trace_path), None, replay))
    calls = [call_from_json(c) for c in found.get("calls", [])]
    steps = [
        {
            "location": (call_locations(call, "this step ran")[:1] or [{}])[0]
            | {"message": {"text": f"step {i}: {describe(call)}"}},
            "importance": "essential" if i == len(calls) else "important",
        }
        for i, call in enumerate(calls, 1)
    ]
    signature = json.dumps([rule, failure.get("kind"), entries])
    out = {
        "ruleId": rule,
        "ruleIndex": list(INVARIANTS).index(rule) if rule in INVARIANTS else len(INVARIANTS),
        "level": "error",
        "kind": "fail",
        "message": {"text": "\n".join(summary.get("failure") or [summary["result"]])},
        "locations": locations,
        "partialFingerprints": {
            "perpSpecFailure/v1": hashlib.sha256(signature.encode()).hexdigest()[:32]
        },
        "properties": {
            "failure": failure,
            "minimized": found.get("minimized", summary["minimized"]),
            "counterexample": trace_path,
        },
    }
    if steps:
        out["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    if trace_path:
        out["attachments"] = [
            {
                "description": {"text": "counterexample.json: the minimized calls to replay"},
                "artifactLocation": artifact(Path(trace_path)),
            }
        ]
    return out


def invocation(summary: dict, code: int) -> dict:
    """Whether the campaign ran to its end: it agreed or found a failure, over at least
    one step, uninterrupted; else what stopped it, as notifications."""
    successful = code in (0, 1) and summary["steps"] > 0 and not summary.get("partial")
    notes = [{"level": "error", "message": {"text": e}} for e in summary.get("errors", [])]
    if not successful and not notes:
        notes.append({"level": "error", "message": {"text": summary["result"]}})
    if summary["steps"] == 0 and code == 0:
        notes.append({"level": "error", "message": {"text": "no step ran: nothing was checked"}})
    out = {
        "executionSuccessful": successful,
        "exitCode": code,
        "exitCodeDescription": summary["result"],
        "commandLine": summary["provenance"]["command"],
        "endTimeUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if notes:
        out["toolExecutionNotifications"] = notes
    return out


def document(summary: dict, found: dict | None, code: int) -> dict:
    """The SARIF log of a campaign: ``summary`` (``report.summarize`` and what the
    campaign adds), ``found`` (the counterexample's JSON, or None) and the exit status."""
    origin = summary["provenance"]
    run = {
        "tool": {
            "driver": {
                "name": TOOL,
                "version": metadata.version("perp-spec"),
                "informationUri": information_uri(),
                "rules": rules(summary),
            }
        },
        "invocations": [invocation(summary, code)],
        "originalUriBaseIds": {SRCROOT: {"uri": REPO_ROOT.as_uri() + "/"}},
        "results": [result(summary, found)] if found is not None else [],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "result": summary["result"],
            "provenance": origin,
            "seed": summary["seed"],
            "chain": summary["chain"],
            "machine": summary["machine"],
            "steps": summary["steps"],
            "sequences": summary["sequences"],
            "elapsed_seconds": summary["elapsed_seconds"],
            "checks": summary["checks"],
            "never_checked": summary["never_reached"]["invariants_and_properties"],
            "reproduce": summary.get("reproduce"),
        },
    }
    commit, uri = origin["code"].get("commit"), information_uri()
    if commit and not uri.startswith("file:"):
        run["versionControlProvenance"] = [{"repositoryUri": uri, "revisionId": commit}]
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def write(path: Path, summary: dict, found: dict | None, code: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document(summary, found, code), indent=1) + "\n")
    return path
