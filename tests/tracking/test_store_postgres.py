"""PostgresStore against a real PostgreSQL server, a fresh database per test: the store
contract (experiments, runs, logging, liveness), idempotent writes, migrations applied once
under an advisory lock by concurrent processes, and the CLI on a postgresql:// URI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from conftest import POSTGRES_URI, run_cli
from satchel.errors import (
    NotFoundError,
    StoreUnavailableError,
)
from satchel.tracking.entities import Metric, Param, RunStatus, RunTag
from satchel.tracking.store import clear_store_cache, get_store
from satchel.tracking.store.postgres import PostgresStore
from satchel.tracking.store.postgres_db import redact
from satchel.tracking.store.postgres_migrations import LATEST_VERSION, MIGRATIONS


def now() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def store(postgres_uri: str, tmp_path: Path) -> PostgresStore:
    s = PostgresStore(postgres_uri, str(tmp_path / "artifacts"))
    yield s
    s.close()


def test_default_experiment_and_artifact_root(store: PostgresStore, tmp_path: Path) -> None:
    exp = store.get_experiment("0")
    assert exp.name == "Default"
    assert exp.artifact_location == str(tmp_path / "artifacts" / "0")
    # the root is the database's: a second client configured otherwise still agrees
    other = PostgresStore(store.uri, str(tmp_path / "elsewhere"))
    assert other.artifact_root == str(tmp_path / "artifacts")
    other.close()


def test_runs_logging_and_latest_metrics(store: PostgresStore) -> None:
    run = store.create_run("0", "alice", now(), tags=[RunTag("k", "v")], run_name="r1")
    run_id = run.info.run_id
    assert run.info.artifact_uri.endswith(f"/0/{run_id}/artifacts")
    assert run.data.tags == {"k": "v", "mlflow.runName": "r1"}
    store.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 10, 1), Metric("loss", 0.4, 11, 2), Metric("acc", 0.9, 5, 0)],
        params=[Param("alpha", "0.3")],
        tags=[RunTag("mlflow.runName", "renamed")],
    )
    store.log_metric(run_id, Metric("loss", 0.9, 12, 0))  # an older step: not the latest
    got = store.get_run(run_id)
    assert got.data.metrics == {"loss": 0.4, "acc": 0.9}
    assert got.data.params == {"alpha": "0.3"}
    assert got.info.run_name == "renamed"
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.4)]
    info = store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=now())
    assert info.status is RunStatus.FINISHED
    assert not store.set_terminated_if_running(run_id, RunStatus.FAILED, now())
    store.delete_tag(run_id, "k")
    with pytest.raises(NotFoundError, match="no tag"):
        store.delete_tag(run_id, "k")


def test_replayed_writes_store_nothing_twice(store: PostgresStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    batch = {
        "metrics": [Metric("m", float(i), 100 + i, i) for i in range(5)],
        "params": [Param("p", "1")],
        "tags": [RunTag("t", "x")],
    }
    for _ in range(3):
        store.log_batch(run_id, **batch)
        store.log_metric(run_id, Metric("single", 1.5, 7, 3))
    store.log_metric(run_id, Metric("m", float("nan"), 200, 9))
    store.log_metric(run_id, Metric("m", float("nan"), 200, 9))
    assert len(store.get_metric_history(run_id, "m")) == 6
    assert len(store.get_metric_history(run_id, "single")) == 1
    assert math.isnan(store.get_run(run_id).data.metrics["m"])


def test_fork_child_opens_its_own_connection(store: PostgresStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            store.log_metric(run_id, Metric("child", 1.0, 1, 0))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.log_metric(run_id, Metric("parent", 1.0, 1, 0))
    assert set(store.get_run(run_id).data.metrics) == {"child", "parent"}


def test_get_store_registers_both_spellings(postgres_uri: str) -> None:
    clear_store_cache()
    store = get_store(postgres_uri)
    assert isinstance(store, PostgresStore)
    assert get_store(postgres_uri.replace("postgresql://", "postgres://")) is store
    clear_store_cache()


def test_wrong_database_is_one_line_without_password() -> None:
    assert redact("postgresql://me:s3cret@h:1/db") == "postgresql://me:***@h:1/db"
    server, _, _ = POSTGRES_URI.rpartition("/")
    user, _, host = server.partition("://")[2].rpartition("@")
    store = PostgresStore(f"postgresql://{user.split(':')[0]}:s3cret@{host}/no_such_database")
    with pytest.raises(StoreUnavailableError) as err:
        store.get_experiment("0")
    text = str(err.value)
    assert "does not exist" in text and "s3cret" not in text and "\n" not in text


_MIGRATE = """
import sys, time
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
import psycopg
from satchel.tracking.store.postgres_migrations import migrate
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    print(migrate(conn))
"""


def test_concurrent_processes_migrate_once(postgres_uri: str) -> None:
    start = time.time() + 1.5  # all processes are importing by then; they start together
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, postgres_uri, str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    applied = str([v for v, _, _ in MIGRATIONS])
    assert sorted(outputs) == sorted(["[]", "[]", "[]", applied])  # one process did it all
    with psycopg.connect(postgres_uri) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, LATEST_VERSION + 1))


def test_cli_commands_take_a_postgresql_uri(postgres_uri: str, tmp_path: Path) -> None:
    env = {"SATCHEL_ARTIFACT_ROOT": str(tmp_path / "arts")}
    made = run_cli("experiments", "create", "team", "--tracking-uri", postgres_uri, env=env)
    assert made.returncode == 0, made.stderr
    store = PostgresStore(postgres_uri)
    exp = store.get_experiment_by_name("team")
    assert exp is not None and exp.artifact_location == str(tmp_path / "arts" / "1")
    run_id = store.create_run(exp.experiment_id, "u", now(), run_name="r").info.run_id
    store.log_batch(run_id, metrics=[Metric("rmse", 0.3, 1, 0)])
    listed = run_cli(
        "runs", "list", "--experiment-name", "team", "-o", "json", "--tracking-uri", postgres_uri
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["info"]["run_id"] for r in rows] == [run_id]
    shown = run_cli("runs", "show", run_id[:8], env={"SATCHEL_TRACKING_URI": postgres_uri})
    assert shown.returncode == 0 and "rmse" in shown.stdout
    store.close()


def test_a_sql_ascii_database_still_speaks_text(tmp_path: Path) -> None:
    name = "satchel_t_ascii_" + os.urandom(4).hex()
    with psycopg.connect(POSTGRES_URI, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0 "
                     "LC_COLLATE 'C' LC_CTYPE 'C'")  # fmt: skip
    uri = POSTGRES_URI.rpartition("/")[0] + "/" + name
    store = PostgresStore(uri, str(tmp_path / "a"))
    try:
        run_id = store.create_run("0", "ünï", now(), run_name="naïve").info.run_id
        run = store.get_run(run_id)
        assert run.info.run_name == "naïve" and run.info.user_id == "ünï"
    finally:
        store.close()
        with psycopg.connect(POSTGRES_URI, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
