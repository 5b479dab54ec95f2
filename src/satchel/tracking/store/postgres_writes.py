"""The write side of the PostgreSQL store: a whole batch in a few statements, every write
idempotent (a replayed batch changes nothing), params immutable.

Batches travel as arrays through ``unnest``: 1,000 metrics are one INSERT, not 1,000.
"""

from __future__ import annotations

import psycopg

from satchel.errors import InvalidValueError

__all__ = [
    "INSERT_METRICS",
    "INSERT_PARAMS",
    "LOG_METRIC",
    "UPSERT_LATEST",
    "UPSERT_TAG",
    "UPSERT_TAGS",
    "check_params_unchanged",
    "columns",
]

# A point already stored (same run, key, step, timestamp and value) is skipped: the mlflow
# client replays a request after a 5xx, and a retried transaction may have committed.
INSERT_METRICS = (
    "INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) "
    "SELECT %s, * FROM unnest(%s::text[], %s::float8[], %s::bool[], %s::int8[], %s::int8[]) "
    "ON CONFLICT DO NOTHING"
)
# MLflow's "latest": the highest step, then the newest timestamp (later writes win ties).
_LATEST_RULE = (
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
    "is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step "
    "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND excluded.timestamp >= latest_metrics.timestamp)"
)
UPSERT_LATEST = "".join(
    (
        "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) "
        "SELECT %s, * FROM unnest(%s::text[], %s::float8[], %s::bool[], %s::int8[], %s::int8[]) ",
        _LATEST_RULE,
    )
)
# The single-metric path: one statement, one round trip. The run check rides in the CTE (no
# row when the run is missing or deleted); PostgreSQL runs both data-modifying CTEs even
# though the final SELECT reads neither.
LOG_METRIC = "".join(
    (
        "WITH run AS (SELECT run_uuid FROM runs WHERE run_uuid = %(run)s "
        "AND lifecycle_stage = 'active'), "
        "history AS (INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) "
        "SELECT run_uuid, %(key)s, %(value)s, %(nan)s, %(ts)s, %(step)s FROM run "
        "ON CONFLICT DO NOTHING), "
        "latest AS (INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) "
        "SELECT run_uuid, %(key)s, %(value)s, %(nan)s, %(ts)s, %(step)s FROM run ",
        _LATEST_RULE,
        ") SELECT count(*) FROM run",
    )
)
INSERT_PARAMS = (
    "INSERT INTO params (run_uuid, key, value) SELECT %s, * FROM unnest(%s::text[], %s::text[]) "
    "ON CONFLICT DO NOTHING"
)
UPSERT_TAGS = (
    "INSERT INTO tags (run_uuid, key, value) SELECT %s, * FROM unnest(%s::text[], %s::text[]) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)
UPSERT_TAG = (
    "INSERT INTO tags (run_uuid, key, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)


def columns(rows: list[tuple]) -> list[list]:
    """Rows as one list per column (the arrays ``unnest`` takes)."""
    return [list(column) for column in zip(*rows, strict=True)]


def check_params_unchanged(
    conn: psycopg.Connection, run_id: str, rows: list[tuple[str, str]]
) -> None:
    new = dict(rows)
    for key, old in conn.execute(
        "SELECT key, value FROM params WHERE run_uuid = %s AND key = ANY(%s)", (run_id, list(new))
    ):
        if old != new[key]:
            raise InvalidValueError(
                f"param {key!r} of run {run_id} is already {old!r}; cannot change it to "
                f"{new[key]!r}",
                hint="params are immutable: log a new key or start a new run",
            )
