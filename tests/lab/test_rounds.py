"""The ADL round metrics on small hand-computed instances, the CLI's table and JSON, and the
errors a rounds file can raise."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest

from harness.lab.rounds import RoundsError, envelope, main, read_rounds, score

# theta = 50/100, 100/200, min(1, 80/50) = 0.5, 0.5, 1: P = 0.5, so 1 + 2P = 2, and
# sum D^2 = 100^2 + 200^2 + 50^2 = 52500: the envelope is sqrt(105000) = 324.0370349...
THREE_ROUNDS = """round,D,B_needed,H_pro,m_pro,H_greedy,m_greedy
1,100,50,50,0.25,60,0.5
2,200,100,90,0.25,100,1
3,50,80,80,0.5,70,0.75
"""
SQRT_105000 = "324.037034920393011548298371804399832885260215352917327485568"


def write(tmp_path, text, name="rounds.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def three(tmp_path):
    return read_rounds(write(tmp_path, THREE_ROUNDS))


def test_read_rounds(three):
    assert [r.round for r in three] == [1, 2, 3]
    assert three[2].deficit == 50 and three[2].needed == 80
    assert three[0].taken == {"pro": 50, "greedy": 60}
    assert three[1].concentration == {"pro": Fraction(1, 4), "greedy": 1}


def test_tracking_overshoot_undershoot(three):
    scores = score(three, "pro")
    # pro: |50-50| + |90-100| + |80-80|; greedy: |60-50| + |100-100| + |70-80|
    assert scores["pro"]["tracking"] == 10
    assert scores["pro"]["overshoot"] == 0 and scores["pro"]["undershoot"] == 10
    assert scores["greedy"]["tracking"] == 20
    assert scores["greedy"]["overshoot"] == 10 and scores["greedy"]["undershoot"] == 10


def test_fairness_against_the_reference(three):
    scores = score(three, "pro")
    assert scores["pro"]["fairness"] == 0
    # 50 * |0.5 - 0.25| + 100 * |1 - 0.25| + 80 * |0.75 - 0.5| = 12.5 + 75 + 20
    assert scores["greedy"]["fairness"] == Decimal("107.5")
    assert score(three, "greedy")["pro"]["fairness"] == Decimal("107.5")
    assert score(three, "greedy")["greedy"]["fairness"] == 0


def test_total_and_lambda(three):
    assert score(three, "pro")["greedy"]["total"] == Decimal("127.5")
    assert score(three, "pro", lam=2)["greedy"]["total"] == 235
    assert score(three, "pro", lam=Decimal("0.5"))["greedy"]["total"] == Decimal("73.75")
    assert score(three, "pro", lam=0)["greedy"]["total"] == 20


def near(value, expected: str) -> bool:
    """Equal to every digit given in ``expected`` (the last one may be rounded)."""
    return abs(value - Decimal(expected)) <= Decimal(1).scaleb(Decimal(expected).as_tuple()[2])


def test_envelope_and_percent(three):
    bound = envelope(three)
    assert near(bound, SQRT_105000)
    scores = score(three, "pro")
    assert scores["pro"]["envelope"] == scores["greedy"]["envelope"] == bound
    # 100 * 10 / sqrt(105000) and 100 * 127.5 / sqrt(105000)
    assert near(scores["pro"]["percent"], "3.086066999241838205221889255")
    assert near(scores["greedy"]["percent"], "39.34735424033343711657908800")


def test_envelope_path_term(tmp_path):
    # theta = 1, 0 (no deficit), 1: P = 2, 1 + 2P = 5, sum D^2 = 9 + 0 + 16: sqrt(125)
    moving = "round,D,B_needed,H_a,m_a\n1,3,3,3,0\n2,0,5,5,0\n3,4,4,4,0\n"
    assert near(envelope(read_rounds(write(tmp_path, moving))), "11.18033988749894848204586834366")
    # theta = 0.5 twice: P = 0 and the envelope is sqrt(3^2 + 4^2) exactly
    still = read_rounds(write(tmp_path, "round,D,B_needed,H_a,m_a\n1,3,1.5,0,0\n2,4,2,0,0\n"))
    assert envelope(still) == 5


def test_zero_envelope_has_no_percent(tmp_path, capsys):
    path = write(tmp_path, "round,D,B_needed,H_a,m_a\n1,0,0,0,0\n")
    assert score(read_rounds(path), "a")["a"]["percent"] is None
    assert main(["--rounds", str(path), "--reference", "a"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "n/a"


def test_reference_copy_that_meets_every_budget_scores_zero(tmp_path):
    path = write(
        tmp_path,
        "round,D,B_needed,H_ref,m_ref,H_copy,m_copy\n"
        "1,100,40,40,0.3,40,0.3\n2,70,90,90,1,90,1\n5,10,0.01,0.01,0,0.01,0\n",
    )
    scores = score(read_rounds(path), "ref")
    assert scores["copy"]["total"] == 0 and scores["copy"]["percent"] == 0


def test_cents_round_half_to_even(tmp_path, capsys):
    # tracking 0.125 -> 0.12 and 0.375 -> 0.38; the envelope sqrt(2) -> 1.41
    path = write(
        tmp_path, "round,D,B_needed,H_a,m_a,H_b,m_b\n1,1,0,0.125,0,0.375,0\n2,1,0,0,0,0,0\n"
    )
    assert main(["--rounds", str(path), "--reference", "a", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["policies"]["a"]["tracking"] == "0.12"
    assert report["policies"]["b"]["tracking"] == "0.38"
    assert report["envelope"] == "1.41"


def test_table(tmp_path, capsys):
    path = write(tmp_path, THREE_ROUNDS)
    assert main(["--rounds", str(path), "--reference", "pro"]) == 0
    head, pro, greedy = capsys.readouterr().out.splitlines()
    columns = "policy tracking overshoot undershoot fairness total envelope % of envelope"
    assert head.split() == columns.split()
    assert pro.split() == "pro 10.00 0.00 10.00 0.00 10.00 324.04 3.09".split()
    assert greedy.split() == "greedy 20.00 10.00 10.00 107.50 127.50 324.04 39.35".split()


def test_json(tmp_path, capsys):
    path = write(tmp_path, THREE_ROUNDS)
    assert main(["--rounds", str(path), "--reference", "pro", "--lambda", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "reference": "pro",
        "lambda": "2",
        "rounds": 3,
        "envelope": "324.04",
        "policies": {
            "pro": {
                "tracking": "10.00",
                "overshoot": "0.00",
                "undershoot": "10.00",
                "fairness": "0.00",
                "total": "10.00",
                "envelope": "324.04",
                "percent": "3.09",
            },
            "greedy": {
                "tracking": "20.00",
                "overshoot": "10.00",
                "undershoot": "10.00",
                "fairness": "107.50",
                "total": "235.00",
                "envelope": "324.04",
                "percent": "72.52",
            },
        },
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("", ":1: empty file"),
        ("round,D,B_needed,H_a,m_a\n", ":2: no rounds"),
        ("round,B_needed,H_a,m_a\n1,1,1,0\n", ":1: column 'D' is missing"),
        ("round,D,B_needed,H_a,m_a,H_b\n1,1,1,1,0,1\n", ":1: column 'm_b' is missing"),
        ("round,D,B_needed,H_a,m_a,m_b\n1,1,1,1,0,0\n", ":1: column 'H_b' is missing"),
        ("round,D,B_needed\n1,1,1\n", ":1: no policy columns"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1,0\n2,1,abc,1,0\n", ":3: column 'B_needed': 'abc'"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1e,0\n", ":2: column 'H_a': '1e' is not a"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1_000,0\n", ":2: column 'H_a': '1_000' is not a"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,0x10,0\n", ":2: column 'H_a': '0x10' is not a"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,.,0\n", ":2: column 'H_a': '.' is not a"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,-1,0\n", ":2: column 'H_a': '-1' is negative"),
        (
            "round,D,B_needed,H_a,m_a\n1,1,-4.7e-05,1,0\n",
            ":2: column 'B_needed': '-4.7e-05' is neg",
        ),
        ("round,D,B_needed,H_a,m_a\n1,NaN,1,1,0\n", ":2: column 'D': 'NaN' is not a finite"),
        ("round,D,B_needed,H_a,m_a\n1,1,nan,1,0\n", ":2: column 'B_needed': 'nan' is not a finite"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,inf,0\n", ":2: column 'H_a': 'inf' is not a finite"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,-Infinity,0\n", ":2: column 'H_a': '-Infinity' is not"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1e999,0\n", ":2: column 'H_a': '1e999' is out of range"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1,\n", ":2: column 'm_a': the cell is empty"),
        ("round,D,B_needed,H_a,m_a\n1,1, ,1,0\n", ":2: column 'B_needed': the cell is empty"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1\n", ":2: column 'm_a' is missing (4 values"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1,0,9\n", ":2: 6 values for 5 columns"),
        (
            "round,D,B_needed,H_a,m_a\n1,1,1,1,1e0\n1,1,1,1,2E-0\n",
            ":3: column 'm_a': '2E-0' is above",
        ),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1,1.5\n", ":2: column 'm_a': '1.5' is above 1"),
        ("round,D,B_needed,H_a,m_a\n1.5,1,1,1,0\n", ":2: column 'round': '1.5' is not an integer"),
        ("round,D,B_needed,H_a,m_a\n2,1,1,1,0\n1,1,1,1,0\n", ":3: column 'round': 1 does not"),
        ("round,D,B_needed,H_a,m_a\n1,1,1,1,0\n1,1,1,1,0\n", ":3: column 'round': 1 does not"),
    ],
)
def test_errors(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(RoundsError) as error:
        read_rounds(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_unknown_reference(three, tmp_path, capsys):
    with pytest.raises(RoundsError, match="reference 'nobody' is not a policy"):
        score(three, "nobody")
    path = write(tmp_path, THREE_ROUNDS)
    assert main(["--rounds", str(path), "--reference", "nobody"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "reference 'nobody' is not a policy" in captured.err


def test_cli_errors(tmp_path, capsys):
    path = write(tmp_path, "round,D,B_needed,H_a,m_a\n1,1,1,x,0\n")
    assert main(["--rounds", str(path), "--reference", "a"]) == 2
    assert f"{path}:2: column 'H_a'" in capsys.readouterr().err
    assert main(["--rounds", str(tmp_path / "missing.csv"), "--reference", "a"]) == 2
    assert "missing.csv" in capsys.readouterr().err
    good = write(tmp_path, THREE_ROUNDS, "good.csv")
    assert main(["--rounds", str(good), "--reference", "pro", "--lambda", "nan"]) == 2
    assert "--lambda" in capsys.readouterr().err
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"round,D,B_needed,H_a,m_a\n1,1,1,\xff,0\n")
    assert main(["--rounds", str(bad), "--reference", "a"]) == 2
    assert f"{bad}: not UTF-8 text" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("4.7086750033364114e-05", Fraction(47086750033364114, 10**21)),  # repr of a float
        ("4.7e-05", Fraction(47, 10**6)),
        ("1E+3", Fraction(1000)),
        ("1e3", Fraction(1000)),
        ("+3", Fraction(3)),
        ("+2.5E-1", Fraction(1, 4)),
        (".25", Fraction(1, 4)),
        ("5.", Fraction(5)),
        ("0.1", Fraction(1, 10)),  # exactly a tenth, not the float nearest to it
        ("-0", Fraction(0)),  # a negative zero is zero, not negative
        (" 12 ", Fraction(12)),
    ],
)
def test_every_decimal_notation_is_read_exactly(tmp_path, text, exact):
    path = write(tmp_path, f"round,D,B_needed,H_a,m_a\n1,{text},1,1,0\n")
    assert read_rounds(path)[0].deficit == exact


def test_published_notation_scores_as_plain_decimals(tmp_path, capsys):
    # the same figures in scientific and in plain notation give the same table
    scientific = "round,D,B_needed,H_a,m_a,H_b,m_b\n1,1.5e+03,4.7e-05,4.7E-05,1e-1,+0.5e1,1\n"
    plain = "round,D,B_needed,H_a,m_a,H_b,m_b\n1,1500,0.000047,0.000047,0.1,5,1\n"
    tables = []
    for name, text in (("sci.csv", scientific), ("plain.csv", plain)):
        assert main(["--rounds", str(write(tmp_path, text, name)), "--reference", "a"]) == 0
        tables.append(capsys.readouterr().out)
    assert tables[0] == tables[1] and "1500.00" in tables[0]
