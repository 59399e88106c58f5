"""Replay the committed test vectors (tests/vectors, format in docs/vectors.md) against the
contracts on the embedded chain, with no spec involved; check they are up to date with the
spec and that they cover every entry point and every branch of the waterfall."""

import json
from collections import Counter

import pytest

from harness import artifacts, vectors
from harness.abi import EventDecoder
from harness.chains import make_chain
from harness.coverage import FUNDING_BRANCHES, WATERFALL_BRANCHES
from harness.protocol import Protocol

FILES = sorted(vectors.VECTORS_DIR.glob("*/*.json"))
ENTRY_POINTS = (
    "add_market",
    "update_price",
    "update_funding",
    "deposit",
    "withdraw",
    "settle_trade",
    "liquidate",
    "deleverage",
    "top_up_insurance",
    "withdraw_insurance",
)


@pytest.fixture(scope="module")
def deployed():
    protocol = Protocol(make_chain("embedded"))
    decoders = {
        protocol.engine_address: EventDecoder(artifacts.load("PerpEngine").abi),
        protocol.token_address: EventDecoder(artifacts.load("MockToken").abi),
    }
    yield protocol, decoders
    protocol.chain.close()


def load(path) -> dict:
    return json.loads(path.read_text())


def check_state(protocol: Protocol, expected: dict, label: str) -> None:
    actual = vectors.state_json(protocol.chain_dump(), protocol.accounts, protocol.names)
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
    ids=[p.relative_to(vectors.VECTORS_DIR).with_suffix("").as_posix() for p in FILES],
)
def test_replay_on_contracts(deployed, path):
    protocol, decoders = deployed
    vector = load(path)
    assert vector["format"] == vectors.FORMAT
    assert path.parent.name == vector["category"] and path.stem == vector["name"]
    protocol.reset()
    setup = vectors.setup_json(protocol.actors, protocol.token_address, protocol.engine_address)
    assert vector["setup"] == setup, "the vector's setup is not the deployment's"

    for i, item in enumerate(vector["pre_calls"]):
        call = vectors.call_from_json(item)
        result = protocol.send(call)
        assert result.success, f"pre_calls[{i}] {call} reverted: {result.reason}"
    check_state(protocol, vector["pre_state"], "pre_state")

    action = vectors.call_from_json(vector["action"])
    result = protocol.send(action)
    if vector["post_state"] is None:
        assert not result.success, f"{action} succeeded; the vector expects a revert"
        assert result.reason == vector["revert_reason"]
        check_state(protocol, vector["pre_state"], "state after the rejected action")
        return
    assert result.success, f"{action} reverted: {result.reason}"
    events = [decoders[log.address].decode(log) for log in result.logs]
    emitters = [
        "token" if log.address == protocol.token_address else "engine" for log in result.logs
    ]
    assert vectors.events_json(events, protocol.names, emitters) == vector["events"]
    check_state(protocol, vector["post_state"], "post_state")


def test_vectors_are_up_to_date():
    """Regenerating from the spec gives the committed files, byte for byte."""
    generated, on_disk = vectors.generate(), vectors.committed()
    stale = sorted(
        p for p in generated.keys() | on_disk.keys() if generated.get(p) != on_disk.get(p)
    )
    assert not stale, f"stale vectors (run `python -m harness.vectors generate`): {stale[:10]}"


def branches(vector: dict) -> list[str]:
    """The branches a successful action took, read from the vector alone (as
    ``harness.coverage.branches`` reads them from the spec)."""
    pre, found, fills = vector["pre_state"], [], 0
    for event in vector["events"]:
        name, args = event["name"], event["args"]
        if name == "Liquidation":
            account, _, market, size, price, penalty, _ = args
            held = abs(pre[f"{account}.positions[{market}].size"])
            found.append("liquidation.full" if size == held else "liquidation.partial")
            fee = pre[f"markets[{market}].liquidation_fee_ratio"]
            if penalty * 10**6 < size * price * fee:
                found.append("liquidation.penalty_capped")
        elif name == "InsuranceCover":
            found.append("insurance.covers")
        elif name == "Deleverage":
            fills += 1
        elif name == "SocializedLoss":
            found.append("socialized_loss")
        elif name == "FundingUpdated" and args[1] != args[2]:
            found.append("funding.clamped")
        elif name == "PositionSettled" and args[2] != 0:
            found.append("funding.settled")
        elif name == "Trade" and args[5] + args[6] > 0:
            found.append("fees.charged")
    if fills:
        found.append("adl.one_counterparty" if fills == 1 else "adl.several_counterparties")
    return found


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
    missing = [b for b in WATERFALL_BRANCHES + FUNDING_BRANCHES if not taken[b]]
    assert not missing, f"no vector takes {missing}"
    assert set(vectors.CATEGORIES) == {p.parent.name for p in FILES}
