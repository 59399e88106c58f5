"""A campaign's result as JUnit XML for CI: one testcase per invariant and property, a
failure on the one the counterexample violated, skipped when it was never checked."""

from pathlib import Path
from xml.etree import ElementTree

from harness.core.invariants import INVARIANTS


def document(summary: dict, failed: str | None) -> ElementTree.ElementTree:
    """``failed``: the invariant the counterexample violated (None: none, or unnamed)."""
    suite = ElementTree.Element(
        "testsuite",
        name="perp-spec campaign",
        time=str(summary["elapsed_seconds"]),
    )
    failures = skipped = 0
    for name, statement in INVARIANTS.items():
        checks = summary["checks"].get(name, 0)
        case = ElementTree.SubElement(suite, "testcase", classname="campaign.invariants", name=name)
        ElementTree.SubElement(case, "system-out").text = f"{statement}\nchecked {checks} times"
        if name == failed:
            failures += 1
            failure = ElementTree.SubElement(case, "failure", message=summary["result"])
            failure.text = "\n".join(summary.get("failure", []))
        elif not checks:
            skipped += 1
            ElementTree.SubElement(case, "skipped", message="never checked in this run")
    if "failure" in summary and failed is None:  # a failure no invariant names: say so
        failures += 1
        case = ElementTree.SubElement(suite, "testcase", classname="campaign", name="campaign")
        failure = ElementTree.SubElement(case, "failure", message=summary["result"])
        failure.text = "\n".join(summary["failure"])
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", str(len(summary.get("errors", []))))
    return ElementTree.ElementTree(suite)


def write(path: Path, summary: dict, failed: str | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = document(summary, failed)
    ElementTree.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
