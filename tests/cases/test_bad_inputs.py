"""The bad-input catalogue (``harness/vectors/catalogue.py``, ``docs/bad-inputs.md``): each
entry on the spec and on both chains. Its pre-calls succeed on both sides; its last call
reverts with the entry's reason on both sides and changes nothing (``CheckedSequence``
compares state, reverts and events and checks every invariant after every call)."""

import pytest

from harness import REPO_ROOT
from harness.core.sequence import CheckedSequence
from harness.vectors import catalogue

DOC = REPO_ROOT / "docs" / "bad-inputs.md"


@pytest.mark.parametrize("entry", catalogue.ENTRIES, ids=lambda entry: entry.name)
def test_entry(pair, entry):
    sequence = CheckedSequence(pair)
    *pre, bad = entry.build(pair.state, pair.actors)
    for call in pre:
        outcome = sequence.call(call)
        assert outcome.success, f"pre-call {call}: {outcome.reason}"
    before = pair.chain_dump()
    outcome = sequence.call(bad)
    assert outcome.reason == entry.reason, f"{bad}: {outcome.reason!r}"
    assert pair.chain_dump() == before


def test_every_function_is_catalogued():
    """A new state-changing function of either ABI fails here until it has entries."""
    covered = {(entry.contract, entry.fn) for entry in catalogue.ENTRIES}
    assert not catalogue.functions() - covered, sorted(catalogue.functions() - covered)


def test_every_privileged_function_meets_every_other_role():
    for contract, fn, holder, _, _ in catalogue.PRIVILEGED:
        tried = {
            entry.detail
            for entry in catalogue.ENTRIES
            if (entry.contract, entry.fn, entry.kind) == (contract, fn, "unauthorized")
        }
        wanted = {f"called by {caller}" for caller in catalogue.CALLERS if caller != holder}
        assert wanted <= tried, (fn, wanted - tried)


def test_the_document_is_current(request):
    text = catalogue.render()
    if request.config.getoption("--write-vectors"):
        DOC.write_text(text)
    assert DOC.read_text() == text, "docs/bad-inputs.md is stale: run `make vectors`"
