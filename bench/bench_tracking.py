"""Tracking benchmark: Satchel vs MLflow 3.x, both on a SQLite file store, in one go.

    python bench/bench_tracking.py            # installs MLflow into bench/.venvs/ on first use

Each tool runs in its own fresh subprocess (Satchel in this interpreter's environment, MLflow
in its own virtualenv) against a new ``sqlite:///`` database, and prints one JSON line.
Measures: import time (in-process, and ``python -c 'import ...'`` wall time including the
interpreter's start), 1,000 single ``log_metric`` calls through the fluent API (each one its
own committed transaction when it returns: WAL with synchronous=NORMAL, durable against a
crash of the process), one ``log_batch`` of 10,000 metrics, runs created with 3 params and 3
metrics each (fluent API), and ``search_runs("metrics.rmse < 0.5")`` (first page of 1,000,
the client default of both tools) over 10,000 runs, plus Satchel alone over 100,000 runs.
The MLflow search database is filled with plain SQL inserts into MLflow's own schema, since
creating 10,000 runs through its API takes minutes; the rows are the same for both tools.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import mlflow_python, report, run_python

IMPORT = """
import json, time
t = time.perf_counter()
import {module}
print(json.dumps({{"seconds": time.perf_counter() - t}}))
"""

SATCHEL = textwrap.dedent("""
    import json, sys, time
    import satchel
    from satchel import Client
    from satchel.tracking.entities import Metric
    out = {}
    satchel.set_tracking_uri(sys.argv[1])
    satchel.set_experiment("bench")
    with satchel.start_run():
        satchel.log_metric("warmup", 0.0)
        t = time.perf_counter()
        for i in range(1000):
            satchel.log_metric("m", float(i), step=i)
        out["single_per_s"] = 1000 / (time.perf_counter() - t)
    client = Client(sys.argv[1])
    exp = client.get_experiment_by_name("bench").experiment_id
    run = client.create_run(exp)
    ts = int(time.time() * 1000)
    batch = [Metric(f"m{i % 100}", float(i), ts, i // 100) for i in range(10000)]
    t = time.perf_counter()
    client.log_batch(run.info.run_id, metrics=batch)
    out["batch_per_s"] = 10000 / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(300):
        with satchel.start_run():
            satchel.log_params({"a": i, "b": "x", "c": 0.5})
            satchel.log_metrics({"x": i, "y": 0.5, "z": 1.0})
    out["runs_per_s"] = 300 / (time.perf_counter() - t)
    print(json.dumps(out))
""")

MLFLOW = textwrap.dedent("""
    import json, sys, time, logging
    logging.disable(logging.WARNING)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    out = {}
    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("bench")
    with mlflow.start_run():
        mlflow.log_metric("warmup", 0.0)
        t = time.perf_counter()
        for i in range(1000):
            mlflow.log_metric("m", float(i), step=i)
        out["single_per_s"] = 1000 / (time.perf_counter() - t)
    client = MlflowClient(sys.argv[1])
    exp = client.get_experiment_by_name("bench").experiment_id
    run = client.create_run(exp)
    ts = int(time.time() * 1000)
    batch = [Metric(f"m{i % 100}", float(i), ts, i // 100) for i in range(10000)]
    t = time.perf_counter()
    client.log_batch(run.info.run_id, metrics=batch)
    out["batch_per_s"] = 10000 / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(100):
        with mlflow.start_run():
            mlflow.log_params({"a": i, "b": "x", "c": 0.5})
            mlflow.log_metrics({"x": i, "y": 0.5, "z": 1.0})
    out["runs_per_s"] = 100 / (time.perf_counter() - t)
    print(json.dumps(out))
""")

SATCHEL_SEARCH = textwrap.dedent("""
    import json, statistics, sys, time
    from satchel.tracking.entities import Metric, Param
    from satchel.tracking.store.sqlite import SqliteStore
    db, n = sys.argv[1], int(sys.argv[2])
    store = SqliteStore(db, db + ".artifacts")
    exp = store.create_experiment("search")
    for i in range(n):
        run_id = store.create_run(exp, "u", 1_000_000 + i).info.run_id
        store.log_batch(run_id, metrics=[Metric("rmse", (i % 100) / 100, 1, 0)],
                        params=[Param("alpha", str(i % 7))])
    times, found = [], 0
    for _ in range(5):
        t = time.perf_counter()
        found = len(store.search_runs([exp], "metrics.rmse < 0.5", max_results=1000))
        times.append(time.perf_counter() - t)
    print(json.dumps({"seconds": statistics.median(times), "found": found}))
""")

MLFLOW_SEARCH = textwrap.dedent("""
    import json, logging, os, sqlite3, statistics, sys, time
    logging.disable(logging.WARNING)
    from mlflow import MlflowClient
    db, n = sys.argv[1], int(sys.argv[2])
    client = MlflowClient("sqlite:///" + db)
    exp = client.create_experiment("search")
    template = client.create_run(exp)  # the schema and one real row to copy defaults from
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, conn.execute("SELECT * FROM runs").fetchone()))
    conn.execute("DELETE FROM tags"); conn.execute("DELETE FROM runs")
    runs, metrics, params = [], [], []
    for i in range(n):
        rid = os.urandom(16).hex()
        r = dict(row, run_uuid=rid, name=f"run-{i}", start_time=1_000_000 + i,
                 status="FINISHED", artifact_uri=row["artifact_uri"].replace(
                     template.info.run_id, rid))
        runs.append(tuple(r[c] for c in cols))
        metrics.append(("rmse", (i % 100) / 100, 1, 0, 0, rid))
        params.append(("alpha", str(i % 7), rid))
    conn.executemany(f"INSERT INTO runs ({','.join(cols)}) VALUES "
                     f"({','.join('?' * len(cols))})", runs)
    conn.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) "
                     "VALUES (?,?,?,?,?,?)", metrics)
    conn.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, "
                     "run_uuid) VALUES (?,?,?,?,?,?)", metrics)
    conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
    conn.commit(); conn.close()
    times, found = [], 0
    for _ in range(5):
        t = time.perf_counter()
        found = len(client.search_runs([exp], "metrics.rmse < 0.5", max_results=1000))
        times.append(time.perf_counter() - t)
    print(json.dumps({"seconds": statistics.median(times), "found": found}))
""")


def import_seconds(python: str, module: str) -> float:
    code = IMPORT.format(module=module)
    return statistics.median(run_python(python, code)["seconds"] for _ in range(5))


def startup_seconds(python: str, module: str) -> float:
    """Wall time of ``python -c 'import module'``: what a user waits for, interpreter included."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([python, "-c", f"import {module}"], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    ours, theirs = sys.executable, str(mlflow_python())
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        t_ours, t_theirs = import_seconds(ours, "satchel"), import_seconds(theirs, "mlflow")
        w_ours, w_theirs = startup_seconds(ours, "satchel"), startup_seconds(theirs, "mlflow")
        report(
            "import (fresh subprocess, median of 5)",
            [
                ("import time", t_ours * 1000, t_theirs * 1000, "ms"),
                ("python -c 'import ...' wall time", w_ours * 1000, w_theirs * 1000, "ms"),
            ],
            higher_is_better=False,
        )

        s = run_python(ours, SATCHEL.replace("sys.argv[1]", repr(f"sqlite:///{base}/satchel.db")))
        m = run_python(theirs, MLFLOW.replace("sys.argv[1]", repr(f"sqlite:///{base}/ml.db")))
        report(
            "logging (fluent API, sqlite file store)",
            [
                (
                    "1,000 single log_metric calls",
                    s["single_per_s"],
                    m["single_per_s"],
                    "metrics/s",
                ),
                (
                    "one log_batch of 10,000 metrics",
                    s["batch_per_s"],
                    m["batch_per_s"],
                    "metrics/s",
                ),
                ("runs with 3 params + 3 metrics", s["runs_per_s"], m["runs_per_s"], "runs/s"),
            ],
            higher_is_better=True,
        )

        rows = []
        for n in (10_000,):
            s_search = _search(ours, SATCHEL_SEARCH, base / f"s{n}.db", n)
            m_search = _search(theirs, MLFLOW_SEARCH, base / f"m{n}.db", n)
            assert s_search["found"] == m_search["found"], (s_search, m_search)
            rows.append(
                (
                    f"search 'metrics.rmse < 0.5', {n:,} runs",
                    s_search["seconds"] * 1000,
                    m_search["seconds"] * 1000,
                    "ms",
                )
            )
        report("search_runs (first page of 1,000)", rows, higher_is_better=False)
        big = _search(ours, SATCHEL_SEARCH, base / "s100k.db", 100_000)
        print(
            f"\nsatchel alone, 100,000 runs: {big['seconds'] * 1000:.1f} ms "
            f"({big['found']} runs on the page)"
        )


def _search(python: str, code: str, db: Path, n: int) -> dict:
    return run_python(python, code.replace("sys.argv[1], int(sys.argv[2])", f"{str(db)!r}, {n}"))


if __name__ == "__main__":
    main()
