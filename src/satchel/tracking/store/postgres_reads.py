"""Rows → records for the PostgreSQL store: runs in bulk, experiments, metric history, pages.

A page of runs costs three queries whatever its size (the runs; their params and tags; their
latest metrics), each binding the page's ids once as an array. Records are assembled by the
same code as the SQLite store's.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from satchel.tracking.entities import Experiment, Metric, PagedList, Run
from satchel.tracking.store.sqlite_reads import (
    EXPERIMENT_COLUMNS,
    RUN_COLUMNS,
    SqlQuery,
    assemble_experiments,
    assemble_runs,
    next_token,
)

__all__ = [
    "experiment_page",
    "experiments",
    "metric_history",
    "page_of",
    "runs_by_ids",
]

_NAN = float("nan")
# Ordered by key, as SQLite's tables (clustered on (run_uuid, key)) return them, so a run's
# params, tags and metrics list in the same order from either store.
_PARAMS_AND_TAGS = (
    "SELECT 0, run_uuid, key, value, false FROM params WHERE run_uuid = ANY(%s) UNION ALL "
    "SELECT 1, run_uuid, key, value, false FROM tags WHERE run_uuid = ANY(%s) "
    "ORDER BY 1, 3"
)
_METRICS = (
    "SELECT 2, run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid = ANY(%s) "
    "ORDER BY key"
)


def build_runs(conn: psycopg.Connection, rows: list[tuple]) -> list[Run]:
    if not rows:
        return []
    ids = [row[0] for row in rows]
    details = conn.execute(_PARAMS_AND_TAGS, (ids, ids)).fetchall()
    details += conn.execute(_METRICS, (ids,)).fetchall()
    return assemble_runs(rows, details)


def page_of(conn: psycopg.Connection, query: SqlQuery, rows: list[tuple]) -> PagedList[Run]:
    return PagedList(build_runs(conn, rows[: query.limit]), next_token(query, len(rows)))


def runs_by_ids(conn: psycopg.Connection, run_ids: Sequence[str]) -> list[Run]:
    rows = conn.execute(
        f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_uuid = ANY(%s)",  # noqa: S608
        (list(run_ids),),
    ).fetchall()
    return build_runs(conn, rows)


def metric_history(conn: psycopg.Connection, run_id: str, key: str) -> list[Metric]:
    rows = conn.execute(
        "SELECT key, value, is_nan, timestamp, step FROM metrics "
        "WHERE run_uuid = %s AND key = %s ORDER BY step, timestamp, seq",
        (run_id, key),
    )
    return [Metric(k, _NAN if nan else value, ts, step) for k, value, nan, ts, step in rows]


def _build_experiments(conn: psycopg.Connection, rows: list[tuple]) -> list[Experiment]:
    tag_rows = conn.execute(
        "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id = ANY(%s) "
        "ORDER BY key",
        ([row[0] for row in rows],),
    ).fetchall()
    return assemble_experiments(rows, tag_rows)


def experiments(conn: psycopg.Connection, where: str, args: tuple) -> list[Experiment]:
    """``where`` is one of the store's fixed conditions (``%s`` placeholders only)."""
    rows = conn.execute(
        f"SELECT {EXPERIMENT_COLUMNS} FROM experiments e WHERE {where}",  # noqa: S608
        args,
    ).fetchall()
    return _build_experiments(conn, rows)


def experiment_page(conn: psycopg.Connection, query: SqlQuery) -> PagedList[Experiment]:
    rows = conn.execute(query.sql, query.args).fetchall()
    page = _build_experiments(conn, rows[: query.limit])
    return PagedList(page, next_token(query, len(rows)))
