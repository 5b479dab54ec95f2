"""The embedded tracking store: one SQLite file (``./satchel/satchel.db`` by default).

Every public method is one short transaction through ``Database`` (retries, WAL, a
connection per thread and process). Writes are batched with ``executemany``; the latest
value of each metric is kept in ``latest_metrics`` so search and sort never scan history.
Standard library only.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence

from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.tracking import validation as v
from satchel.tracking.entities import (
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from satchel.tracking.sampling import MetricRange, SampledHistory
from satchel.tracking.store import rules
from satchel.tracking.store import sqlite_reads as reads
from satchel.tracking.store import sqlite_writes as writes
from satchel.tracking.store.base import Store
from satchel.tracking.store.names import new_run_id
from satchel.tracking.store.rules import RUN_NAME_TAG
from satchel.tracking.store.sqlite_db import Database
from satchel.tracking.store.sqlite_logged_models import SqliteLoggedModels
from satchel.tracking.store.sqlite_registry import SqliteRegistry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from satchel.tracking.store.sqlite_sampling import SampleCache

__all__ = ["SqliteStore", "open_store"]

_UPSERT_TAG = (
    "INSERT INTO tags (run_uuid, key, value) VALUES (?,?,?) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)


def _now_ms() -> int:
    return int(time.time() * 1000)


_int_id = rules.experiment_int_id


def open_store(uri: str, create: bool, artifact_root: str | None) -> SqliteStore:
    """The registry's entry point (``satchel.tracking.store.STORES``)."""
    from satchel.errors import StoreUnavailableError
    from satchel.tracking.uri import artifact_root_for, sqlite_path

    path = sqlite_path(uri)
    if not create and not os.path.isfile(path):
        raise StoreUnavailableError(
            f"no tracking store at {path}", hint="run something first, or check --tracking-uri"
        )
    return SqliteStore(path, artifact_root or artifact_root_for(uri))


class SqliteStore(SqliteRegistry, SqliteLoggedModels, Store):
    def __init__(self, db_path: str, artifact_root: str) -> None:
        self.db_path = os.path.abspath(db_path)
        self.artifact_root = os.path.abspath(artifact_root)
        self.db = Database(self.db_path, on_create=self._ensure_default_experiment)
        self._samples: SampleCache | None = None  # made on the first chart read
        self.registry_db = self.db

    def __repr__(self) -> str:
        return f"SqliteStore({self.db_path!r})"

    def close(self) -> None:
        self.db.close()

    def _ensure_default_experiment(self, conn: sqlite3.Connection) -> None:
        if conn.execute("SELECT 1 FROM experiments WHERE experiment_id = 0").fetchone():
            return
        now = _now_ms()
        location = os.path.join(self.artifact_root, DEFAULT_EXPERIMENT_ID)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR IGNORE INTO experiments VALUES (0, ?, ?, 'active', ?, ?)",
                (DEFAULT_EXPERIMENT_NAME, location, now, now),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- experiments -------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        name = v.validate_experiment_name(name)
        tag_rows = [v.validate_tag(k, val) for k, val in (tags or {}).items()]

        def work(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT lifecycle_stage FROM experiments WHERE name = ?", (name,)
            ).fetchone()
            if row:
                state = " (deleted: restore it or pick another name)" if row[0] == "deleted" else ""
                raise AlreadyExistsError(
                    f"experiment {name!r} already exists{state}", hint="choose another name"
                )
            now = _now_ms()
            cur = conn.execute(
                "INSERT INTO experiments (name, artifact_location, creation_time, "
                "last_update_time) VALUES (?, '', ?, ?)",
                (name, now, now),
            )
            exp_id = str(cur.lastrowid)
            location = artifact_location or os.path.join(self.artifact_root, exp_id)
            conn.execute(
                "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                (location, int(exp_id)),
            )
            conn.executemany(
                "INSERT INTO experiment_tags VALUES (?, ?, ?)",
                [(int(exp_id), k, val) for k, val in tag_rows],
            )
            return exp_id

        return self.db.write(work)

    def get_experiment(self, experiment_id: str) -> Experiment:
        exp_id = _int_id(experiment_id)
        found = self.db.read(lambda conn: reads.experiments(conn, "experiment_id = ?", (exp_id,)))
        if not found:
            raise NotFoundError(
                f"experiment id {experiment_id!r} not found",
                hint="list experiments with 'satchel experiments list'",
            )
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = self.db.read(lambda conn: reads.experiments(conn, "name = ?", (name,)))
        return found[0] if found else None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        from satchel.tracking.store.sqlite_search import experiments_query

        query = experiments_query(view_type, max_results, filter_string, order_by, page_token)
        return self.db.read(lambda conn: reads.experiment_page(conn, query))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        exp_id = _int_id(experiment_id)
        new_name = v.validate_experiment_name(new_name)

        def work(conn: sqlite3.Connection) -> None:
            self._require_experiment(conn, exp_id, active=True)
            taken = conn.execute(
                "SELECT experiment_id FROM experiments WHERE name = ?", (new_name,)
            ).fetchone()
            if taken and taken[0] != exp_id:
                raise AlreadyExistsError(
                    f"experiment {new_name!r} already exists", hint="choose another name"
                )
            conn.execute(
                "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                (new_name, _now_ms(), exp_id),
            )

        self.db.write(work)

    def delete_experiment(self, experiment_id: str) -> None:
        exp_id = _int_id(experiment_id)
        if exp_id == 0:
            raise InvalidValueError(
                "the default experiment '0' cannot be deleted", hint="delete its runs instead"
            )
        self._set_experiment_stage(exp_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(_int_id(experiment_id), LifecycleStage.ACTIVE)

    def _set_experiment_stage(self, exp_id: int, stage: LifecycleStage) -> None:
        # Like MLflow, the experiment's runs follow it into (and out of) the bin.
        def work(conn: sqlite3.Connection) -> None:
            current = self._require_experiment(conn, exp_id)
            if current == stage.value:
                raise InvalidValueError(
                    f"experiment id '{exp_id}' is already {stage.value}", hint="nothing to do"
                )
            now = _now_ms()
            deleted_time = now if stage is LifecycleStage.DELETED else None
            conn.execute(
                "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? "
                "WHERE experiment_id = ?",
                (stage.value, now, exp_id),
            )
            conn.execute(
                "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?",
                (stage.value, deleted_time, exp_id),
            )

        self.db.write(work)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        exp_id = _int_id(experiment_id)
        key, value = v.validate_tag(key, value)

        def work(conn: sqlite3.Connection) -> None:
            self._require_experiment(conn, exp_id, active=True)
            conn.execute(
                "INSERT INTO experiment_tags VALUES (?, ?, ?) ON CONFLICT "
                "(experiment_id, key) DO UPDATE SET value = excluded.value",
                (exp_id, key, value),
            )

        self.db.write(work)

    @staticmethod
    def _require_experiment(conn: sqlite3.Connection, exp_id: int, active: bool = False) -> str:
        row = conn.execute(
            "SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?", (exp_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"experiment id '{exp_id}' not found",
                hint="list experiments with 'satchel experiments list'",
            )
        if active and row[0] != "active":
            raise InvalidValueError(
                f"experiment id '{exp_id}' is deleted",
                hint=f"restore it: satchel experiments restore {exp_id}",
            )
        return str(row[0])

    # -- runs --------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        status: RunStatus = RunStatus.RUNNING,
    ) -> Run:
        exp_id = _int_id(experiment_id)
        name, tag_map = rules.run_name_and_tags(tags, run_name)
        status = RunStatus(status)
        run_id = new_run_id()

        def work(conn: sqlite3.Connection) -> str:
            self._require_experiment(conn, exp_id, active=True)
            location = conn.execute(
                "SELECT artifact_location FROM experiments WHERE experiment_id = ?", (exp_id,)
            ).fetchone()[0]
            uri = rules.run_artifact_uri(location, run_id)
            conn.execute(
                "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
                "artifact_uri) VALUES (?,?,?,?,?,?,?)",
                (run_id, exp_id, name, user_id or "", status.value, int(start_time), uri),
            )
            conn.executemany(
                "INSERT INTO tags VALUES (?,?,?)", [(run_id, k, val) for k, val in tag_map.items()]
            )
            return uri

        uri = self.db.write(work)
        info = RunInfo(run_id, str(exp_id), name, user_id or "", status, int(start_time), None, uri)
        return Run(info, RunData(tags=tag_map))

    def get_run(self, run_id: str) -> Run:
        runs = self.db.read(lambda conn: reads.runs_by_ids(conn, [run_id]))
        if not runs:
            raise NotFoundError(
                f"run {run_id!r} not found", hint="list runs with 'satchel runs list'"
            )
        return runs[0]

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        status = RunStatus(status) if status is not None else None
        if run_name is not None:
            v.validate_tag(RUN_NAME_TAG, run_name)

        def work(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id)
            if status is not None:
                conn.execute(
                    "UPDATE runs SET status = ? WHERE run_uuid = ?", (status.value, run_id)
                )
            if end_time is not None:
                conn.execute(
                    "UPDATE runs SET end_time = ? WHERE run_uuid = ?", (int(end_time), run_id)
                )
            if run_name:
                self._rename_run(conn, run_id, run_name)

        self.db.write(work)
        return self.get_run(run_id).info

    @staticmethod
    def _rename_run(conn: sqlite3.Connection, run_id: str, name: str) -> None:
        conn.execute("UPDATE runs SET name = ? WHERE run_uuid = ?", (name, run_id))
        conn.execute(_UPSERT_TAG, (run_id, RUN_NAME_TAG, name))

    def set_terminated_if_running(self, run_id: str, status: RunStatus, end_time: int) -> bool:
        status = RunStatus(status)

        def work(conn: sqlite3.Connection) -> bool:
            self._require_run(conn, run_id)
            cur = conn.execute(
                "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ? AND status NOT IN "
                "('FINISHED', 'FAILED', 'KILLED')",
                (status.value, int(end_time), run_id),
            )
            return cur.rowcount > 0

        return self.db.write(work)

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED, _now_ms())

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE, None)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage, when: int | None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?",
                (stage.value, when, run_id),
            )

        self.db.write(work)

    @staticmethod
    def _require_run(conn: sqlite3.Connection, run_id: str, active: bool = False) -> None:
        row = conn.execute(
            "SELECT lifecycle_stage FROM runs WHERE run_uuid = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"run {run_id!r} not found", hint="list runs with 'satchel runs list'"
            )
        if active and row[0] != "active":
            raise InvalidValueError(
                f"run {run_id!r} is deleted",
                hint=f"restore it first: satchel runs restore {run_id}",
            )

    # -- logging -----------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        metric_rows = []
        for m in metrics:
            key, value, timestamp, step = writes.checked_metric(m)
            nan = value != value  # NaN is the only float unequal to itself
            metric_rows.append((run_id, key, None if nan else value, nan, timestamp, step))
        param_rows = writes.unique_params([v.validate_param(p.key, p.value) for p in params])
        tag_rows = [(run_id, *v.validate_tag(t.key, t.value)) for t in tags]

        def work(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id, active=True)
            if param_rows:
                writes.check_params_unchanged(conn, run_id, param_rows)
                conn.executemany(
                    "INSERT OR IGNORE INTO params VALUES (?,?,?)",
                    [(run_id, k, val) for k, val in param_rows],
                )
            if metric_rows:
                conn.executemany(writes.INSERT_METRIC, metric_rows)
                conn.executemany(writes.UPSERT_LATEST, writes.latest_rows(metric_rows))
            if tag_rows:
                conn.executemany(_UPSERT_TAG, tag_rows)
                for _, key, value in tag_rows:
                    if key == RUN_NAME_TAG:
                        conn.execute("UPDATE runs SET name = ? WHERE run_uuid = ?", (value, run_id))

        self.db.write(work)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        key, value, timestamp, step = writes.checked_metric(metric)
        nan = value != value  # NaN is the only float unequal to itself
        row = (key, None if nan else value, nan, timestamp, step, run_id)
        if not self.db.write_one(writes.LOG_METRIC_IF_ACTIVE, row):
            # nothing changed: a missing or deleted run (raises), or a replayed metric
            self.db.read(lambda conn: self._require_run(conn, run_id, active=True))

    def delete_tag(self, run_id: str, key: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id, active=True)
            cur = conn.execute("DELETE FROM tags WHERE run_uuid = ? AND key = ?", (run_id, key))
            if cur.rowcount == 0:
                raise NotFoundError(
                    f"run {run_id!r} has no tag {key!r}",
                    hint="see its tags with 'satchel runs show'",
                )

        self.db.write(work)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        exp_id = _int_id(experiment_id)

        def work(conn: sqlite3.Connection) -> None:
            self._require_experiment(conn, exp_id, active=True)
            cur = conn.execute(
                "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?", (exp_id, key)
            )
            if cur.rowcount == 0:
                raise NotFoundError(
                    f"experiment id '{exp_id}' has no tag {key!r}",
                    hint="list experiments with 'satchel experiments list -o json'",
                )

        self.db.write(work)

    def log_inputs(self, run_id: str, datasets: Sequence[dict[str, Any]]) -> None:
        rows = [(run_id, *writes.checked_input(d)) for d in datasets]

        def work(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id, active=True)
            conn.executemany(
                "INSERT INTO run_inputs VALUES (?,?,?,?) ON CONFLICT (run_uuid, name, digest) "
                "DO UPDATE SET input = excluded.input",
                rows,
            )

        self.db.write(work)

    def get_run_inputs(self, run_id: str) -> list[dict[str, Any]]:
        def work(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            self._require_run(conn, run_id)
            return reads.run_inputs(conn, run_id)

        return self.db.read(work)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        def work(conn: sqlite3.Connection) -> list[Metric]:
            self._require_run(conn, run_id)
            return reads.metric_history(conn, run_id, key)

        return self.db.read(work)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        from satchel.tracking.store.sqlite_reads import SqlQuery
        from satchel.tracking.store.sqlite_search import page_rows, runs_query

        ids = [str(e) for e in experiment_ids]

        def work(conn: sqlite3.Connection) -> PagedList[Run]:
            def few(sql: str, args: Sequence[object], cap: int) -> bool:
                probe = f"SELECT count(*) FROM ({sql} LIMIT ?)"  # noqa: S608 - built SQL
                return int(conn.execute(probe, (*args, cap)).fetchone()[0]) < cap

            def build(present_first: bool) -> SqlQuery:
                return runs_query(
                    ids,
                    filter_string,
                    run_view_type,
                    max_results,
                    order_by,
                    page_token,
                    few,
                    present_first=present_first,
                )

            def fetch(query: SqlQuery) -> list[tuple]:
                return conn.execute(query.sql, query.args).fetchall()

            # deep pages (past ~2,000 rows) sort instead: at 5% selectivity a walk to
            # there reads ~40,000 index entries, what sorting 100,000 runs costs
            return reads.page_of(conn, *page_rows(build, fetch, order_by, max_walk=2000))

        return self.db.read(work)

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        # a range on the primary key (an index seek), not LIKE (which SQLite cannot index
        # case-sensitively); run ids are lowercase hex, so prefix + "g" bounds the range
        def work(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT run_uuid FROM runs WHERE run_uuid >= ? AND run_uuid < ? "
                "ORDER BY run_uuid LIMIT ?",
                (prefix, prefix + "g", int(limit)),
            ).fetchall()
            return [r[0] for r in rows]

        return self.db.read(work)

    def move_run(self, run_id: str, experiment_id: str) -> None:
        exp_id = _int_id(experiment_id)

        def work(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id, active=True)
            self._require_experiment(conn, exp_id, active=True)
            conn.execute("UPDATE runs SET experiment_id = ? WHERE run_uuid = ?", (exp_id, run_id))

        self.db.write(work)

    # -- reads for charts and pickers (tracking.sampling) --------------------------------
    def sampled_metric_history(
        self, run_id: str, key: str, lo: int | None, hi: int | None, buckets: int
    ) -> SampledHistory:
        from satchel.tracking.store import sqlite_sampling

        if self._samples is None:
            self._samples = sqlite_sampling.SampleCache()
        cache = self._samples

        def work(conn: sqlite3.Connection) -> SampledHistory:
            self._require_run(conn, run_id)
            if lo is None and hi is None:  # a chart's first draw: the same every view
                points, sampled = cache.sampled(conn, run_id, key, buckets)
            else:
                points, sampled = sqlite_sampling.sampled_history(
                    conn, run_id, key, lo, hi, buckets
                )
            return SampledHistory(run_id, key, points, sampled)

        return self.db.read(work)

    def metric_ranges(self, run_id: str) -> list[MetricRange]:
        from satchel.tracking.store import sqlite_sampling

        def work(conn: sqlite3.Connection) -> list[MetricRange]:
            self._require_run(conn, run_id)
            return sqlite_sampling.metric_ranges(conn, run_id)

        return self.db.read(work)

    def run_keys(self, experiment_ids: Sequence[str], newest: int = 2000) -> dict[str, list[str]]:
        from satchel.tracking.store import sqlite_sampling

        return self.db.read(lambda conn: sqlite_sampling.run_keys(conn, experiment_ids, newest))

    # -- liveness ----------------------------------------------------------------------
    def heartbeat(self, run_id: str, owner: str | None = None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE runs SET heartbeat_time = ?, owner = COALESCE(?, owner) WHERE run_uuid = ?",
                (_now_ms(), owner, run_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(
                    f"run {run_id!r} not found", hint="list runs with 'satchel runs list'"
                )

        self.db.write(work)

    def running_owners(self) -> list[tuple[str, str, int | None]]:
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT run_uuid, owner, heartbeat_time FROM runs "
                "WHERE status = 'RUNNING' AND owner IS NOT NULL"
            ).fetchall()
        )
        return [(run_id, owner, beat) for run_id, owner, beat in rows]
