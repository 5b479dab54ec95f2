"""``satchel db copy`` and ``satchel db upgrade`` on real stores: a SQLite store into a fresh
PostgreSQL database, copied twice (nothing duplicated), interrupted by SIGKILL and resumed
(identical ``runs list -o json`` on both sides), artifacts moved under the new root."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from conftest import run_cli
from satchel.tracking.entities import Metric, Param, RunStatus, RunTag
from satchel.tracking.store.postgres import PostgresStore
from satchel.tracking.store.postgres_migrations import MIGRATIONS
from satchel.tracking.store.sqlite import SqliteStore

TABLES = ("experiments", "runs", "params", "tags", "metrics", "latest_metrics", "run_inputs")


def _counts(uri: str) -> dict[str, int]:
    with psycopg.connect(uri) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES
        }


def _dataset(name: str, context: str) -> dict:
    return {
        "tags": [{"key": "mlflow.data.context", "value": context}],
        "dataset": {"name": name, "digest": f"d-{name}", "source_type": "code", "source": "{}"},
    }


def _runs_json(uri: str) -> list:
    out = run_cli("runs", "list", "--all", "--max-results", "50000", "-o", "json",
                  "--tracking-uri", uri)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _small_store(root: Path) -> SqliteStore:
    store = SqliteStore(str(root / "satchel.db"), str(root / "artifacts"))
    exp = store.create_experiment("wine", tags={"team": "a"})
    for n in range(3):
        run_id = store.create_run(exp, "u", 1000 + n, run_name=f"r{n}").info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("loss", 1.0 / (s + 1), 10 + s, s) for s in range(4)],
            params=[Param("alpha", str(n))],
            tags=[RunTag("k", "v")],
        )
        store.log_inputs(run_id, [_dataset(f"train{n}", "training"), _dataset("eval", "eval")])
        store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=2000 + n)
        artifacts = root / "artifacts" / exp / run_id / "artifacts"
        (artifacts / "plots").mkdir(parents=True)
        (artifacts / "plots" / "loss.txt").write_text(f"run {n}\n")
    store.delete_run(run_id)
    return store


def test_copy_twice_duplicates_nothing_and_moves_artifacts(
    postgres_uri: str, tmp_path: Path
) -> None:
    source = _small_store(tmp_path / "src")
    env = {"SATCHEL_ARTIFACT_ROOT": str(tmp_path / "team-artifacts")}
    first = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 experiments, 3 runs and 3 artifact files" in first.stdout
    counts = _counts(postgres_uri)
    again = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri)
    assert again.returncode == 0 and "0 artifact files" in again.stdout
    assert _counts(postgres_uri) == counts
    assert counts["metrics"] == 12 and counts["runs"] == 3 and counts["run_inputs"] == 6

    dest = PostgresStore(postgres_uri)
    for run in source.search_runs(["1"], None, max_results=10):
        copied = dest.get_run(run.info.run_id)
        assert copied.data == run.data
        inputs = dest.get_run_inputs(run.info.run_id)
        assert inputs == source.get_run_inputs(run.info.run_id) and len(inputs) == 2
        assert copied.info.artifact_uri.startswith("file://" + str(tmp_path / "team-artifacts"))
        assert dest.get_metric_history(run.info.run_id, "loss") == source.get_metric_history(
            run.info.run_id, "loss"
        )
        local = copied.info.artifact_uri[len("file://") :]
        assert (Path(local) / "plots" / "loss.txt").read_text().startswith("run ")
    assert dest.get_experiment("1").tags == {"team": "a"}
    assert dest.create_experiment("next") == "2"  # ids continue after the copied ones
    dest.close()


def test_copy_refuses_a_destination_with_other_experiments(
    postgres_uri: str, tmp_path: Path
) -> None:
    _small_store(tmp_path / "src")
    dest = PostgresStore(postgres_uri, str(tmp_path / "a"))
    dest.create_experiment("other")
    dest.create_experiment("wine")
    dest.close()
    out = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri)
    assert out.returncode == 1
    assert "already has an experiment 'wine'" in out.stderr and len(out.stderr.splitlines()) == 1
    into_sqlite = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", "x.db")
    assert into_sqlite.returncode == 1 and "PostgreSQL" in into_sqlite.stderr


def test_db_upgrade_applies_once(postgres_uri: str, tmp_path: Path) -> None:
    first = run_cli("db", "upgrade", "--backend-store-uri", postgres_uri)
    versions = ", ".join(str(version) for version, _, _ in MIGRATIONS)
    assert first.returncode == 0 and first.stdout.strip() == f"Applied migrations {versions}."
    again = run_cli("db", "upgrade", "--backend-store-uri", postgres_uri)
    assert again.returncode == 0 and again.stdout.strip() == "The schema is up to date."
    lite = run_cli("db", "upgrade", "--backend-store-uri", str(tmp_path / "s.db"))
    assert lite.returncode == 0 and lite.stdout.startswith("Applied migrations 1, 2")


RUNS = 10_000


def _big_store(path: Path) -> None:
    store = SqliteStore(str(path / "satchel.db"), str(path / "artifacts"))
    exps = [store.create_experiment(f"e{n}") for n in range(3)]
    for n in range(RUNS):
        run_id = store.create_run(exps[n % 3], "u", 10_000 + n, run_name=f"run-{n}").info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("loss", 1.0 / (s + 1 + n), 100 + s, s) for s in range(3)]
            + [Metric("acc", n / RUNS, 100, 0)],
            params=[Param("alpha", str(n % 7)), Param("seed", str(n))],
            tags=[RunTag("team", "xy"[n % 2])],
        )
        if n % 5:
            store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=50_000 + n)
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ten_thousand_runs_interrupted_and_resumed(postgres_uri: str, tmp_path: Path) -> None:
    _big_store(tmp_path / "src")
    src = str(tmp_path / "src")
    env = {**os.environ, "SATCHEL_ARTIFACT_ROOT": str(tmp_path / "src" / "artifacts")}
    copier = subprocess.Popen(
        [sys.executable, "-m", "satchel", "db", "copy", "--from", src, "--to", postgres_uri],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    while True:  # kill it once some chunks are in, well before the end
        assert copier.poll() is None and time.monotonic() < deadline
        with psycopg.connect(postgres_uri) as conn:
            found = conn.execute("SELECT to_regclass('runs')").fetchone()[0]
            copied = conn.execute("SELECT count(*) FROM runs").fetchone()[0] if found else 0
        if copied >= 1500:
            break
        time.sleep(0.05)
    copier.send_signal(signal.SIGKILL)
    copier.wait()
    partial = _counts(postgres_uri)["runs"]
    assert 1500 <= partial < RUNS

    resumed = run_cli("db", "copy", "--from", src, "--to", postgres_uri, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after run" in resumed.stdout
    counts = _counts(postgres_uri)
    again = run_cli("db", "copy", "--from", src, "--to", postgres_uri, timeout=600)
    assert again.returncode == 0 and "resumed" not in again.stdout
    assert _counts(postgres_uri) == counts
    assert counts["runs"] == RUNS and counts["metrics"] == RUNS * 4
    assert _runs_json(postgres_uri) == _runs_json(src)


def test_copy_keeps_who_may_do_what(postgres_uri: str, tmp_path: Path) -> None:
    from tests.server.server_helpers import ServerProcess, call

    from satchel.server.auth.store import AuthStore, Level

    source = _small_store(tmp_path / "src")
    auth = AuthStore(source)
    auth.create_user("alice", "alice-password", admin=True)
    auth.create_user("bob", "bob-password")
    token = auth.create_token("bob", "laptop")
    auth.create_token("bob", "old")
    auth.revoke_token("bob", "old")
    auth.create_group("ml")
    auth.set_member("ml", "bob", True)
    auth.grant("group:ml", 1, Level.EDIT)
    auth.set_default_level(Level.READ)
    source.close()
    for _ in range(2):  # twice: nothing duplicated, nothing refused
        out = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri)
        assert out.returncode == 0, out.stderr
        assert "Copied 2 users with their tokens, groups and permissions." in out.stdout
    dest = PostgresStore(postgres_uri)
    copied = AuthStore(dest)
    assert sorted(copied.list_users()) == [("alice", True), ("bob", False)]
    assert copied.token_owner(token) == "bob"
    assert [t.name for t in copied.list_tokens("bob") if t.revoked_at] == ["old"]
    assert copied.list_groups() == [("ml", ["bob"])]
    bob = copied.principal("bob")
    assert bob is not None and copied.levels(bob, [1]) == {1: Level.EDIT}
    assert copied.default_level() is Level.READ
    dest.close()
    # a server on the copy signs the same people in
    server = ServerProcess("--backend-store-uri", postgres_uri, "--auth", cwd=tmp_path)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        path = "/api/2.0/mlflow/experiments/get?experiment_id=1"
        assert call(server.url, "GET", path, headers=bearer)[0] == 200
        assert call(server.url, "GET", path)[0] == 401
    finally:
        assert server.stop() == 0
