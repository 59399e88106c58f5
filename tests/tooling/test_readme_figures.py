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
