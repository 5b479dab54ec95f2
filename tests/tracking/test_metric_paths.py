"""The two ways a metric is written (one call: the metric_log view and its trigger; a batch:
the tables directly, upserting each key's newest row) agree, and both refuse bad runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking.entities import Metric
from satchel.tracking.store.sqlite import SqliteStore


def _store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(str(tmp_path / "t.db"), str(tmp_path / "a"))


def test_latest_value_is_the_highest_step_then_the_newest_time(tmp_path: Path) -> None:
    db = _store(tmp_path)
    one, batch = (db.create_run("0", "u", 1).info.run_id for _ in range(2))
    metrics = [
        Metric("loss", 0.5, 10, 3),
        Metric("loss", 0.9, 20, 1),  # an older step logged later: not the latest
        Metric("loss", 0.4, 5, 3),
        Metric("loss", 0.3, 30, 3),
        Metric("loss", 0.2, 30, 3),  # same step and time: the later write wins
        Metric("acc", float("nan"), 1, 0),
    ]
    for metric in metrics:
        db.log_metric(one, metric)
    db.log_batch(batch, metrics=metrics[:3])
    db.log_batch(batch, metrics=metrics[3:])
    for run_id in (one, batch):
        latest = db.get_run(run_id).data.metrics
        assert latest["loss"] == 0.2 and latest["acc"] != latest["acc"]  # NaN kept
        history = [m.value for m in db.get_metric_history(run_id, "loss")]
        assert history == [0.9, 0.4, 0.5, 0.3, 0.2]  # by step, then time
    assert {r.info.run_id for r in db.search_runs(["0"], "metrics.loss < 0.25")} == {one, batch}


def test_a_single_metric_needs_an_active_run_and_a_valid_key(tmp_path: Path) -> None:
    db = _store(tmp_path)
    run_id = db.create_run("0", "u", 1).info.run_id
    with pytest.raises(NotFoundError, match="not found"):
        db.log_metric("f" * 32, Metric("loss", 1.0, 1))
    with pytest.raises(InvalidValueError, match="'\\.\\.'"):
        db.log_metric(run_id, Metric("a/../b", 1.0, 1))
    with pytest.raises(InvalidValueError, match="not a number"):
        db.log_metric(run_id, Metric("loss", "high", 1))  # type: ignore[arg-type]
    db.delete_run(run_id)
    with pytest.raises(InvalidValueError, match="deleted"):
        db.log_metric(run_id, Metric("loss", 1.0, 1))
    db.restore_run(run_id)
    db.log_metric(run_id, Metric("loss", 2, 1))  # an int value is stored as a float
    assert db.get_run(run_id).data.metrics == {"loss": 2.0}
