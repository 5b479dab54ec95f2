"""Rows → records for the SQLite store: runs (in bulk), experiments, metric history, pages.

A page of runs costs two queries per 500 runs (the runs, then their params, tags and latest
metrics in one UNION), never one query per run. Standard library only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from satchel.tracking.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)

__all__ = [
    "SqlQuery",
    "assemble_experiments",
    "assemble_runs",
    "experiment_page",
    "experiments",
    "metric_history",
    "next_token",
    "page_of",
    "run_inputs",
    "run_page",
    "runs_by_ids",
]

RUN_COLUMNS = (
    "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, "
    "r.end_time, r.artifact_uri, r.lifecycle_stage"
)
EXPERIMENT_COLUMNS = (
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, "
    "e.creation_time, e.last_update_time"
)
_CHUNK = 500  # below SQLite's oldest host-parameter limit (999)
_STATUS = {s.value: s for s in RunStatus}
_STAGE = {s.value: s for s in LifecycleStage}
_NAN = float("nan")


class SqlQuery:
    """A parameterised SELECT of ``limit`` rows from ``offset``; built by the search module.

    (A plain class: ``dataclasses`` would cost ~8 ms of imports on every project's first log.)"""

    __slots__ = ("args", "limit", "offset", "sql")

    def __init__(self, sql: str, args: tuple[object, ...], offset: int, limit: int) -> None:
        self.sql = sql
        self.args = args
        self.offset = offset
        self.limit = limit


def next_token(query: SqlQuery, fetched: int) -> str | None:
    from satchel.tracking.search import encode_page_token

    return encode_page_token(query.offset + query.limit) if fetched > query.limit else None


def run_page(conn: sqlite3.Connection, query: SqlQuery) -> PagedList[Run]:
    rows = conn.execute(query.sql, query.args).fetchall()  # fetches limit + 1 rows
    return page_of(conn, query, rows)


def page_of(conn: sqlite3.Connection, query: SqlQuery, rows: list[tuple]) -> PagedList[Run]:
    return PagedList(build_runs(conn, rows[: query.limit]), next_token(query, len(rows)))


def runs_by_ids(conn: sqlite3.Connection, run_ids: Sequence[str]) -> list[Run]:
    rows = []
    for chunk in _chunks(list(run_ids)):
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(
            f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_uuid IN ({marks})",  # noqa: S608
            chunk,
        ).fetchall()
    return build_runs(conn, rows)


def build_runs(conn: sqlite3.Connection, rows: list[tuple]) -> list[Run]:
    def details() -> Iterator[tuple]:
        for chunk in _chunks([row[0] for row in rows]):
            # One statement for all three tables; numbered parameters bind the chunk once.
            marks = ",".join(f"?{n}" for n in range(1, len(chunk) + 1))
            yield from conn.execute(_DETAILS.format(marks=marks), chunk)

    return assemble_runs(rows, details())


def assemble_runs(rows: list[tuple], details: Iterable[tuple]) -> list[Run]:
    """Runs from their ``RUN_COLUMNS`` rows and ``(kind, run_id, key, value, is_nan)`` detail
    rows (kind 0 param, 1 tag, 2 latest metric); shared by every SQL store."""
    ids = [row[0] for row in rows]
    params: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    metrics: dict[str, dict[str, float]] = {run_id: {} for run_id in ids}
    targets: tuple[dict[str, dict], ...] = (params, tags, metrics)  # by the query's kind
    for kind, run_id, key, value, nan in details:
        targets[kind][run_id][key] = _NAN if nan else value
    status, stage, new, set_state = _STATUS, _STAGE, object.__new__, _set_state
    runs = []
    for run_id, exp_id, name, user, state, start, end, uri, life in rows:
        # Records built in one step each: a page of 1,000 runs is 3,000 of them.
        info = new(RunInfo)
        set_state(
            info,
            "__dict__",
            {
                "run_id": run_id,
                "experiment_id": str(exp_id),
                "run_name": name,
                "user_id": user,
                "status": status[state],
                "start_time": start,
                "end_time": end,
                "artifact_uri": uri,
                "lifecycle_stage": stage[life],
            },
        )
        data = new(RunData)
        set_state(
            data,
            "__dict__",
            {"metrics": metrics[run_id], "params": params[run_id], "tags": tags[run_id]},
        )
        run = new(Run)
        set_state(run, "__dict__", {"info": info, "data": data})
        runs.append(run)
    return runs


_DETAILS = (
    "SELECT 0, run_uuid, key, value, 0 FROM params WHERE run_uuid IN ({marks}) UNION ALL "
    "SELECT 1, run_uuid, key, value, 0 FROM tags WHERE run_uuid IN ({marks}) UNION ALL "
    "SELECT 2, run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN ({marks})"
)
# Sets a record's whole state at once, past its frozen __setattr__ (see entities).
_set_state = object.__setattr__


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def metric_history(conn: sqlite3.Connection, run_id: str, key: str) -> list[Metric]:
    rows = conn.execute(
        "SELECT key, value, is_nan, timestamp, step FROM metrics "
        "WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, rowid",
        (run_id, key),
    )
    return [Metric(k, _NAN if nan else value, ts, step) for k, value, nan, ts, step in rows]


def run_inputs(conn: sqlite3.Connection, run_id: str) -> list[dict]:
    import json

    rows = conn.execute(
        "SELECT input FROM run_inputs WHERE run_uuid = ? ORDER BY rowid", (run_id,)
    ).fetchall()
    return [json.loads(text) for (text,) in rows]


def experiments(conn: sqlite3.Connection, where: str, args: tuple) -> list[Experiment]:
    rows = conn.execute(
        f"SELECT {EXPERIMENT_COLUMNS} FROM experiments e WHERE {where}",  # noqa: S608
        args,
    ).fetchall()
    return build_experiments(conn, rows)


def experiment_page(conn: sqlite3.Connection, query: SqlQuery) -> PagedList[Experiment]:
    rows = conn.execute(query.sql, query.args).fetchall()
    return PagedList(build_experiments(conn, rows[: query.limit]), next_token(query, len(rows)))


def build_experiments(conn: sqlite3.Connection, rows: list[tuple]) -> list[Experiment]:
    def tag_rows() -> Iterator[tuple]:
        ids = [row[0] for row in rows]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            yield from conn.execute(
                f"SELECT experiment_id, key, value FROM experiment_tags "  # noqa: S608
                f"WHERE experiment_id IN ({marks})",
                chunk,
            )

    return assemble_experiments(rows, tag_rows())


def assemble_experiments(rows: list[tuple], tag_rows: Iterable[tuple]) -> list[Experiment]:
    """Experiments from their ``EXPERIMENT_COLUMNS`` rows and ``(id, key, value)`` tag rows."""
    tags: dict[int, dict[str, str]] = {}
    for exp_id, key, value in tag_rows:
        tags.setdefault(exp_id, {})[key] = value
    return [
        Experiment(
            str(exp_id), name, location, _STAGE[stage], tags.get(exp_id, {}), created, updated
        )
        for exp_id, name, location, stage, created, updated in rows
    ]
