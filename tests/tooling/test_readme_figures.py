"""Figures in the README that count things are checked against the things they count."""

import re

from harness import REPO_ROOT
from harness.vectors.catalogue import ENTRIES

README = (REPO_ROOT / "README.md").read_text()


def figures(pattern: str) -> list[int]:
    found = [int(n.replace(",", "")) for n in re.findall(pattern, README)]
    assert found, f"README no longer says {pattern!r}"
    return found


def test_catalogue_size():
    functions = {(entry.contract, entry.fn) for entry in ENTRIES}
    assert figures(r"all ([\d,]+) entries on the spec") == [len(ENTRIES)]
    assert figures(r"catalogue: ([\d,]+) entries over the") == [len(ENTRIES)]
    assert figures(r"entries over the ([\d,]+) state-changing functions") == [len(functions)]


def test_vector_count():
    count = len(list((REPO_ROOT / "tests" / "vectors").glob("*/*.json")))
    assert figures(r"`tests/vectors/<category>/<name>\.json` \(([\d,]+) files\)") == [count]


def test_every_invariant_and_property_is_stated_in_spec():
    from harness.core import liveness, properties  # noqa: F401 (they register the names)
    from harness.core.invariants import INVARIANTS

    spec = (REPO_ROOT / "SPEC.md").read_text()
    compared = ("state", "reverts", "events", "views")  # the differential checks (README)
    missing = [n for n in INVARIANTS if n not in compared and f"`{n}`" not in spec]
    assert not missing, f"SPEC.md states no {missing}"
