"""The PostgreSQL side of ``db copy``: upserts keyed on each row's identity, so a chunk
written twice changes nothing, and the progress marker written in the chunk's transaction."""

from __future__ import annotations

import psycopg

from satchel.errors import InvalidValueError
from satchel.tracking.store.postgres_db import redact
from satchel.tracking.store.postgres_writes import columns

__all__ = [
    "finish",
    "progress_key",
    "read_progress",
    "refuse_name_clashes",
    "set_progress",
    "write_experiments",
    "write_runs",
]

_UPSERT_EXPERIMENTS = (
    "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
    "creation_time, last_update_time) "
    "SELECT * FROM unnest(%s::int8[], %s::text[], %s::text[], %s::text[], %s::int8[], %s::int8[]) "
    "ON CONFLICT (experiment_id) DO UPDATE SET name = excluded.name, "
    "artifact_location = excluded.artifact_location, lifecycle_stage = excluded.lifecycle_stage, "
    "creation_time = excluded.creation_time, last_update_time = excluded.last_update_time"
)
_UPSERT_EXPERIMENT_TAGS = (
    "INSERT INTO experiment_tags SELECT * FROM unnest(%s::int8[], %s::text[], %s::text[]) "
    "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value"
)
# Ids were handed out by the source; new experiments must come after the copied ones.
_RESYNC_IDS = (
    "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
    "(SELECT GREATEST(max(experiment_id), 1) FROM experiments))"
)
_UPSERT_RUNS = (
    "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
    "artifact_uri, lifecycle_stage, deleted_time, heartbeat_time, owner) "
    "SELECT * FROM unnest(%s::text[], %s::int8[], %s::text[], %s::text[], %s::text[], "
    "%s::int8[], %s::int8[], %s::text[], %s::text[], %s::int8[], %s::int8[], %s::text[]) "
    "ON CONFLICT (run_uuid) DO UPDATE SET experiment_id = excluded.experiment_id, "
    "name = excluded.name, user_id = excluded.user_id, status = excluded.status, "
    "start_time = excluded.start_time, end_time = excluded.end_time, "
    "artifact_uri = excluded.artifact_uri, lifecycle_stage = excluded.lifecycle_stage, "
    "deleted_time = excluded.deleted_time, heartbeat_time = excluded.heartbeat_time, "
    "owner = excluded.owner"
)
_UPSERT_PAIRS = (
    "INSERT INTO {table} (run_uuid, key, value) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)
_INSERT_METRICS = (
    "INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) SELECT * FROM "
    "unnest(%s::text[], %s::text[], %s::float8[], %s::bool[], %s::int8[], %s::int8[]) "
    "ON CONFLICT DO NOTHING"
)
_UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) SELECT * FROM "
    "unnest(%s::text[], %s::text[], %s::float8[], %s::bool[], %s::int8[], %s::int8[]) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET "
    "value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, "
    "step = excluded.step"
)
_UPSERT_INPUTS = (  # in the source's order of arrival (unnest keeps it), as reads list them
    "INSERT INTO run_inputs (run_uuid, name, digest, input) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
    "ON CONFLICT (run_uuid, name, digest) DO UPDATE SET input = excluded.input"
)
_SET_PROGRESS = (
    "INSERT INTO store_settings VALUES (%s, %s) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def progress_key(source_uri: str) -> str:
    return "copy_progress " + redact(source_uri)


def read_progress(conn: psycopg.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM store_settings WHERE key = %s", (key,)).fetchone()
    return str(row[0]) if row else None


def set_progress(conn: psycopg.Connection, key: str, last: str) -> None:
    conn.execute(_SET_PROGRESS, (key, last))


def refuse_name_clashes(
    conn: psycopg.Connection, rows: list[tuple], table: str, id_column: str, what: str
) -> None:
    """Rows are (id, name, ...): a name the destination gives another id means it is not
    this store's earlier copy."""
    for row_id, name, *_ in rows:
        clash = conn.execute(
            f"SELECT {id_column} FROM {table} WHERE name = %s AND {id_column} <> %s",  # noqa: S608
            (name, row_id),
        ).fetchone()
        if clash:
            raise InvalidValueError(
                f"the destination already has {what} {name!r} (id {clash[0]}, not {row_id})",
                hint="copy into a new, empty database",
            )


def write_experiments(conn: psycopg.Connection, rows: list[tuple], tags: list[tuple]) -> None:
    refuse_name_clashes(conn, rows, "experiments", "experiment_id", "an experiment")
    if rows:
        conn.execute(_UPSERT_EXPERIMENTS, columns(rows))
    if tags:
        conn.execute(_UPSERT_EXPERIMENT_TAGS, columns(tags))
    conn.execute(_RESYNC_IDS)


def _metric_rows(rows: list[tuple]) -> list[tuple]:
    # SQLite keeps is_nan as 0/1
    return [(run, key, value, bool(nan), ts, step) for run, key, value, nan, ts, step in rows]


def write_runs(
    conn: psycopg.Connection,
    runs: list[tuple],
    details: dict[str, list[tuple]],
    marker: str,
    last_run_id: str,
) -> None:
    conn.execute(_UPSERT_RUNS, columns(runs))
    for table in ("params", "tags"):
        if details[table]:
            conn.execute(_UPSERT_PAIRS.format(table=table), columns(details[table]))
    if details["metrics"]:
        conn.execute(_INSERT_METRICS, columns(_metric_rows(details["metrics"])))
    if details["latest"]:
        conn.execute(_UPSERT_LATEST, columns(_metric_rows(details["latest"])))
    if details["inputs"]:
        conn.execute(_UPSERT_INPUTS, columns(details["inputs"]))
    set_progress(conn, marker, last_run_id)


def finish(conn: psycopg.Connection, marker: str) -> None:
    """The copy is complete: the next one starts from the beginning (and changes nothing
    that is already there)."""
    conn.execute("DELETE FROM store_settings WHERE key = %s", (marker,))
    conn.execute(_RESYNC_IDS)
