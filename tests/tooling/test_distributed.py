"""A campaign on a local Dask cluster with a Redis failure database: a real
``redis-server`` started and stopped here, two workers as Dask tasks, one report; and a
failure one Dask worker finds stopping the other, reported once."""

import json
import shutil
import socket
import subprocess
import time

import pytest
from hypothesis.database import DirectoryBasedExampleDatabase

from deployment.anvil_process import free_port
from harness.campaign import fuzz, saved_failures
from harness.campaign.distributed import example_database

REDIS = shutil.which("redis-server")


@pytest.fixture
def redis_url(tmp_path):
    if REDIS is None:
        pytest.skip("redis-server is not installed (make setup installs it: README)")
    port = free_port()
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def scheduler():
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_redis_database_round_trip(redis_url):
    db = example_database(redis_url)
    db.save(b"key", b"value")
    assert list(example_database(redis_url).fetch(b"key")) == [b"value"]


def test_only_failures_are_kept(tmp_path):
    """The folder (or Redis) holds hypothesis's failures, its primary and secondary keys,
    and nothing of its Pareto front (``.pareto``): entries a folder grown before already
    holds are never read, and none are written."""
    folder = DirectoryBasedExampleDatabase(str(tmp_path / "db"))
    folder.save(b"k.pareto", b"saved by an older campaign")
    db = example_database(str(tmp_path / "db"))
    assert list(db.fetch(b"k.pareto")) == []
    db.save(b"k", b"failure")
    db.save(b"k.secondary", b"not yet minimal")
    db.save(b"k.pareto", b"passed")
    db.move(b"k.secondary", b"k", b"not yet minimal")
    assert sorted(folder.fetch(b"k")) == [b"failure", b"not yet minimal"]
    assert list(folder.fetch(b"k.secondary")) == []
    assert list(folder.fetch(b"k.pareto")) == [b"saved by an older campaign"]


@pytest.mark.parametrize("explorer", ["random", "hypothesis"])
def test_an_agreed_campaign_leaves_its_folder_database_empty(tmp_path, explorer):
    """Nothing failed, so nothing is saved: the front of the attacker-gain search used to
    go to the folder at every batch (78,827 files, 311 MB in a checkout used for a few
    days; reading them took about 30% of a campaign, and each batch replayed two of
    them, other runs' sequences)."""
    folder = tmp_path / "db"
    argv = ["--database", str(folder), "--max-steps", "400", "--seed", "8"]
    argv += ["--explorer", explorer]
    assert fuzz.main([*argv, "--out", str(tmp_path / "report")]) == fuzz.AGREED
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


@pytest.mark.parametrize("explorer", ["random", "hypothesis"])
def test_a_rerun_of_a_seed_with_the_same_folder_is_the_same_run(tmp_path, explorer):
    """A seed's sequences do not depend on what earlier runs saved: before, each batch
    replayed two entries of the front the first run had left in the folder, so the rerun
    ran other sequences (measured: seed 5, 3,000 steps, the first three of 16 differed)."""

    def sequences(name: str) -> str:
        argv = ["--database", str(tmp_path / "db"), "--max-steps", "600", "--seed", "5"]
        argv += ["--explorer", explorer]
        assert fuzz.main([*argv, "--out", str(tmp_path / name)]) == fuzz.AGREED
        return (tmp_path / name / "sequences.txt").read_text()

    first = sequences("first")
    assert first and sequences("again") == first


def test_campaign_on_dask_with_redis(tmp_path, redis_url, scheduler):
    out = tmp_path / "report"
    argv = ["--scheduler", scheduler, "--workers", "2", "--database", redis_url]
    argv += ["--max-steps", "120", "--seconds", "120", "--seed", "5", "--out", str(out)]
    assert fuzz.main(argv) == fuzz.AGREED
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workers"] == 2
    assert summary["steps"] >= 120  # the two workers' statistics in one report
    assert summary["stopped_by"] == ["step budget"]
    assert "--scheduler" in summary["reproduce"] and redis_url in summary["reproduce"]


@pytest.fixture
def fee_off_by_one(monkeypatch):
    from pyspec import fees

    real = fees.compute_trading_fee
    monkeypatch.setattr(fees, "compute_trading_fee", lambda n, r: real(n, r) + 1)


def test_a_failure_saved_in_redis_is_replayed_first_until_it_passes(
    tmp_path, redis_url, monkeypatch
):
    """The random explorer: one run finds the planted bug and saves its minimized calls
    to Redis; the next run, from another seed (another machine in practice), replays
    them before drawing anything and reports that very failure; once the bug is fixed, a
    run replays them, they pass, and they are deleted."""
    from pyspec import fees

    real = fees.compute_trading_fee
    monkeypatch.setattr(fees, "compute_trading_fee", lambda n, r: real(n, r) + 1)
    database = example_database(redis_url)

    def run(name: str, seed: int, expected: int) -> tuple[dict, dict | None]:
        out = tmp_path / name
        argv = ["--database", redis_url, "--seed", str(seed), "--out", str(out)]
        assert fuzz.main([*argv, "--max-steps", "3000", "--seconds", "120"]) == expected
        found = out / "counterexample.json"
        summary = json.loads((out / "summary.json").read_text())
        return summary, json.loads(found.read_text()) if found.exists() else None

    summary, first = run("first", 11, fuzz.FAILED)
    assert not summary["saved_failures"]["reproduced"]
    (saved,) = database.fetch(saved_failures.key("differential", "embedded"))
    assert json.loads(saved)["calls"] == first["calls"]
    summary, again = run("again", 12, fuzz.FAILED)
    assert summary["saved_failures"]["reproduced"] and summary["sequences"] == 1
    assert again["calls"] == first["calls"]
    monkeypatch.setattr(fees, "compute_trading_fee", real)
    summary, _ = run("fixed", 12, fuzz.AGREED)
    assert summary["saved_failures"] == {"passed_and_deleted": 1, "reproduced": False}
    assert list(database.fetch(saved_failures.key("differential", "embedded"))) == []


def test_a_failure_saved_by_another_chain_or_an_erring_replay_is_kept(tmp_path, monkeypatch):
    """A failure saved under anvil's key is not replayed, so not deleted, by an embedded
    run (a divergence a fork shows may pass here); one whose replay errs (a node dropping
    the connection) stops the run with the error and stays saved."""
    from harness.core import machine

    folder = str(tmp_path / "db")
    calls = [{"target": "engine", "fn": "deposit", "sender": "trader1", "args": ["1000000"]}]
    saved = json.dumps({"calls": calls}).encode()
    for chain in ("anvil", "embedded"):
        example_database(folder).save(saved_failures.key("differential", chain), saved)

    def erring(machine_class, calls):
        raise ConnectionError("the node dropped the connection")

    monkeypatch.setattr(fuzz, "replay_calls", erring)
    argv = ["--database", folder, "--max-steps", "200", "--seed", "4"]
    assert fuzz.main([*argv, "--out", str(tmp_path / "report")]) == fuzz.ERROR
    for chain in ("anvil", "embedded"):
        key = saved_failures.key("differential", chain)
        assert list(example_database(folder).fetch(key)) == [saved], chain
    monkeypatch.setattr(fuzz, "replay_calls", machine.replay_calls)
    assert fuzz.main([*argv, "--out", str(tmp_path / "again")]) == fuzz.AGREED
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert summary["saved_failures"] == {"passed_and_deleted": 1, "reproduced": False}
    assert list(example_database(folder).fetch(saved_failures.key("differential", "anvil"))) == [
        saved
    ]


def test_a_saved_trace_this_code_cannot_run_is_deleted(tmp_path):
    """A trace saved by other code (a call this code does not have) is not a failure of
    this code: deleted, and the run goes on."""
    folder = str(tmp_path / "db")
    stale = {"calls": [{"target": "engine", "fn": "no_such_call", "sender": "alice", "args": []}]}
    example_database(folder).save(
        saved_failures.key("differential", "embedded"), json.dumps(stale).encode()
    )
    argv = ["--database", folder, "--max-steps", "200", "--seed", "4"]
    assert fuzz.main([*argv, "--out", str(tmp_path / "report")]) == fuzz.AGREED
    assert (
        list(example_database(folder).fetch(saved_failures.key("differential", "embedded"))) == []
    )


def test_a_hypothesis_failure_saved_in_redis_is_replayed_first_by_the_next_run(
    tmp_path, redis_url, fee_off_by_one
):
    """``--explorer hypothesis``: one run finds the planted bug and hypothesis saves it
    to Redis; the next run, from another seed (another machine in practice), replays it
    before drawing anything new, so it fails sooner than the same seed does without the
    shared database."""

    def run(name: str, seed: int, database: str) -> dict:
        out = tmp_path / name
        argv = ["--database", database, "--seed", str(seed), "--out", str(out)]
        argv += ["--explorer", "hypothesis", "--max-steps", "3000", "--seconds", "120"]
        assert fuzz.main(argv) == fuzz.FAILED
        return json.loads((out / "summary.json").read_text())

    run("first", 11, redis_url)
    shared = run("second", 12, redis_url)
    alone = run("alone", 12, str(tmp_path / "empty-db"))
    # measured: 2 sequences and 16 steps with the shared database, 3 and 24 without
    assert shared["steps"] < alone["steps"] and shared["sequences"] < alone["sequences"]


def test_a_failure_one_dask_worker_finds_stops_the_other_and_is_reported_once(
    tmp_path, scheduler, capsys
):
    """A planted fee bug on one of the two Dask workers (the other runs the real spec):
    the faulty worker fails, the campaign sets the stop flag, the healthy worker stops at
    its next poll instead of running out its budget, and the failure is reported once."""
    from distributed import Client

    def plant_fee_off_by_one():  # runs in one worker process, pickled by value
        from pyspec import fees

        real = fees.compute_trading_fee
        fees.compute_trading_fee = lambda notional, ratio: real(notional, ratio) + 1

    with Client(scheduler) as client:
        faulty = sorted(client.scheduler_info()["workers"])[0]
        client.run(plant_fee_off_by_one, workers=[faulty])
    out = tmp_path / "report"
    argv = ["--scheduler", scheduler, "--workers", "2", "--database", ""]
    argv += ["--seconds", "300", "--seed", "5", "--out", str(out)]
    assert fuzz.main(argv) == fuzz.FAILED
    summary = json.loads((out / "summary.json").read_text())
    # the healthy worker stopped on the flag, long before its 300 s budget
    assert "stopped" in summary["stopped_by"], summary["stopped_by"]
    assert "time budget" not in summary["stopped_by"]
    assert summary["elapsed_seconds"] < 200
    assert summary["steps"] > 0 and summary["workers"] == 2
    # reported once: one counterexample, one failure text on stderr
    assert (out / "counterexample.json").exists()
    assert summary["result"].startswith("divergence")
    err = capsys.readouterr().err
    assert err.count("counterexample saved:") == 1, err
