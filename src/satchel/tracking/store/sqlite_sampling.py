"""Reads for charts and pickers, as SQL over the SQLite schema (see ``tracking.sampling``).

- ``sampled_history``: per step bucket, the lowest, highest and last point, one statement;
  each bucket is an index range on ``metrics_history (run_uuid, key, step, ...)``, so the
  cost is one pass over the range, without sorting it and without loading it into Python.
- ``metric_ranges``: min, max and count of every metric of a run, grouped in index order.
- ``run_keys``: metric, param and tag keys of an experiment's newest runs (a column picker
  must not scan 100,000 runs to list a few dozen names).
- ``SampleCache``: a long history's whole-range sample (the chart's first draw) computed once
  and reused until the history grows (see the class).
Standard library only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence

from satchel.tracking.sampling import MetricRange, bucket_edges

__all__ = ["SampleCache", "metric_ranges", "run_keys", "sampled_history"]

# Two statements: SQLite answers a lone min() or max() with one index seek, both at once
# with a scan.
_FIRST = "SELECT min(step) FROM metrics WHERE run_uuid = ? AND key = ? AND step BETWEEN ? AND ?"
_LAST = "SELECT max(step) FROM metrics WHERE run_uuid = ? AND key = ? AND step BETWEEN ? AND ?"
_CAPPED_COUNT = (
    "SELECT count(*) FROM (SELECT 1 FROM metrics WHERE run_uuid = ? AND key = ? "
    "AND step BETWEEN ? AND ? LIMIT ?)"
)
_ALL = (
    "SELECT step, timestamp, value FROM metrics WHERE run_uuid = ? AND key = ? "
    "AND step BETWEEN ? AND ? ORDER BY step, timestamp"
)
# One row per bucket, the rowids of its lowest, highest and last points; each subquery reads
# one index range. With exactly one min()/max() aggregate SQLite takes the bare column (rowid)
# from that row. Values are then read by rowid, so they come back exactly as stored.
_BUCKETS = """
WITH e(lo, hi) AS (SELECT value, lead(value) OVER (ORDER BY key) FROM json_each(:edges))
SELECT
 (SELECT r FROM (SELECT rowid AS r, min(value) FROM metrics
   WHERE run_uuid = :run AND key = :key AND step >= e.lo AND step < e.hi AND value IS NOT NULL)),
 (SELECT r FROM (SELECT rowid AS r, max(value) FROM metrics
   WHERE run_uuid = :run AND key = :key AND step >= e.lo AND step < e.hi AND value IS NOT NULL)),
 (SELECT rowid FROM metrics
   WHERE run_uuid = :run AND key = :key AND step >= e.lo AND step < e.hi
   ORDER BY step DESC, timestamp DESC LIMIT 1)
FROM e WHERE e.hi IS NOT NULL
"""
_BY_ROWID = (
    "SELECT step, timestamp, value FROM metrics WHERE rowid IN (SELECT value FROM json_each(?)) "
    "ORDER BY step, timestamp"
)
_NO_BOUND = 1 << 62


def sampled_history(
    conn: sqlite3.Connection,
    run_id: str,
    key: str,
    lo: int | None,
    hi: int | None,
    buckets: int,
) -> tuple[list[tuple[int, int, float | None]], bool]:
    """(points, sampled) for the steps in [lo, hi] (None: unbounded)."""
    lo_arg = -_NO_BOUND if lo is None else lo
    hi_arg = _NO_BOUND if hi is None else hi
    cap = 3 * buckets + 1
    count = conn.execute(_CAPPED_COUNT, (run_id, key, lo_arg, hi_arg, cap)).fetchone()[0]
    if count < cap:
        rows = conn.execute(_ALL, (run_id, key, lo_arg, hi_arg)).fetchall()
        return [(int(s), int(t), v) for s, t, v in rows], False
    bounds = (run_id, key, lo_arg, hi_arg)
    first = conn.execute(_FIRST, bounds).fetchone()[0]
    last = conn.execute(_LAST, bounds).fetchone()[0]
    import json

    edges = json.dumps(bucket_edges(int(first), int(last), buckets))
    rows = conn.execute(_BUCKETS, {"edges": edges, "run": run_id, "key": key}).fetchall()
    ids = sorted({rowid for row in rows for rowid in row if rowid is not None})
    points = conn.execute(_BY_ROWID, (json.dumps(ids),)).fetchall()
    return [(int(s), int(t), v) for s, t, v in points], True


Points = list[tuple[int, int, float | None]]
_NEWEST = "SELECT max(rowid) FROM metrics"
# Rows written since, read by rowid (the table's order); ``+`` keeps SQLite off the
# (run, key) index, which would scan the whole history instead.
_GREW = (
    "SELECT 1 FROM metrics WHERE rowid > ? AND rowid <= ? AND +run_uuid = ? AND +key = ? LIMIT 1"
)


class SampleCache:
    """Whole-range samples of long histories, by (run, key, buckets), most recent 64.

    Sampling reads every point of a history (two passes over 1,000,000 index entries); a
    chart asks for the same whole range on every view. Metric rows are only ever added
    (writes are INSERT OR IGNORE; this store deletes no run), so each new row's rowid is
    above every rowid there was: a history is unchanged while none of its rows lies above
    the table's newest rowid at the time it was sampled (read in the same transaction).
    Checking that reads only the rows written since, by rowid; past ``max_scan`` of them,
    or should the newest rowid ever go down, the sample is computed again."""

    def __init__(self, size: int = 64, max_scan: int = 200_000) -> None:
        self._entries: OrderedDict[tuple[str, str, int], tuple[int, Points]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self._max_scan = max_scan

    def sampled(
        self, conn: sqlite3.Connection, run_id: str, key: str, buckets: int
    ) -> tuple[Points, bool]:
        """``sampled_history`` over the whole range, reused while the history is unchanged."""
        name = (run_id, key, buckets)
        newest = conn.execute(_NEWEST).fetchone()[0] or 0
        with self._lock:
            found = self._entries.get(name)
        if found is not None and self._unchanged(conn, run_id, key, found[0], newest):
            with self._lock:
                self._entries.move_to_end(name)
            return found[1], True
        points, sampled = sampled_history(conn, run_id, key, None, None, buckets)
        if sampled:  # short histories are cheap: not kept
            with self._lock:
                self._entries[name] = (newest, points)
                self._entries.move_to_end(name)
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return points, sampled

    def _unchanged(
        self, conn: sqlite3.Connection, run_id: str, key: str, top: int, newest: int
    ) -> bool:
        if not 0 <= newest - top <= self._max_scan:
            return False
        return conn.execute(_GREW, (top, newest, run_id, key)).fetchone() is None


def metric_ranges(conn: sqlite3.Connection, run_id: str) -> list[MetricRange]:
    rows = conn.execute(
        "SELECT key, min(value), max(value), count(*) FROM metrics WHERE run_uuid = ? "
        "GROUP BY key ORDER BY key",
        (run_id,),
    ).fetchall()
    return [MetricRange(k, lo, hi, int(n)) for k, lo, hi, n in rows]


def run_keys(
    conn: sqlite3.Connection, experiment_ids: Sequence[str], newest: int
) -> dict[str, list[str]]:
    ids = [int(e) for e in experiment_ids if str(e).isdigit()]
    marks = ",".join("?" * len(ids)) or "NULL"
    recent = (
        f"SELECT run_uuid FROM runs WHERE experiment_id IN ({marks}) "  # noqa: S608 - only ?s
        "AND lifecycle_stage = 'active' ORDER BY start_time DESC LIMIT ?"
    )
    out = {}
    for kind, table in (("metrics", "latest_metrics"), ("params", "params"), ("tags", "tags")):
        sql = f"SELECT DISTINCT key FROM {table} WHERE run_uuid IN ({recent}) ORDER BY key"  # noqa: S608
        out[kind] = [r[0] for r in conn.execute(sql, (*ids, newest)).fetchall()]
    return out
