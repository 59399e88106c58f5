"""Every command refuses a count or a budget that would make it run nothing, or forever:
exit 2 naming the option and the value, before any work (issue 20)."""

import pytest

from harness.campaign import mutate
from harness.lab import __main__ as lab
from harness.measure import bench


@pytest.mark.parametrize(
    ("main", "options", "message"),
    [
        (lab.main, ["--cascades", "0"], "--cascades: '0': must be a positive integer"),
        (lab.main, ["--rounds", "-2"], "--rounds: '-2': must be a positive integer"),
        (lab.main, ["--seed", "-1"], "--seed: '-1': must be an integer >= 0"),
        (lab.main, ["--traders", "x"], "--traders: 'x' is not a positive integer"),
        (bench.main, ["--sequences", "-1"], "--sequences: '-1': must be a positive integer"),
        (bench.main, ["--steps", "0"], "--steps: '0': must be a positive integer"),
        (mutate.main, ["--seconds", "-1"], "--seconds: '-1': must be a positive number"),
        (mutate.main, ["--seconds", "inf"], "--seconds: 'inf': must be a positive number"),
        (mutate.main, ["--jobs", "0"], "--jobs: '0': must be a positive integer"),
        (mutate.main, ["--max-steps", "0"], "--max-steps: '0': must be a positive integer"),
    ],
)
def test_a_bad_count_or_budget_exits_2_with_a_message(capsys, main, options, message):
    with pytest.raises(SystemExit) as exit_:
        main(options)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
