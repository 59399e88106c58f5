"""The scorer on the published per-wave data of the 2025-10-10 Hyperliquid episode
reproduces the figures of Chitra, Thogiti, Trujillo Ramirez and Xu, "Autodeleveraging as
Online Learning", arXiv:2602.15182v1 (February 2026): Table 2 (appendix A.3, the objective
over 16 rounds, fairness against the min-max ILP), the envelope of section 5.3 and Table 1
(appendix A.2, headline values). The data: data/hyperliquid-2025-10-10/ (its README gives
the provenance); the ``--layout oss-adl`` reader: harness/lab/rounds.py."""

import hashlib
import json
from decimal import Decimal
from fractions import Fraction

import pytest

from harness import REPO_ROOT
from harness.lab.rounds import RoundsError, main, read_rounds, score

WAVES = REPO_ROOT / "data" / "hyperliquid-2025-10-10" / "policy_per_wave_metrics.csv"
# out/policy_per_wave_metrics.csv at pluriholonomic/autodeleveraging-analysis@aae0be86
PUBLISHED_BLOB = "51e2c365de2a1c949c8a3a7547a5b2a6baa8868b"
# Table 2, as printed: tracking, fairness and total objective ($), lambda = 1
TABLE_2 = {
    "prod": ("53782490.53", "11077031.68", "64859522.21"),  # production queue
    "contract_pr": ("3020120.65", "384064.35", "3404185.00"),  # integer pro-rata
    "vector": ("1793022.03", "2620345.57", "4413367.61"),  # vector mirror descent
    "fixed_point_ilp_integer": ("106205.81", "0.00", "106205.81"),  # min-max ILP
    "pr": ("0.00", "2732437.29", "2732437.29"),  # continuous pro-rata (tracking "≈0")
}


def scored(capsys) -> dict:
    argv = ["--rounds", str(WAVES), "--layout", "oss-adl", "--json"]
    assert main([*argv, "--reference", "fixed_point_ilp_integer"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_copy_is_the_published_file():
    data = WAVES.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git hash-object
    assert blob == PUBLISHED_BLOB


def test_table_2_to_the_cent(capsys):
    policies = scored(capsys)["policies"]
    for policy, (tracking, fairness, total) in TABLE_2.items():
        got = policies[policy]
        assert (got["tracking"], got["fairness"], got["total"]) == (tracking, fairness, total)


def test_the_envelope_of_section_5_3(capsys):
    """P = 7.06 for T = 16, the envelope about $129.7M; production about 50.0% of it, the
    best start-of-round baseline (integer pro-rata) about 2.6%, vector mirror descent 3.4%."""
    rounds = read_rounds(WAVES, "oss-adl")
    theta = [min(Fraction(1), r.needed / r.deficit) for r in rounds]
    path = sum(abs(b - a) for a, b in zip(theta, theta[1:], strict=False))
    assert len(rounds) == 16 and round(path, 2) == Fraction("7.06")
    report = scored(capsys)
    assert report["envelope"] == "129699802.43"
    percent = {p: v["percent"] for p, v in report["policies"].items()}
    assert (percent["prod"], percent["contract_pr"], percent["vector"]) == (
        "50.01",
        "2.62",
        "3.40",
    )


def test_table_1_headline_values():
    """16 rounds; sum D about $100.1M, sum B_needed about $15.1M, sum H_prod about $60.1M;
    production overshoot against needed O(0) = sum (H - B) = $45,028,665.72."""
    rounds = read_rounds(WAVES, "oss-adl")
    millions = [
        round(sum(r.deficit for r in rounds) / 10**6, 1),
        round(sum(r.needed for r in rounds) / 10**6, 1),
        round(sum(r.taken["prod"] for r in rounds) / 10**6, 1),
    ]
    assert millions == [Fraction("100.1"), Fraction("15.1"), Fraction("60.1")]
    prod = score(rounds, "fixed_point_ilp_integer")["prod"]
    net = prod["overshoot"] - prod["undershoot"]
    assert net.quantize(Decimal("0.01")) == Decimal("45028665.72")


def test_the_default_layout_points_to_oss_adl(capsys):
    assert main(["--rounds", str(WAVES), "--reference", "prod"]) == 2
    assert "column 'round' is missing (the OSS reproduction's table? --layout oss-adl)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("deficit_usd,budget_needed\n", ":1: column 'wave' is missing (--layout oss-adl)"),
        (
            "wave,deficit_usd,budget_needed,max_pct_a\n1,1,1,0\n",
            ":1: column 'budget_a' is missing (for 'max_pct_a')",
        ),
        ("wave,deficit_usd,budget_needed,budget_target\n1,1,1,1\n", ":1: no policy columns"),
        (
            "wave,deficit_usd,budget_needed,x,x,budget_a,max_pct_a\n1,1,1,,,1,0\n",
            ":1: column 'x' appears more than once",
        ),
        # the errors name the file's columns, not the scorer's
        (
            "wave,deficit_usd,budget_needed,budget_a,max_pct_a\n1,1,1,abc,0\n",
            ":2: column 'budget_a': 'abc' is not a",
        ),
        (
            "wave,deficit_usd,budget_needed,budget_a,max_pct_a\n1,1,1,1,1.5\n",
            ":2: column 'max_pct_a': '1.5' is above 1",
        ),
        (
            "wave,deficit_usd,budget_needed,budget_a,max_pct_a\n2,1,1,1,0\n1,1,1,1,0\n",
            ":3: column 'wave': 1 does not follow 2",
        ),
        ("wave,deficit_usd,budget_needed,budget_a,max_pct_a\n1,1,1\n", ":2: column 'budget_a'"),
    ],
)
def test_oss_adl_errors(tmp_path, text, message):
    path = tmp_path / "waves.csv"
    path.write_text(text)
    with pytest.raises(RoundsError) as error:
        read_rounds(path, "oss-adl")
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_oss_adl_ignores_its_other_columns(tmp_path):
    # empty and non-numeric cells outside the columns read, as in the published file
    path = tmp_path / "waves.csv"
    path.write_text(
        "wave,t_start,deficit_usd,budget_needed,budget_target,budget_a,max_pct_a,ptsr_a\n"
        "3,2025-10-10 21:16:04,10,4,4,5,0.5,\n"
    )
    (only,) = read_rounds(path, "oss-adl")
    assert (only.round, only.deficit, only.needed) == (3, 10, 4)
    assert only.taken == {"a": 5} and only.concentration == {"a": Fraction(1, 2)}
