"""``make smoke`` under ``make test``: every command the README shows has a smoke entry,
the entries run and pass, and a broken command fails the smoke run by name."""

import re
import subprocess
import sys

from harness import REPO_ROOT, smoke

README = " ".join((REPO_ROOT / "README.md").read_text().split())  # one line
# run by hand, not by the smoke run: the suite itself and the smoke run
NOT_SMOKED = {"make test", "make smoke", "make setup", "make venv"}


def readme_commands() -> set[str]:
    """Each ``make <target>`` and ``ape run <script>`` the README shows."""
    return set(re.findall(r"\b(make [a-z][a-z-]*|ape run [a-z]+)\b", README)) - NOT_SMOKED


def test_every_readme_command_has_a_smoke_entry():
    covered = {
        re.match(r"(?:\.venv/bin/)?(make [a-z-]+|ape run [a-z]+|python -m [a-z._]+)", e.readme)[1]
        for e in smoke.ENTRIES
    }
    assert readme_commands() - covered == set()
    # and every entry stands for a command the README really shows, word for word
    assert [e.readme for e in smoke.ENTRIES if e.readme not in README] == []


SCHEDULER_RUN = (
    "python -m harness.campaign --scheduler tcp://127.0.0.1:8799 --workers 2 --seconds 60 \\"
)
# commands the README shows in code blocks that the smoke run does not run, and why
NOT_SMOKED_FORMS = {
    "make test": "the suite itself",
    "make smoke": "the smoke run itself",
    ".venv/bin/ape test tests -n 2": "the suite again, under ape's plugin (the CI workflow)",
    SCHEDULER_RUN: "a scheduler on two machines: tests/tooling/test_distributed.py starts one",
    "python -m harness.deployed.rehearsal --round-trip": "tests/deployment/test_rehearsal.py",
}


def test_every_command_form_in_the_readme_is_smoked():
    """Each command line of the README's code blocks, word for word, is an entry's."""
    text = (REPO_ROOT / "README.md").read_text()
    forms = {
        line.split("  #")[0].strip()
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
        for line in block.splitlines()
        if re.match(r"(make [a-z]|ape run |python -m |\.venv/bin/)", line.strip())
    }
    assert forms - {e.readme for e in smoke.ENTRIES} - set(NOT_SMOKED_FORMS) == set()


def test_a_broken_command_fails_the_smoke_run_by_name(monkeypatch, capsys):
    broken = smoke.Entry("make fuzz ARGS='--machine spec'", (*smoke.MAKE, "no-such-target"))
    shows = smoke.Entry("make help", (*smoke.MAKE, "help"), ("a line make help never prints",))
    monkeypatch.setattr(smoke, "ENTRIES", (broken, shows, smoke.ENTRIES[0]))
    assert smoke.main([]) == 1
    out, err = capsys.readouterr()
    assert "FAILED" in out and "no-such-target" in out and "exit status 2" in out
    assert "its output lacks ['a line make help never prints']" in out
    assert "make fuzz ARGS='--machine spec'" in err and "make help" in err
    assert "ok " in out  # the genuine make help passed


def test_the_smoke_run_passes():
    """Every README command, in tiny form (under a minute on two cores)."""
    done = subprocess.run(
        [sys.executable, "-m", "harness.smoke"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
