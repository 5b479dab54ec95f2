"""Numbered schema migrations for the SQLite store, recorded in the database itself.

``PRAGMA user_version`` is the fast check a connection makes on open; the table
``schema_migrations`` keeps what was applied and when. Applying happens inside one
``BEGIN IMMEDIATE`` transaction that re-reads the applied versions after taking the write
lock, so two processes opening a brand-new database at once never both apply a step.
Standard library only.
"""

from __future__ import annotations

import sqlite3
import time

from satchel.errors import StoreUnavailableError

__all__ = ["LATEST_VERSION", "MIGRATIONS", "applied_versions", "migrate"]

# (version, name, statements). Append only: never edit a step that has shipped.
MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "initial schema",
        (
            """CREATE TABLE experiments (
            experiment_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            artifact_location TEXT NOT NULL,
            lifecycle_stage TEXT NOT NULL DEFAULT 'active',
            creation_time INTEGER,
            last_update_time INTEGER)""",
            """CREATE TABLE experiment_tags (
            experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id)
                ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (experiment_id, key)) WITHOUT ROWID""",
            """CREATE TABLE runs (
            run_uuid TEXT PRIMARY KEY,
            experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
            name TEXT NOT NULL,
            user_id TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            start_time INTEGER NOT NULL,
            end_time INTEGER,
            artifact_uri TEXT NOT NULL,
            lifecycle_stage TEXT NOT NULL DEFAULT 'active',
            deleted_time INTEGER,
            heartbeat_time INTEGER,
            owner TEXT)""",
            # The default listing: one experiment, newest first.
            "CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC, run_uuid)",
            "CREATE INDEX runs_running ON runs (status) WHERE status = 'RUNNING'",
            """CREATE TABLE params (
            run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_uuid, key)) WITHOUT ROWID""",
            """CREATE TABLE tags (
            run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_uuid, key)) WITHOUT ROWID""",
            # Full history. value is NULL when is_nan (SQLite has no NaN; it would store NULL).
            """CREATE TABLE metrics (
            run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value REAL,
            is_nan INTEGER NOT NULL DEFAULT 0,
            timestamp INTEGER NOT NULL,
            step INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX metrics_history ON metrics (run_uuid, key, step, timestamp)",
            # Latest value per (run, key): what search, sort and get_run read.
            """CREATE TABLE latest_metrics (
            run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value REAL,
            is_nan INTEGER NOT NULL DEFAULT 0,
            timestamp INTEGER NOT NULL,
            step INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_uuid, key)) WITHOUT ROWID""",
            # Covering index for `metrics.k < x`: the filter never touches the table itself.
            "CREATE INDEX latest_metrics_by_value ON latest_metrics (key, value, run_uuid)",
            "CREATE INDEX params_by_value ON params (key, value, run_uuid)",
            "CREATE INDEX tags_by_value ON tags (key, value, run_uuid)",
        ),
    ),
    (
        2,
        "metric_log: one statement logs a metric and keeps its latest value",
        # The single-metric path is bound by per-statement cost: inserting into this view
        # writes the history row and upserts latest_metrics in one statement. Batches write
        # the tables directly and upsert only each key's newest row. MLflow's "latest": the
        # highest step, then the newest timestamp (later writes win ties).
        (
            """CREATE VIEW metric_log AS
            SELECT run_uuid, key, value, is_nan, timestamp, step FROM metrics""",
            """CREATE TRIGGER metric_log_insert INSTEAD OF INSERT ON metric_log BEGIN
            INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step)
            VALUES (NEW.run_uuid, NEW.key, NEW.value, NEW.is_nan, NEW.timestamp, NEW.step);
            INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)
            VALUES (NEW.run_uuid, NEW.key, NEW.value, NEW.is_nan, NEW.timestamp, NEW.step)
            ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value,
                is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
            WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step
                AND excluded.timestamp >= latest_metrics.timestamp);
            END""",
        ),
    ),
    (
        3,
        "metrics are idempotent: a replayed (run, key, step, timestamp, value) is stored once",
        # HTTP clients replay a request after a 5xx whose write may have landed (MLflow's
        # own metrics key is the same tuple). The unique index replaces metrics_history: it
        # starts with the same columns, so history reads keep their index.
        (
            """DELETE FROM metrics WHERE rowid NOT IN (SELECT min(rowid) FROM metrics
            GROUP BY run_uuid, key, step, timestamp, is_nan, value)""",
            "DROP INDEX metrics_history",
            """CREATE UNIQUE INDEX metrics_unique
            ON metrics (run_uuid, key, step, timestamp, is_nan, value)""",
            "DROP TRIGGER metric_log_insert",
            """CREATE TRIGGER metric_log_insert INSTEAD OF INSERT ON metric_log BEGIN
            INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step)
            VALUES (NEW.run_uuid, NEW.key, NEW.value, NEW.is_nan, NEW.timestamp, NEW.step);
            INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)
            VALUES (NEW.run_uuid, NEW.key, NEW.value, NEW.is_nan, NEW.timestamp, NEW.step)
            ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value,
                is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
            WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step
                AND excluded.timestamp >= latest_metrics.timestamp);
            END""",
        ),
    ),
    (
        4,
        "model registry: registered models, versions, aliases, append-only history",
        # Versions, tags and aliases hang off the model's integer id, so a rename is one
        # UPDATE. The history keeps the model id and the name at the time, and two triggers
        # make it append-only: nobody rewrites who changed what, not even through SQL.
        # logged_models: MLflow 3.x clients create one per log_model call.
        (
            """CREATE TABLE registered_models (
            model_key INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            creation_time INTEGER NOT NULL,
            last_update_time INTEGER NOT NULL,
            next_version INTEGER NOT NULL DEFAULT 1)""",
            """CREATE TABLE registered_model_tags (
            model_key INTEGER NOT NULL REFERENCES registered_models(model_key) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model_key, key)) WITHOUT ROWID""",
            """CREATE TABLE model_versions (
            model_key INTEGER NOT NULL REFERENCES registered_models(model_key) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            source TEXT NOT NULL,
            run_id TEXT,
            run_link TEXT,
            model_id TEXT,
            user_id TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'READY',
            description TEXT NOT NULL DEFAULT '',
            current_stage TEXT NOT NULL DEFAULT 'None',
            creation_time INTEGER NOT NULL,
            last_update_time INTEGER NOT NULL,
            PRIMARY KEY (model_key, version))""",
            "CREATE INDEX model_versions_by_run ON model_versions (run_id)",
            """CREATE TABLE model_version_tags (
            model_key INTEGER NOT NULL,
            version INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model_key, version, key),
            FOREIGN KEY (model_key, version) REFERENCES model_versions(model_key, version)
                ON DELETE CASCADE) WITHOUT ROWID""",
            """CREATE TABLE registered_model_aliases (
            model_key INTEGER NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (model_key, alias),
            FOREIGN KEY (model_key, version) REFERENCES model_versions(model_key, version)
                ON DELETE CASCADE) WITHOUT ROWID""",
            """CREATE TABLE registry_events (
            event_id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            user TEXT NOT NULL,
            model_key INTEGER NOT NULL,
            name TEXT NOT NULL,
            version INTEGER,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}')""",
            "CREATE INDEX registry_events_by_model ON registry_events (model_key, event_id)",
            """CREATE TRIGGER registry_events_no_update BEFORE UPDATE ON registry_events
            BEGIN SELECT RAISE(ABORT, 'the registry history is append-only'); END""",
            """CREATE TRIGGER registry_events_no_delete BEFORE DELETE ON registry_events
            BEGIN SELECT RAISE(ABORT, 'the registry history is append-only'); END""",
            """CREATE TABLE logged_models (
            model_id TEXT PRIMARY KEY,
            experiment_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            source_run_id TEXT,
            status TEXT NOT NULL,
            model_type TEXT,
            artifact_location TEXT NOT NULL,
            creation_time INTEGER NOT NULL,
            last_update_time INTEGER NOT NULL,
            lifecycle_stage TEXT NOT NULL DEFAULT 'active')""",
            "CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, name)",
            """CREATE TABLE logged_model_tags (
            model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model_id, key)) WITHOUT ROWID""",
            """CREATE TABLE logged_model_params (
            model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model_id, key)) WITHOUT ROWID""",
        ),
    ),
    (
        5,
        "run inputs: datasets logged with a run (MLflow's log_inputs)",
        (
            # one row per (run, dataset name, digest); ``input`` is MLflow's DatasetInput
            # JSON (the dataset and its tags, e.g. mlflow.data.context), kept as sent
            """CREATE TABLE run_inputs (
            run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
            name TEXT NOT NULL,
            digest TEXT NOT NULL,
            input TEXT NOT NULL,
            PRIMARY KEY (run_uuid, name, digest))""",
        ),
    ),
    (
        6,
        "metrics: a replayed NaN is stored once too",
        # A NaN point is stored with value NULL (is_nan set), and a unique index sees two
        # NULLs as different, so migration 3's key let a replayed NaN in twice. A partial
        # unique index over NaN points alone closes that (tiny: it holds NaN rows only, and
        # the covering metrics_unique stays as it is for history and chart reads).
        (
            """DELETE FROM metrics WHERE is_nan AND rowid NOT IN (SELECT min(rowid) FROM metrics
            WHERE is_nan GROUP BY run_uuid, key, step, timestamp)""",
            """CREATE UNIQUE INDEX metrics_nan_point
            ON metrics (run_uuid, key, step, timestamp) WHERE is_nan""",
        ),
    ),
    (
        7,
        "runs sorted by name, status or user walk an index",
        # The runs table sorts by these columns with MLflow's tie-break (start_time DESC,
        # run_uuid): with the tie-break in the index, a page of 100,000 runs is read in order
        # and the walk stops at the page's end, instead of sorting every run.
        tuple(
            f"CREATE INDEX runs_by_{column} ON runs "
            f"(experiment_id, {column}, start_time DESC, run_uuid)"
            for column in ("name", "status", "user_id")
        ),
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"""


def applied_versions(conn: sqlite3.Connection) -> set[int]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return set()
    return {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Bring the schema up to date; returns the versions applied now (usually none).

    ``conn`` must be in autocommit mode (isolation_level=None) with a busy timeout set.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > LATEST_VERSION:  # never "migrate" a newer schema down, nor use it blindly
        raise StoreUnavailableError(
            f"this store was written by a newer Satchel (schema {found} > {LATEST_VERSION}); "
            "upgrade Satchel to use it"
        )
    if found == LATEST_VERSION:
        return []
    conn.execute("BEGIN IMMEDIATE")  # waits (busy timeout) for any other migrating process
    try:
        done = applied_versions(conn)
        conn.execute(_LEDGER)
        applied = []
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (version, name, int(time.time() * 1000)),
            )
            applied.append(version)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied
