"""The example CI workflow runs commands this project accepts, and the README shows the
workflow's own commands."""

import importlib.util
import re
import shlex

import yaml

from harness import REPO_ROOT
from harness.campaign.options import parse_args

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def run_lines() -> list[str]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["test"]["steps"]
    return [step["run"] for step in steps if "run" in step]


def test_every_step_runs_a_command_this_project_accepts():
    targets = set(re.findall(r"^([a-z-]+):", (REPO_ROOT / "Makefile").read_text(), re.M))
    runs = run_lines()
    assert runs, "the workflow runs nothing"
    for line in runs:
        words = shlex.split(line)
        if words[0] == "make":
            assert words[1] in targets, line
        elif words[:3] == [".venv/bin/python", "-m", "harness.campaign"]:
            parse_args(words[3:])  # exit 2 on an option the campaign refuses
        elif words[:2] == [".venv/bin/ape", "test"]:
            # -n needs pytest-xdist, installed by the project's setup
            assert "-n" not in words or importlib.util.find_spec("xdist"), line
        else:
            raise AssertionError(f"a step this test does not know: {line}")


def test_the_readme_shows_the_workflows_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    for line in run_lines():
        assert line in readme, line
