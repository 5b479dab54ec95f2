"""SqliteStore against real database files: experiments, runs, logging, liveness."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.tracking.entities import (
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from satchel.tracking.store import clear_store_cache, get_store
from satchel.tracking.store.sqlite import SqliteStore


def now() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(str(tmp_path / "db" / "satchel.db"), str(tmp_path / "artifacts"))
    yield s
    s.close()


def test_default_experiment_exists_on_first_use(store: SqliteStore, tmp_path: Path) -> None:
    exp = store.get_experiment("0")
    assert exp.name == "Default"
    assert exp.artifact_location == str(tmp_path / "artifacts" / "0")
    assert store.get_experiment_by_name("Default") == exp


def test_get_store_default_is_cwd_satchel_dir(tmp_path: Path) -> None:
    clear_store_cache()
    s = get_store()
    assert isinstance(s, SqliteStore)
    assert s.db_path == os.path.join(os.getcwd(), "satchel", "satchel.db")
    assert s.artifact_root == os.path.join(os.getcwd(), "satchel", "artifacts")
    assert get_store() is s
    s.get_experiment("0")
    assert Path(s.db_path).exists()
    clear_store_cache()


def test_experiment_lifecycle(store: SqliteStore, tmp_path: Path) -> None:
    exp_id = store.create_experiment("wine", tags={"team": "a"})
    exp = store.get_experiment(exp_id)
    assert exp.name == "wine" and exp.tags == {"team": "a"}
    assert exp.artifact_location == str(tmp_path / "artifacts" / exp_id)
    with pytest.raises(AlreadyExistsError, match="wine"):
        store.create_experiment("wine")
    store.rename_experiment(exp_id, "red wine")
    assert store.get_experiment(exp_id).name == "red wine"
    store.set_experiment_tag(exp_id, "team", "b")
    assert store.get_experiment(exp_id).tags == {"team": "b"}
    run = store.create_run(exp_id, "u", now())
    store.delete_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage is LifecycleStage.DELETED
    assert store.get_run(run.info.run_id).info.lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidValueError, match="deleted"):
        store.create_run(exp_id, "u", now())
    store.restore_experiment(exp_id)
    assert store.get_run(run.info.run_id).info.lifecycle_stage is LifecycleStage.ACTIVE


def test_unknown_experiment_ids(store: SqliteStore) -> None:
    for bad in ("42", "abc", ""):
        with pytest.raises(NotFoundError, match="not found"):
            store.get_experiment(bad)
    assert store.get_experiment_by_name("nope") is None
    with pytest.raises(InvalidValueError):
        store.delete_experiment("0")


def test_search_experiments(store: SqliteStore) -> None:
    a = store.create_experiment("alpha", tags={"team": "x"})
    b = store.create_experiment("beta")
    store.delete_experiment(b)
    names = [e.name for e in store.search_experiments(order_by=["name ASC"])]
    assert names == ["Default", "alpha"]
    assert [e.name for e in store.search_experiments(ViewType.DELETED_ONLY)] == ["beta"]
    found = store.search_experiments(filter_string="tags.team = 'x'")
    assert [e.experiment_id for e in found] == [a]
    assert [e.name for e in store.search_experiments(filter_string="name LIKE 'al%'")] == ["alpha"]
    page = store.search_experiments(ViewType.ALL, max_results=2, order_by=["name"])
    assert [e.name for e in page] == ["Default", "alpha"] and page.token
    rest = store.search_experiments(
        ViewType.ALL, max_results=2, order_by=["name"], page_token=page.token
    )
    assert [e.name for e in rest] == ["beta"] and rest.token is None


def test_create_run_defaults(store: SqliteStore) -> None:
    run = store.create_run("0", "alice", 1234)
    info = run.info
    assert len(info.run_id) == 32 and int(info.run_id, 16) >= 0
    assert info.status is RunStatus.RUNNING and info.start_time == 1234
    assert info.run_name.count("-") == 2
    assert run.data.tags["mlflow.runName"] == info.run_name
    exp_loc = store.get_experiment("0").artifact_location
    assert info.artifact_uri == f"file://{exp_loc}/{info.run_id}/artifacts"
    assert store.get_run(info.run_id) == run


def test_create_run_name_and_tags(store: SqliteStore) -> None:
    run = store.create_run("0", "u", now(), tags=[RunTag("team", "x")], run_name="net-1")
    assert run.info.run_name == "net-1"
    assert store.get_run(run.info.run_id).data.tags == {"team": "x", "mlflow.runName": "net-1"}
    with pytest.raises(NotFoundError):
        store.create_run("77", "u", now())


def test_log_batch_and_latest_metrics(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("loss", 1.0, 10, 0),
            Metric("loss", 0.5, 5, 2),
            Metric("loss", 0.7, 20, 1),
            Metric("acc", 3, 1, 0),
        ],
        params=[Param("alpha", "0.5"), Param("depth", "None")],
        tags=[RunTag("team", "x")],
    )
    data = store.get_run(run_id).data
    assert data.metrics == {"loss": 0.5, "acc": 3.0}  # highest step wins, not latest write
    assert data.params == {"alpha": "0.5", "depth": "None"}
    assert data.tags["team"] == "x"
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (0, 1.0, 10),
        (1, 0.7, 20),
        (2, 0.5, 5),
    ]
    # same step: the newer timestamp wins
    store.log_batch(run_id, metrics=[Metric("loss", 0.1, 6, 2)])
    assert store.get_run(run_id).data.metrics["loss"] == 0.1
    store.log_batch(run_id, metrics=[Metric("loss", 9.0, 1, 2)])
    assert store.get_run(run_id).data.metrics["loss"] == 0.1


def test_nan_and_inf_round_trip(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("a", float("nan"), 1, 0),
            Metric("b", float("inf"), 1, 0),
            Metric("c", float("-inf"), 1, 0),
        ],
    )
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["a"])
    assert metrics["b"] == math.inf and metrics["c"] == -math.inf
    assert math.isnan(store.get_metric_history(run_id, "a")[0].value)


def test_params_are_immutable(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(run_id, params=[Param("alpha", "0.5")])
    store.log_batch(run_id, params=[Param("alpha", "0.5")])  # same value: fine
    with pytest.raises(InvalidValueError) as err:
        store.log_batch(run_id, params=[Param("alpha", "0.7")])
    assert "'alpha'" in str(err.value) and "'0.5'" in str(err.value)
    assert "'0.7'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InvalidValueError, match="twice"):
        store.log_batch(run_id, params=[Param("b", "1"), Param("b", "2")])
    assert store.get_run(run_id).data.params == {"alpha": "0.5"}


def test_failed_batch_writes_nothing(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(run_id, params=[Param("alpha", "0.5")])
    with pytest.raises(InvalidValueError):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("alpha", "0.9")])
    assert store.get_run(run_id).data.metrics == {}


@pytest.mark.parametrize(
    "metric",
    [
        Metric("", 1.0, 1, 0),
        Metric("../x", 1.0, 1, 0),
        Metric("/abs", 1.0, 1, 0),
        Metric("a" * 251, 1.0, 1, 0),
        Metric("bad!", 1.0, 1, 0),
        Metric("m", "1.0", 1, 0),
        Metric("m", True, 1, 0),
        Metric("m", None, 1, 0),
        Metric("m", 1.0, 1, 1.5),
        Metric("m", 1.0, "now", 0),
    ],
)
def test_bad_metrics_rejected(store: SqliteStore, metric: Metric) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    with pytest.raises(InvalidValueError) as err:
        store.log_batch(run_id, metrics=[metric])
    assert "\n" not in str(err.value)


def test_value_length_limits(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(run_id, params=[Param("p", "x" * 6000)], tags=[RunTag("t", "y" * 8000)])
    with pytest.raises(InvalidValueError, match="6001"):
        store.log_batch(run_id, params=[Param("q", "x" * 6001)])
    with pytest.raises(InvalidValueError, match="8001"):
        store.log_batch(run_id, tags=[RunTag("t", "y" * 8001)])


def test_unknown_and_deleted_runs(store: SqliteStore) -> None:
    missing = "0" * 32
    with pytest.raises(NotFoundError, match=missing):
        store.get_run(missing)
    with pytest.raises(NotFoundError):
        store.log_batch(missing, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(NotFoundError):
        store.get_metric_history(missing, "m")
    run_id = store.create_run("0", "u", now()).info.run_id
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidValueError, match="deleted"):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    store.restore_run(run_id)
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])


def test_update_run_info_and_terminate(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    info = store.update_run_info(run_id, run_name="renamed")
    assert info.run_name == "renamed"
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    assert store.set_terminated_if_running(run_id, RunStatus.FAILED, 99) is True
    assert store.set_terminated_if_running(run_id, RunStatus.FINISHED, 100) is False
    info = store.get_run(run_id).info
    assert (info.status, info.end_time) == (RunStatus.FAILED, 99)
    info = store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=123)
    assert (info.status, info.end_time) == (RunStatus.FINISHED, 123)
    with pytest.raises(ValueError):
        store.update_run_info(run_id, status="DONE")  # type: ignore[arg-type]


def test_run_name_tag_renames_run(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(run_id, tags=[RunTag("mlflow.runName", "via-tag")])
    assert store.get_run(run_id).info.run_name == "via-tag"


def test_delete_tag(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now(), tags=[RunTag("a", "1")]).info.run_id
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags
    with pytest.raises(NotFoundError, match="'a'"):
        store.delete_tag(run_id, "a")


def test_reap_dead_runs(store: SqliteStore) -> None:
    import socket

    host = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_dead = store.create_run("0", "u", now()).info.run_id
    store.heartbeat(run_dead, f"{host}:{dead.pid}")
    run_alive = store.create_run("0", "u", now()).info.run_id
    store.heartbeat(run_alive, f"{host}:{os.getpid()}")
    run_remote = store.create_run("0", "u", now()).info.run_id
    store.heartbeat(run_remote, "other-host.invalid:1")
    run_unowned = store.create_run("0", "u", now()).info.run_id
    assert store.reap_dead_runs(stale_after_ms=60_000) == [run_dead]
    failed = store.get_run(run_dead)
    assert failed.info.status is RunStatus.FAILED and failed.info.end_time
    assert str(dead.pid) in failed.data.tags["satchel.failure.reason"]
    time.sleep(0.6)
    store.heartbeat(run_alive)  # fresh; the remote one is now 0.6 s stale
    assert store.reap_dead_runs(stale_after_ms=500) == [run_remote]
    assert store.get_run(run_alive).info.status is RunStatus.RUNNING
    assert store.get_run(run_unowned).info.status is RunStatus.RUNNING
    with pytest.raises(NotFoundError):
        store.heartbeat("f" * 32)


def test_schema_uses_wal_and_foreign_keys(store: SqliteStore) -> None:
    store.get_experiment("0")
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert store.db.conn().execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_fork_child_opens_its_own_connection(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    parent_conn = store.db.conn()
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connection
        code = 1
        try:
            child_conn = store.db.conn()
            store.log_batch(run_id, metrics=[Metric("child", 1.0, 1, 0)])
            code = 0 if child_conn is not parent_conn else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert store.db.conn() is parent_conn
    assert store.get_run(run_id).data.metrics == {"child": 1.0}


def test_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    from satchel.errors import StoreUnavailableError

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreUnavailableError, match=r"bad\.db"):
        SqliteStore(str(bad), str(tmp_path / "a")).get_experiment("0")


def test_run_ids_with_prefix(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "p.db"), str(tmp_path / "artifacts"))
    ids = sorted(store.create_run("0", "u", 1).info.run_id for _ in range(40))
    first = ids[0]
    assert store.run_ids_with_prefix(first) == [first]
    assert store.run_ids_with_prefix(first[:8]) == [first]
    store.delete_run(first)  # deleted runs are still found (restore needs them)
    assert store.run_ids_with_prefix(first[:10]) == [first]
    assert store.run_ids_with_prefix("") == ids[:10]
    assert store.run_ids_with_prefix("", limit=3) == ids[:3]
    assert store.run_ids_with_prefix("zzzzzz") == []
    by_digit = [i for i in ids if i.startswith(ids[-1][0])]
    assert store.run_ids_with_prefix(ids[-1][0], limit=100) == by_digit
