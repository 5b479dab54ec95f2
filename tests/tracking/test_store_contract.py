"""The store contract: every store kind in ``STORE_KINDS`` passes these tests unchanged.

Experiments, runs, params, metrics (history, latest, NaN, replays), tags, search, liveness.
A new kind of store adds one entry to ``STORE_KINDS``: a function ``(tmp_path) -> context
manager yielding a fresh, empty Store``.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.server.context import ServerContext
from satchel.tracking.entities import (
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from satchel.tracking.liveness import hostname, reap_dead_runs
from satchel.tracking.store.base import Store
from satchel.tracking.store.sqlite import SqliteStore


@contextlib.contextmanager
def _sqlite(tmp_path: Path) -> Iterator[Store]:
    store = SqliteStore(str(tmp_path / "db" / "satchel.db"), str(tmp_path / "artifacts"))
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def _http(tmp_path: Path) -> Iterator[Store]:
    """A real server (its app on a loopback socket) over a fresh SQLite store."""
    from satchel.server.app import create_app
    from satchel.server.serve import BackgroundServer
    from satchel.tracking.store.http import HttpStore

    with _sqlite(tmp_path) as backing:
        context = ServerContext(backing, str(tmp_path / "artifacts"), "sqlite:///unused")
        with BackgroundServer(create_app(context=context)) as url:
            store = HttpStore(url)
            try:
                yield store
            finally:
                store.close()


@contextlib.contextmanager
def _postgres(tmp_path: Path) -> Iterator[Store]:
    from conftest import drop_postgres_database, new_postgres_database
    from satchel.tracking.store.postgres import PostgresStore

    uri = new_postgres_database()  # a fresh database for each test
    store = PostgresStore(uri, str(tmp_path / "artifacts"))
    try:
        yield store
    finally:
        store.close()
        drop_postgres_database(uri)


STORE_KINDS: dict[str, Callable[[Path], Any]] = {
    "sqlite": _sqlite,
    "http": _http,
    "postgresql": _postgres,
}


@pytest.fixture(params=sorted(STORE_KINDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with STORE_KINDS[request.param](tmp_path) as opened:
        yield opened


def now() -> int:
    return int(time.time() * 1000)


def test_experiment_lifecycle(store: Store) -> None:
    exp_id = store.create_experiment("wine", tags={"team": "a"})
    exp = store.get_experiment(exp_id)
    assert exp.name == "wine" and exp.tags == {"team": "a"}
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


def test_unknown_experiment_ids(store: Store) -> None:
    for bad in ("42", "abc", ""):
        with pytest.raises(NotFoundError, match="not found"):
            store.get_experiment(bad)
    assert store.get_experiment_by_name("nope") is None
    with pytest.raises(InvalidValueError):
        store.delete_experiment("0")


def test_search_experiments(store: Store) -> None:
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


def test_create_run_defaults(store: Store) -> None:
    run = store.create_run("0", "alice", 1234)
    info = run.info
    assert len(info.run_id) == 32 and int(info.run_id, 16) >= 0
    assert info.status is RunStatus.RUNNING and info.start_time == 1234
    assert info.run_name.count("-") == 2
    assert run.data.tags["mlflow.runName"] == info.run_name
    assert info.artifact_uri.endswith(f"/{info.run_id}/artifacts")
    assert store.get_run(info.run_id) == run


def test_create_run_name_and_tags(store: Store) -> None:
    run = store.create_run("0", "u", now(), tags=[RunTag("team", "x")], run_name="net-1")
    assert run.info.run_name == "net-1"
    assert store.get_run(run.info.run_id).data.tags == {"team": "x", "mlflow.runName": "net-1"}
    with pytest.raises(NotFoundError):
        store.create_run("77", "u", now())


def test_log_batch_and_latest_metrics(store: Store) -> None:
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


def test_nan_and_inf_round_trip(store: Store) -> None:
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


def test_params_are_immutable(store: Store) -> None:
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


def test_failed_batch_writes_nothing(store: Store) -> None:
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
def test_bad_metrics_rejected(store: Store, metric: Metric) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    with pytest.raises(InvalidValueError) as err:
        store.log_batch(run_id, metrics=[metric])
    assert "\n" not in str(err.value)


def test_value_length_limits(store: Store) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(run_id, params=[Param("p", "x" * 6000)], tags=[RunTag("t", "y" * 8000)])
    with pytest.raises(InvalidValueError, match="6001"):
        store.log_batch(run_id, params=[Param("q", "x" * 6001)])
    with pytest.raises(InvalidValueError, match="8001"):
        store.log_batch(run_id, tags=[RunTag("t", "y" * 8001)])


def test_unknown_and_deleted_runs(store: Store) -> None:
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


def test_update_run_info_and_terminate(store: Store) -> None:
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


def test_run_name_tag_renames_run(store: Store) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    store.log_batch(run_id, tags=[RunTag("mlflow.runName", "via-tag")])
    assert store.get_run(run_id).info.run_name == "via-tag"


def test_delete_tag(store: Store) -> None:
    run_id = store.create_run("0", "u", now(), tags=[RunTag("a", "1")]).info.run_id
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags
    with pytest.raises(NotFoundError, match="'a'"):
        store.delete_tag(run_id, "a")


def test_reap_dead_runs(store: Store) -> None:
    host = hostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_dead = store.create_run("0", "u", now()).info.run_id
    store.heartbeat(run_dead, f"{host}:{dead.pid}")
    run_alive = store.create_run("0", "u", now()).info.run_id
    store.heartbeat(run_alive, f"{host}:{os.getpid()}")
    run_remote = store.create_run("0", "u", now()).info.run_id
    store.heartbeat(run_remote, "other-host.invalid:1")
    run_unowned = store.create_run("0", "u", now()).info.run_id
    assert reap_dead_runs(store, stale_after_ms=60_000) == [run_dead]
    failed = store.get_run(run_dead)
    assert failed.info.status is RunStatus.FAILED and failed.info.end_time
    assert str(dead.pid) in failed.data.tags["satchel.failure.reason"]
    # ten minutes later (an injected clock) every heartbeat is stale: a live pid that stopped
    # beating is hung, a remote owner cannot be checked; the owner-less run is never judged
    later = now() + 600_000
    reaped = reap_dead_runs(store, stale_after_ms=60_000, now_ms=later)
    assert sorted(reaped) == sorted([run_alive, run_remote])
    assert store.get_run(run_unowned).info.status is RunStatus.RUNNING
    with pytest.raises(NotFoundError):
        store.heartbeat("f" * 32)


def test_run_ids_with_prefix(store: Store) -> None:
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


def test_replayed_metric_is_stored_once(store: Store) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    metric = Metric("loss", 0.5, 1000, 3)
    store.log_metric(run_id, metric)
    store.log_metric(run_id, metric)  # a client replaying after a lost answer
    store.log_batch(run_id, metrics=[metric, Metric("loss", 0.4, 1001, 4)])
    store.log_metric(run_id, Metric("loss", 0.5, 1000, 3))  # older than the latest: still ok
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(3, 0.5), (4, 0.4)]
    assert store.get_run(run_id).data.metrics == {"loss": 0.4}


def test_replayed_nan_and_inf_are_stored_once(store: Store) -> None:
    # NaN != NaN: a unique key over the value must still see two NaN points as the same
    run_id = store.create_run("0", "u", now()).info.run_id
    batch = [Metric("loss", float("nan"), 1000, 1), Metric("loss", float("inf"), 1000, 2)]
    for _ in range(2):  # a client replaying after a lost answer
        store.log_metric(run_id, Metric("loss", float("nan"), 1000, 0))
        store.log_batch(run_id, metrics=batch)
    store.log_metric(run_id, Metric("loss", 0.0, 1000, 0))  # not NaN: another point
    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, repr(m.value)) for m in history] == [
        (0, "nan"), (0, "0.0"), (1, "nan"), (2, "inf")
    ]  # fmt: skip


def test_search_runs_filters_orders_and_pages(store: Store) -> None:
    exp = store.create_experiment("search")
    ids = []
    for i in range(5):
        run_id = store.create_run(exp, "u", 1000 + i).info.run_id
        store.log_batch(
            run_id, metrics=[Metric("rmse", i / 10, 1, 0)], params=[Param("alpha", str(i))]
        )
        ids.append(run_id)
    found = store.search_runs([exp], "metrics.rmse < 0.25", order_by=["metrics.rmse DESC"])
    assert [r.info.run_id for r in found] == [ids[2], ids[1], ids[0]]
    assert [r.info.run_id for r in store.search_runs([exp], "params.alpha = '3'")] == [ids[3]]
    page = store.search_runs([exp], max_results=2)
    assert [r.info.run_id for r in page] == [ids[4], ids[3]] and page.token
    rest = store.search_runs([exp], max_results=10, page_token=page.token)
    assert [r.info.run_id for r in rest] == [ids[2], ids[1], ids[0]] and rest.token is None
    store.delete_run(ids[0])
    deleted = store.search_runs([exp], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [ids[0]]


def test_experiment_tags_delete(store: Store) -> None:
    exp = store.create_experiment("tagged", tags={"a": "1", "b": "2"})
    store.delete_experiment_tag(exp, "a")
    assert store.get_experiment(exp).tags == {"b": "2"}
    with pytest.raises(NotFoundError):
        store.delete_experiment_tag(exp, "a")


def test_log_inputs_round_trip_and_replay(store: Store) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    dataset = {
        "tags": [{"key": "mlflow.data.context", "value": "training"}],
        "dataset": {"name": "toy", "digest": "cd5c", "source_type": "code", "source": "{}"},
    }
    store.log_inputs(run_id, [dataset])
    store.log_inputs(run_id, [dataset])  # a replay records it once
    assert store.get_run_inputs(run_id) == [dataset]
    with pytest.raises(InvalidValueError, match="digest"):
        store.log_inputs(run_id, [{"dataset": {"name": "x"}}])
