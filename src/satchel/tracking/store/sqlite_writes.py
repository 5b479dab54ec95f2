"""The write side of the SQLite store: metric rows checked once, batches reduced, params kept
immutable. ``SqliteStore`` runs these inside its transactions. Standard library only.
"""

from __future__ import annotations

import sqlite3

from satchel.errors import InvalidValueError
from satchel.tracking import validation as v
from satchel.tracking.entities import Metric

__all__ = [
    "INSERT_METRIC",
    "LOG_METRIC_IF_ACTIVE",
    "UPSERT_LATEST",
    "check_params_unchanged",
    "checked_input",
    "checked_metric",
    "latest_rows",
    "unique_params",
]

INSERT_METRIC = (  # OR IGNORE: a replayed metric is stored once (migration 3)
    "INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) "
    "VALUES (?,?,?,?,?,?)"
)
# MLflow's "latest": the highest step, then the newest timestamp (later writes win ties).
UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) "
    "VALUES (?,?,?,?,?,?) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
    "is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step "
    "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND excluded.timestamp >= latest_metrics.timestamp)"
)
# The single-metric path, one statement: the run check rides in the insert (no row when the
# run is missing or deleted), and the metric_log view's trigger (migration 2) writes both the
# history row and the latest value.
LOG_METRIC_IF_ACTIVE = (
    "INSERT INTO metric_log (run_uuid, key, value, is_nan, timestamp, step) "
    "SELECT run_uuid, ?, ?, ?, ?, ? FROM runs WHERE run_uuid = ? AND lifecycle_stage = 'active'"
)

# Metric keys that passed validation in this process (bounded: keys are few in practice).
_VALID_METRIC_KEYS: set[str] = set()


def latest_rows(rows: list[tuple]) -> list[tuple]:
    """Each key's newest row of a batch (by step, then timestamp; later rows win ties): a
    batch of 10,000 values of 100 keys upserts 100 rows, not 10,000."""
    latest: dict[str, tuple] = {}
    for row in rows:  # (run_uuid, key, value, is_nan, timestamp, step)
        seen = latest.get(row[1])
        if seen is None or (row[5], row[4]) >= (seen[5], seen[4]):
            latest[row[1]] = row
    return list(latest.values())


def checked_metric(m: Metric) -> tuple[str, float, int, int]:
    """(key, value, timestamp, step), validated. Plain types and a key seen before skip the
    full check: validation was half the time of a 10,000-metric batch."""
    key, value, timestamp, step = m.key, m.value, m.timestamp, m.step
    if (
        type(key) is str
        and type(value) is float
        and type(step) is int
        and type(timestamp) is int
        and key in _VALID_METRIC_KEYS
    ):
        return key, value, timestamp, step
    checked = v.validate_metric(key, value, timestamp, step)
    if len(_VALID_METRIC_KEYS) < 10_000:
        _VALID_METRIC_KEYS.add(checked[0])
    return checked


def checked_input(dataset_input: object) -> tuple[str, str, str]:
    """(name, digest, JSON text) of one MLflow DatasetInput, or InvalidValueError."""
    import json

    dataset = dataset_input.get("dataset") if isinstance(dataset_input, dict) else None
    if not isinstance(dataset, dict):
        raise InvalidValueError(
            f"dataset input {dataset_input!r} has no 'dataset' object",
            hint='send {"dataset": {"name", "digest", "source_type", "source"}, "tags": [...]}',
        )
    name, digest = dataset.get("name"), dataset.get("digest")
    if not isinstance(name, str) or not name or not isinstance(digest, str) or not digest:
        raise InvalidValueError(
            f"dataset {dataset!r} needs a non-empty 'name' and 'digest'",
            hint="MLflow's log_input sends both",
        )
    text = json.dumps(dataset_input, sort_keys=True)
    if len(text) > 1_000_000:
        raise InvalidValueError(
            f"dataset input {name!r} is {len(text)} bytes", hint="at most 1,000,000"
        )
    return name, digest, text


def unique_params(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The same key twice in one batch must carry the same value."""
    seen: dict[str, str] = {}
    for key, value in rows:
        if seen.setdefault(key, value) != value:
            raise InvalidValueError(
                f"param {key!r} given twice with different values {seen[key]!r} and {value!r}",
                hint="params are immutable: log each key once",
            )
    return list(seen.items())


def check_params_unchanged(
    conn: sqlite3.Connection, run_id: str, rows: list[tuple[str, str]]
) -> None:
    new = dict(rows)
    keys = list(new)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for key, old in conn.execute(
            f"SELECT key, value FROM params WHERE run_uuid = ? AND "  # noqa: S608
            f"key IN ({marks})",
            (run_id, *chunk),
        ):
            if old != new[key]:
                raise InvalidValueError(
                    f"param {key!r} of run {run_id} is already {old!r}; cannot change it to "
                    f"{new[key]!r}",
                    hint="params are immutable: log a new key or start a new run",
                )
