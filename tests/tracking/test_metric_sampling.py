"""Store reads for charts and pickers: bucketed history (SQL and the generic rule agree),
metric ranges, run keys, and moving a run between experiments."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking.client import Client
from satchel.tracking.entities import Metric
from satchel.tracking.sampling import downsample


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(f"sqlite:///{tmp_path / 'store' / 'satchel.db'}")


def test_sql_buckets_match_the_generic_rule(client: Client) -> None:
    rng = random.Random(7)
    run_id = client.create_run("0").info.run_id
    history = []
    for i in range(5000):
        value = float("nan") if i % 997 == 0 else rng.gauss(0, 1)
        history.append(Metric("x", value, 10_000 + i * 3, i * 2))
    client.log_batch(run_id, metrics=history)
    for lo, hi, buckets in [(None, None, 100), (100, 3001, 50), (None, 4000, 7), (9000, None, 10)]:
        sql = client.sampled_metric_history(run_id, "x", lo, hi, buckets)
        points, sampled = downsample(client.get_metric_history(run_id, "x"), lo, hi, buckets)
        assert sql.sampled == sampled
        assert _same(sql.points, points), (lo, hi, buckets)
        assert len(sql.points) <= 3 * buckets or not sql.sampled


def _same(a: list, b: list) -> bool:
    def norm(p: tuple) -> tuple:
        return (p[0], p[1], None if p[2] is None or math.isnan(p[2]) else round(p[2], 12))

    return [norm(p) for p in a] == [norm(p) for p in b]


def test_downsample_keeps_min_max_and_last() -> None:
    history = [Metric("x", float(i % 5), i, i) for i in range(1000)]
    history[500] = Metric("x", 1e9, 500, 500)
    points, sampled = downsample(history, None, None, 20)
    assert sampled and len(points) <= 60
    assert max(p[2] for p in points) == 1e9 and points[-1][0] == 999


def test_metric_ranges_and_run_keys(client: Client) -> None:
    exp = client.create_experiment("e")
    run_id = client.create_run(exp).info.run_id
    for step, value in enumerate([3.0, 1.0, 2.0]):
        client.log_metric(run_id, "loss", value, step=step)
    client.log_param(run_id, "alpha", 1)
    client.set_tag(run_id, "team", "x")
    ranges = {r.key: r for r in client.metric_ranges(run_id)}
    assert (ranges["loss"].min, ranges["loss"].max, ranges["loss"].count) == (1.0, 3.0, 3)
    keys = client.run_keys([exp])
    assert keys["metrics"] == ["loss"] and keys["params"] == ["alpha"] and "team" in keys["tags"]


def test_move_run(client: Client) -> None:
    a, b = client.create_experiment("a"), client.create_experiment("b")
    run_id = client.create_run(a).info.run_id
    client.move_run(run_id, b)
    assert client.get_run(run_id).info.experiment_id == b
    assert [r.info.run_id for r in client.search_runs(b)] == [run_id]
    with pytest.raises(NotFoundError):
        client.move_run(run_id, "12345")
    client.delete_experiment(a)
    with pytest.raises(InvalidValueError):
        client.move_run(run_id, a)


def _whole(client: Client, run_id: str) -> list:
    return client.sampled_metric_history(run_id, "x", None, None, 20).points


def _expected(client: Client, run_id: str) -> list:
    return downsample(client.get_metric_history(run_id, "x"), None, None, 20)[0]


def test_a_whole_range_sample_is_reused_until_its_history_grows(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    other = client.create_run("0").info.run_id
    client.log_batch(run_id, metrics=[Metric("x", float(i % 7), i, i) for i in range(1000)])
    first = _whole(client, run_id)
    assert _same(first, _expected(client, run_id))
    client.log_batch(other, metrics=[Metric("x", 5.0, 1, i) for i in range(300)])
    assert _whole(client, run_id) is first  # reused: another run's writes change nothing
    # a spike in the middle of the history (an old step, written late) shows at once
    client.log_metric(run_id, "x", 1e6, timestamp=2000, step=500)
    after = _whole(client, run_id)
    assert max(p[2] for p in after) == 1e6
    assert _same(after, _expected(client, run_id))
    client.log_metric(run_id, "x", -3.0, timestamp=3000, step=5000)  # and a new last point
    assert _whole(client, run_id)[-1] == (5000, 3000, -3.0)


def test_a_sample_is_computed_again_when_too_many_rows_came_since(client: Client) -> None:
    store = client._store
    run_id = client.create_run("0").info.run_id
    other = client.create_run("0").info.run_id
    client.log_batch(run_id, metrics=[Metric("x", float(i), i, i) for i in range(1000)])
    _whole(client, run_id)
    store._samples._max_scan = 10  # type: ignore[attr-defined]
    client.log_batch(other, metrics=[Metric("x", 1.0, 1, i) for i in range(50)])
    client.log_metric(run_id, "x", -1e6, timestamp=5, step=10)
    assert min(p[2] for p in _whole(client, run_id)) == -1e6
