"""``python -m harness.campaign.time_to_report``: the deliberate bugs apply to a copy of
the tree, a campaign kills one, its counterexample replays as failing, and the JSON holds
the time-to-report (measured, never asserted: speed is not a test's business)."""

import json

import pytest

from harness import REPO_ROOT
from harness.campaign import time_to_report as ttr


def test_every_bug_applies_once_and_the_mutants_are_make_mutate_s(tmp_path):
    ttr.check_mutants(ttr.BUGS)
    for each in ttr.BUGS:  # each edit occurs once in today's sources (else ValueError)
        assert (
            ttr.patched(each, (REPO_ROOT / each.file).read_text())
            != (REPO_ROOT / each.file).read_text()
        )
    assert len(ttr.BUGS) >= 15 and len({b.name for b in ttr.BUGS}) == len(ttr.BUGS)
    assert len({b.kind for b in ttr.BUGS if b.origin == "hand"}) >= 5
    bug = ttr.BUGS[0]
    root = ttr.materialize(bug, tmp_path)
    assert (root / bug.file).read_text() != (REPO_ROOT / bug.file).read_text()
    assert (root / "pyspec" / "engine.py").exists()  # the spec beside the contracts


def test_a_bug_that_occurs_twice_is_refused(tmp_path):
    twice = ttr.Bug("twice", "x", "hand", "contracts/Settlement.vy", "assert", "assert")
    with pytest.raises(ValueError, match="occurs"):
        ttr.materialize(twice, tmp_path)


def test_the_tool_kills_a_bug_and_writes_the_distribution(tmp_path, capsys):
    assert ttr.main(["--only", "overfill_lt", "--seconds", "20", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "time_to_report.json").read_text())
    assert summary["bugs"] == summary["killed"] == 1
    (result,) = summary["results"]
    # killed: the counterexample was saved and its replay failed again
    assert result["status"] == "killed" and result["calls"] >= 1
    assert result["seconds"] is not None and summary["time_to_report"]["median"] is not None
    out = capsys.readouterr().out
    assert "killed 1 of 1" in out and "per minute of campaign budget (1 worker(s))" in out
    assert summary["workers"] == 1 and summary["rates"]["found_per_minute"] > 0
    assert (tmp_path / "time_to_report.md").exists()


def test_the_distribution_is_median_p90_and_max():
    assert ttr.distribution([]) == {"median": None, "p90": None, "max": None}
    spread = ttr.distribution([float(x) for x in range(1, 21)])
    assert spread == {"median": 10.5, "p90": 18.0, "max": 20.0}


def test_a_trace_that_agrees_is_not_the_same_failure(tmp_path):
    from harness import smoke

    path = tmp_path / "agrees.json"
    path.write_text(json.dumps({**smoke.TRACE, "failure": {"invariant": "state"}}))
    assert ttr.main(["--same-failure", str(path)]) == 1


def test_the_rates_count_a_survivor_s_whole_budget():
    killed = ttr.Result("a", "k", "hand", "killed", first_failure_seconds=2.0, seconds=4.0)
    survived = ttr.Result("b", "k", "hand", "survived")
    rates = ttr.rates([killed, survived], budget=60.0)
    # one bug killed over 2 + 60 s to find and 6 + 60 s to report
    assert rates == {
        "found_per_minute": round(60 / 62, 2),
        "reported_per_minute": round(60 / 66, 2),
        "budget_seconds_to_find": 62.0,
        "budget_seconds_to_report": 66.0,
    }
    assert ttr.rates([], budget=60.0)["found_per_minute"] is None


def test_the_readme_quotes_the_committed_rates():
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    one, two = (
        json.loads((REPO_ROOT / "docs" / "time-to-report" / f"workers-{n}.json").read_text())
        for n in (1, 2)
    )
    assert one["workers"] == 1 and two["workers"] == 2
    assert one["killed"] == two["killed"] == one["bugs"] == two["bugs"] == len(ttr.BUGS)
    a, b = one["rates"], two["rates"]
    assert (
        f"one worker found them at {a['found_per_minute']} and reported them at "
        f"{a['reported_per_minute']} a minute" in readme
    )
    assert f"two workers at {b['found_per_minute']} and {b['reported_per_minute']}" in readme
    found = b["found_per_minute"] / a["found_per_minute"]
    reported = b["reported_per_minute"] / a["reported_per_minute"]
    assert f"{found:.2f}x and {reported:.2f}x" in readme


def test_the_readme_quotes_the_rare_bug_over_seeds():
    saved = json.loads((REPO_ROOT / "docs" / "time-to-report" / "queue-seeds.json").read_text())
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    found = []
    for workers in (1, 2):
        runs = [r for r in saved["runs"] if r["workers"] == workers]
        results = [
            ttr.Result(
                saved["bug"], "", "hand", r["status"], r["first_failure_seconds"], r["seconds"]
            )
            for r in runs
        ]
        found.append(ttr.rates(results, saved["seconds_per_run"])["found_per_minute"])
        killed = sum(r["status"] == "killed" for r in runs)
        assert f"{killed} of {len(runs)}" in readme
    assert f"{found[0]} and {found[1]} found a minute of budget" in readme
    assert f"{found[1] / found[0]:.2f}x." in readme


@pytest.mark.parametrize(
    ("name", "explorer"), [("default-explorer", "hypothesis"), ("random-explorer", "random")]
)
def test_the_readme_quotes_the_explorers_rates(name, explorer):
    """Hypothesis's draws (the default explorer until it became ``random``) and the seeded
    random explorer, each on one and two workers."""
    folder = REPO_ROOT / "docs" / "time-to-report"
    one, two = (json.loads((folder / f).read_text()) for f in (f"{name}.json", f"{name}-2.json"))
    assert one["explorer"] == two["explorer"] == explorer
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    assert one["workers"] == 1 and two["workers"] == 2
    assert one["killed"] == two["killed"] == one["bugs"] == two["bugs"] == len(ttr.BUGS)
    a, b = one["rates"], two["rates"]
    at, bt = one["time_to_report"], two["time_to_report"]
    assert (
        f"found the {one['bugs']} at {a['found_per_minute']} and reported them at "
        f"{a['reported_per_minute']} a minute (time to report median {at['median']} s, "
        f"p90 {at['p90']} s" in readme
    )
    assert (
        f"two workers at {b['found_per_minute']} and {b['reported_per_minute']} "
        f"(median {bt['median']} s, p90 {bt['p90']} s" in readme
    )
    found = b["found_per_minute"] / a["found_per_minute"]
    reported = b["reported_per_minute"] / a["reported_per_minute"]
    assert f"{found:.2f}x and {reported:.2f}x." in readme


@pytest.mark.parametrize("name", ["prefix-replay", "storage-reads", "getters-on-change"])
def test_the_readme_quotes_the_run(name):
    """The runs after the minimizer's prefix replay, after the partial comparisons read
    storage and after the hand-written getters were asked only where a call may change
    them, as the README quotes them."""
    run = json.loads((REPO_ROOT / "docs" / "time-to-report" / f"{name}.json").read_text())
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    rates, times = run["rates"], run["time_to_report"]
    assert run["explorer"] == "random" and run["workers"] == 1
    assert run["killed"] == run["bugs"] == len(ttr.BUGS)
    minimized = sum(r["minimized"] is True for r in run["results"])
    assert (
        f"reports the {run['bugs']} at {rates['reported_per_minute']} a minute (time to report "
        f"median {times['median']} s, p90 {times['p90']} s; found at "
        f"{rates['found_per_minute']}), {minimized} fully minimized" in readme
    )
