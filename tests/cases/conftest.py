"""The ``case`` fixture: a vector builder on each chain. A case's vector is named after
its module (the category) and its function (the name), described by its docstring;
after the test, the rendered vector must equal the committed file, or, under
``make vectors`` (``--write-vectors``), is written there; a full, green writing run also
deletes the vectors no case wrote any more."""

from pathlib import Path

import pytest

from harness.vectors.builder import Builder
from harness.vectors.format import VECTORS_DIR

WRITTEN = pytest.StashKey[set]()
HERE = Path(__file__).parent


@pytest.fixture
def case(request, pair):
    category = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    name = request.function.__name__.removeprefix("test_")
    description = " ".join((request.function.__doc__ or "").split())
    builder = Builder(pair, category, name, description)
    yield builder
    if builder.vector is None and request.node.rep_call_failed:
        return  # the test failed before its action: pytest reports that
    text = builder.render()
    path = VECTORS_DIR / builder.path
    if request.config.getoption("--write-vectors"):
        request.config.stash.setdefault(WRITTEN, set()).add(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        return
    committed = path.read_text() if path.exists() else None
    assert committed == text, (
        f"tests/vectors/{builder.path} is {'stale' if committed else 'missing'}: "
        "run `make vectors` and review the diff"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Let the ``case`` fixture know whether the test body failed."""
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


def pytest_sessionfinish(session, exitstatus):
    """After ``make vectors`` ran every case and all passed, delete orphaned vectors."""
    config = session.config
    cases = {p.name for p in HERE.glob("test_*.py")}
    collected = {item.path.name for item in session.items if item.path.parent == HERE}
    filtered = config.option.keyword or config.option.markexpr or config.option.deselect
    whole = collected == cases and not filtered and not session.testsfailed
    # under pytest-xdist the controller sees no written path: sweeping would delete all
    whole = whole and not getattr(config.option, "numprocesses", None)
    if config.getoption("--write-vectors") and whole and exitstatus == 0:
        written = config.stash.get(WRITTEN, set())
        for path in VECTORS_DIR.glob("*/*.json"):
            if path not in written:
                path.unlink()
