"""Replay the committed test vectors (tests/vectors, format in docs/vectors.md) against the
contracts on the embedded chain with no spec involved, as another implementation would;
check that every vector has its case and that they cover every entry point and branch.
(Each case in tests/cases checks that its own vector is up to date.)"""

import ast
import json
from collections import Counter

import pytest

from harness import REPO_ROOT
from harness.core.branches import TRADING_BRANCHES, WATERFALL_BRANCHES, classify
from harness.core.call import call_from_json
from harness.core.dump import call_ids_of, digests_of
from harness.core.pair import Pair
from harness.evm import artifacts, make_chain
from harness.evm.abi import EventDecoder
from harness.vectors.format import (
    CATEGORIES,
    FORMAT,
    VECTORS_DIR,
    events_json,
    setup_json,
    state_json,
)

FILES = sorted(VECTORS_DIR.glob("*/*.json"))
CASES = REPO_ROOT / "tests" / "cases"
# Entry points with valid and rejected vectors of their own. After the deployment's
# listings, add_market and withdraw_insurance run only inside the Governor's execute (N6),
# whose vectors cover them, as they cover set_market_params and the role setters.
ENTRY_POINTS = (
    "schedule",
    "execute",
    "cancel",
    "transfer_ownership",
    "accept_ownership",
    "set_market_paused",
    "request_exit",
    "take_exit",
    "escape",
    "cancel_exit",
    "update_price",
    "set_funding_rate",
    "deposit",
    "withdraw",
    "settle",
    "cancel_order",
    "invalidate_nonces",
    "liquidate",
    "deleverage",
    "top_up_insurance",
)


@pytest.fixture(scope="module")
def deployed():
    pair = Pair(make_chain("embedded"))
    decoders = {
        pair.engine_address: EventDecoder(artifacts.load("PerpEngine").abi),
        pair.token_address: EventDecoder(artifacts.load("MockToken").abi),
        pair.settlement_address: EventDecoder(artifacts.load("Settlement").abi),
        pair.governor_address: EventDecoder(artifacts.load("Governor").abi),
    }
    yield pair, decoders
    pair.chain.close()


def load(path) -> dict:
    return json.loads(path.read_text())


def check_state(pair: Pair, expected: dict, label: str) -> None:
    digests = digests_of(expected)
    actual = state_json(pair.chain_dump(digests, call_ids_of(expected)), pair.accounts, pair.names)
    if actual == expected:
        return
    for field in [*expected, *actual]:
        if expected.get(field, "<absent>") != actual.get(field, "<absent>"):
            pytest.fail(
                f"{label}: {field}: vector {expected.get(field, '<absent>')!r}, "
                f"chain {actual.get(field, '<absent>')!r}"
            )


@pytest.mark.parametrize(
    "path",
    FILES,
    ids=[p.relative_to(VECTORS_DIR).with_suffix("").as_posix() for p in FILES],
)
def test_replay_on_contracts(deployed, path):
    pair, decoders = deployed
    vector = load(path)
    assert vector["format"] == FORMAT
    assert path.parent.name == vector["category"] and path.stem == vector["name"]
    pair.reset()
    setup = setup_json(pair.actors, pair.token_address, pair.engine_address)
    assert vector["setup"] == setup, "the vector's setup is not the deployment's"

    for i, item in enumerate(vector["pre_calls"]):
        call = call_from_json(item)
        result = pair.send(call)
        assert result.success, f"pre_calls[{i}] {call} reverted: {result.reason}"
    check_state(pair, vector["pre_state"], "pre_state")

    action = call_from_json(vector["action"])
    result = pair.send(action)
    if vector["post_state"] is None:
        assert not result.success, f"{action} succeeded; the vector expects a revert"
        assert result.reason == vector["revert_reason"]
        check_state(pair, vector["pre_state"], "state after the rejected action")
        return
    assert result.success, f"{action} reverted: {result.reason}"
    events = [decoders[log.address].decode(log) for log in result.logs]
    emitters = [emitter_of(pair, log.address) for log in result.logs]
    assert events_json(events, pair.names, emitters) == vector["events"]
    check_state(pair, vector["post_state"], "post_state")


def emitter_of(pair: Pair, address: str) -> str:
    return {
        pair.token_address: "token",
        pair.settlement_address: "settlement",
        pair.governor_address: "governor",
    }.get(address, "engine")


def branches(vector: dict) -> list[str]:
    """The branches a successful action took, read from the vector alone."""
    pre = vector["pre_state"]
    events = [(event["name"], event["args"]) for event in vector["events"]]
    return classify(
        events,
        held=lambda account, market: abs(pre[f"{account}.positions[{market}].size"]),
        fee_ratio=lambda market: pre[f"markets[{market}].liquidation_fee_ratio"],
        policy=lambda market: pre[f"markets[{market}].adl_policy"],
    )


def test_vectors_cover_entry_points_and_branches():
    outcomes, taken = Counter(), Counter()
    for path in FILES:
        vector = load(path)
        ok = vector["post_state"] is not None
        outcomes[vector["action"]["fn"], ok] += 1
        if ok:
            taken.update(branches(vector))
    for fn in ENTRY_POINTS:
        valid, rejected = outcomes[fn, True], outcomes[fn, False]
        assert valid and rejected, f"{fn}: {valid} valid and {rejected} rejected vectors"
    missing = [b for b in WATERFALL_BRANCHES + TRADING_BRANCHES if not taken[b]]
    assert not missing, f"no vector takes {missing}"
    assert set(CATEGORIES) == {p.parent.name for p in FILES}


def case_names() -> set[str]:
    """Every vector a case in tests/cases writes: ``<category>/<name>`` from test functions
    (tables and random sequences name theirs in rows)."""
    names = set()
    for module in CASES.glob("test_*.py"):
        category = module.stem.removeprefix("test_")
        tree = ast.parse(module.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(f"{category}/{node.name.removeprefix('test_')}")
            rows = node.value if isinstance(node, ast.Assign) else None
            if isinstance(rows, ast.Tuple) and rows.elts and isinstance(rows.elts[0], ast.Call):
                names.update(f"{category}/{row.args[0].value}" for row in rows.elts)
            elif isinstance(rows, ast.Tuple) and rows.elts and isinstance(rows.elts[0], ast.Tuple):
                for seed, _, action, row_category in (ast.literal_eval(r) for r in rows.elts):
                    names.add(f"{row_category}/random_{action}_seed{seed}")
    return names


def test_every_vector_has_its_case():
    """A vector whose case was removed or renamed is stale (``make vectors`` deletes it)."""
    on_disk = {p.relative_to(VECTORS_DIR).with_suffix("").as_posix() for p in FILES}
    assert not on_disk - case_names(), f"vectors without a case: {sorted(on_disk - case_names())}"
