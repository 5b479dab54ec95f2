"""Web UI benchmark: the runs page's data and a 1,000,000-point chart, beside MLflow's server.

    python bench/bench_ui.py                 # SATCHEL_TEST_MLFLOW_PYTHON, else bench/.venvs
    python bench/bench_ui.py --sizes 10000   # fewer runs
    python bench/bench_ui.py --cache ~/.cache/satchel-bench-ui   # build the fixtures once
    python bench/bench_ui.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Both stores hold the same rows (written with plain SQL into each tool's own schema: creating
100,000 runs through either API takes minutes): N runs in one experiment, each with params
alpha and l1_ratio, metrics rmse and r2, three tags.
- Runs page: ``satchel ui``'s JSON twin of the runs table (filter
  ``metrics.rmse < 0.5 and params.alpha = '0.3'``, order ``metrics.rmse ASC``, 3 columns, a
  page of 100) against ``mlflow server``'s ``runs/search`` with the same filter, order and
  page size (what MLflow's runs table calls). Server time = HTTP request to response on
  loopback; the first request and the median of 5 after it. With ``--postgres``, the same
  runs in a PostgreSQL store too (``satchel ui --tracking-uri postgresql://...``). With
  ``--cache``, a fixture left alone a while may have left the OS page cache: its first
  request then also reads the database from disk.
- Chart: a run with 1,000,000 points of one metric (a spike included). Satchel: time from
  navigation to the first drawn chart on the run page in Chromium (``SATCHEL_TEST_CHROMIUM``),
  cold (a fresh server and browser: nothing cached) and warm (the page opened again, median
  of 3: the browser's scripts and the server's whole-range sample are reused), and the
  downsampled history request alone (first: computed; median of 5 after: reused); the same
  for a 1,000-point run. MLflow: its UI's history request (``get-history-bulk-interval``, 320
  points) on the same data; MLflow's browser time is not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import mlflow_python, report

FILTER = "metrics.rmse < 0.5 and params.alpha = '0.3'"
ORDER = "metrics.rmse ASC"
PAGE = 100
CHART_POINTS = 1_000_000
WARM_VIEWS = 3


def rows(n: int) -> list[dict[str, Any]]:
    rng = random.Random(42)  # the same runs every time: cached fixtures stay comparable
    return [
        {
            "run_id": f"{rng.getrandbits(128):032x}",
            "name": f"run-{i}",
            "start": 1_700_000_000_000 + i * 1000,
            "alpha": str(round(i % 10 / 10, 1)),
            "l1": str(round(i % 7 / 7, 3)),
            "rmse": rng.random(),
            "r2": rng.random(),
        }
        for i in range(n)
    ]


def satchel_tables(data: list[dict[str, Any]], exp: str, art: str) -> dict[str, list[tuple]]:
    """Satchel's schema (the same on SQLite and PostgreSQL): table -> rows, in column order
    (``TABLE_COLUMNS``)."""
    metric_rows = [
        (r["run_id"], k, r[k], False, r["start"], 0) for r in data for k in ("rmse", "r2")
    ]
    return {
        "runs": [
            (
                r["run_id"],
                int(exp),
                r["name"],
                "bench",
                "FINISHED",
                r["start"],
                r["start"] + 5,
                f"{art}/{r['run_id']}/artifacts",
            )
            for r in data
        ],
        "params": [
            (r["run_id"], k, r[f])
            for r in data
            for k, f in (("alpha", "alpha"), ("l1_ratio", "l1"))
        ],
        "metrics": metric_rows,
        "latest_metrics": metric_rows,
        "tags": [
            (r["run_id"], k, v)
            for r in data
            for k, v in (
                ("mlflow.runName", r["name"]),
                ("mlflow.user", "bench"),
                ("mlflow.source.name", "train.py"),
            )
        ],
    }


TABLE_COLUMNS = {
    "runs": "run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri",
    "params": "run_uuid, key, value",
    "metrics": "run_uuid, key, value, is_nan, timestamp, step",
    "latest_metrics": "run_uuid, key, value, is_nan, timestamp, step",
    "tags": "run_uuid, key, value",
}


def fill_satchel(store_dir: Path, data: list[dict[str, Any]]) -> tuple[str, str]:
    from satchel.tracking.client import Client

    uri = f"sqlite:///{store_dir / 'satchel.db'}"
    exp = Client(uri).create_experiment("bench")
    conn = sqlite3.connect(store_dir / "satchel.db")
    art = f"file://{store_dir / 'artifacts' / exp}"
    for table, values in satchel_tables(data, exp, art).items():
        columns = TABLE_COLUMNS[table]
        marks = ",".join("?" * len(columns.split(",")))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
    conn.commit()
    conn.close()
    return uri, exp


def fill_postgres(server_uri: str, data: list[dict[str, Any]]) -> tuple[str, str]:
    """A fresh database ``bench_ui_N`` on that server (dropped after timing), through
    Satchel's migrations, then COPY; ANALYZEd, as a team server's database is."""
    import psycopg

    from satchel.tracking.client import Client

    name = f"bench_ui_{len(data)}"
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    uri = server_uri.rpartition("/")[0] + "/" + name
    exp = Client(uri).create_experiment("bench")
    with psycopg.connect(uri) as conn:
        for table, values in satchel_tables(data, exp, "mlflow-artifacts:/bench").items():
            with conn.cursor().copy(f"COPY {table} ({TABLE_COLUMNS[table]}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    return uri, exp


def drop_postgres(server_uri: str, n: int) -> None:
    import psycopg

    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS bench_ui_{n} WITH (FORCE)")


def cached(cache: Path | None, base: Path, name: str, build: Any) -> Any:
    """``build(directory)`` once per cache directory (``--cache``): its JSON answer is kept
    beside what it wrote; without a cache, a fresh directory under ``base``."""
    folder = (cache or base) / name
    done = folder / "fixture.json"
    if cache is not None and done.exists():
        return json.loads(done.read_text())
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    answer = build(folder)
    done.write_text(json.dumps(answer))
    return answer


MLFLOW_FILL = """
import json, logging, sqlite3, sys
logging.disable(logging.WARNING)
from mlflow import MlflowClient
db, rows_file = sys.argv[1], sys.argv[2]
data = json.load(open(rows_file))
client = MlflowClient("sqlite:///" + db)
exp = client.create_experiment("bench")
template = client.create_run(exp)
conn = sqlite3.connect(db)
cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
row = dict(zip(cols, conn.execute("SELECT * FROM runs").fetchone()))
conn.execute("DELETE FROM tags"); conn.execute("DELETE FROM runs")
runs = []
for r in data:
    d = dict(row, run_uuid=r["run_id"], name=r["name"], start_time=r["start"],
             end_time=r["start"] + 5, status="FINISHED", user_id="bench",
             artifact_uri=row["artifact_uri"].replace(template.info.run_id, r["run_id"]))
    runs.append(tuple(d[c] for c in cols))
conn.executemany(f"INSERT INTO runs ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", runs)
metrics = [(k, r[k], r["start"], 0, 0, r["run_id"]) for r in data for k in ("rmse", "r2")]
sql = "INSERT INTO {} (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)"
conn.executemany(sql.format("metrics"), metrics)
conn.executemany(sql.format("latest_metrics"), metrics)
pairs = (("alpha", "alpha"), ("l1_ratio", "l1"))
conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)",
                 [(k, r[f], r["run_id"]) for r in data for k, f in pairs])
conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)",
                 [(k, v, r["run_id"]) for r in data for k, v in (("mlflow.runName", r["name"]),
                  ("mlflow.user", "bench"), ("mlflow.source.name", "train.py"))])
conn.commit()
print(json.dumps({"experiment_id": exp}))
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"no answer from {url}")


def start_satchel_ui(uri: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "satchel", "ui", "--tracking-uri", uri],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().split(" at ")[1].split()[0]
    wait_http(url + "favicon.ico")
    return proc, url


def start_mlflow(python: str, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    mlflow = str(Path(python).parent / "mlflow")
    proc = subprocess.Popen(
        [
            mlflow,
            "server",
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--default-artifact-root",
            str(db.parent / "mlartifacts"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_http(url + "health")
    return proc, url


def timed_get(url: str, body: dict[str, Any] | None = None) -> tuple[float, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        payload = response.read()
    return time.perf_counter() - start, json.loads(payload)


def first_and_median(fn: Any) -> tuple[float, float, Any]:
    first, result = fn()
    times = [fn()[0] for _ in range(5)]
    return first, statistics.median(times), result


def satchel_page(url: str, exp: str) -> tuple[float, float, int]:
    query = urllib.parse.urlencode(
        [
            ("filter", FILTER),
            ("order", ORDER),
            ("col", "metrics.rmse"),
            ("col", "params.alpha"),
            ("col", "params.l1_ratio"),
            ("size", str(PAGE)),
        ]
    )
    first, median, result = first_and_median(
        lambda: timed_get(f"{url}ui-api/experiments/{exp}/runs?{query}")
    )
    return first, median, len(result["rows"])


def mlflow_page(url: str, exp: str) -> tuple[float, float, int]:
    body = {"experiment_ids": [exp], "filter": FILTER, "order_by": [ORDER], "max_results": PAGE}
    first, median, result = first_and_median(
        lambda: timed_get(f"{url}api/2.0/mlflow/runs/search", body)
    )
    return first, median, len(result.get("runs", []))


def timed_satchel(label: str, uri: str, exp: str) -> tuple[float, float, int]:
    proc, url = start_satchel_ui(uri)
    try:
        first, median, found = satchel_page(url, exp)
    finally:
        proc.terminate()
        proc.wait()
    print(f"satchel {label}: first {first * 1000:.1f} ms, median {median * 1000:.1f} ms")
    return first, median, found


def fill_mlflow(mlflow_py: str, folder: Path, data: list[dict[str, Any]]) -> dict[str, Any]:
    rows_file = folder / "rows.json"
    rows_file.write_text(json.dumps(data))
    out = subprocess.run(
        [mlflow_py, "-c", MLFLOW_FILL, str(folder / "mlflow.db"), str(rows_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows_file.unlink()
    return {"experiment_id": json.loads(out.stdout.strip().splitlines()[-1])["experiment_id"]}


def runs_page_bench(
    base: Path, sizes: list[int], mlflow_py: str | None, cache: Path | None, postgres: str | None
) -> None:
    table = []
    for n in sizes:
        data = rows(n)  # under a second, cached fixture or not
        fixture = cached(cache, base, f"satchel-{n}", lambda d, data=data: fill_satchel(d, data))
        s_first, s_median, s_found = timed_satchel(f"{n:,} runs (SQLite)", *fixture)
        if postgres:
            try:
                pg_first, pg_median, pg_found = timed_satchel(
                    f"{n:,} runs (PostgreSQL)", *fill_postgres(postgres, data)
                )
            finally:
                drop_postgres(postgres, n)
            assert pg_found == s_found, (pg_found, s_found)
            table.append((f"runs page, {n:,} runs, PostgreSQL", pg_median * 1000, pg_first * 1000))
        if mlflow_py is None or n > 10_000:
            table.append((f"runs page, {n:,} runs, SQLite", s_median * 1000, s_first * 1000))
            continue
        mlflow = cached(
            cache, base, f"mlflow-{n}", lambda d, data=data: fill_mlflow(mlflow_py, d, data)
        )
        db = (cache or base) / f"mlflow-{n}" / "mlflow.db"
        mproc, murl = start_mlflow(mlflow_py, db)
        try:
            m_first, m_median, m_found = mlflow_page(murl, mlflow["experiment_id"])
        finally:
            mproc.terminate()
            mproc.wait()
        assert m_found == s_found, (m_found, s_found)
        print(f"mlflow  {n:,} runs: first {m_first * 1000:.1f} ms, median {m_median * 1000:.1f} ms")
        report(
            f"runs page data, {n:,} runs ({FILTER!r}, {ORDER}, page of {PAGE})",
            [
                ("first request", s_first * 1000, m_first * 1000, "ms"),
                ("median of the next 5", s_median * 1000, m_median * 1000, "ms"),
            ],
            higher_is_better=False,
        )
    for name, median, first in table:
        print(f"{name}: first {first:.1f} ms, median {median:.1f} ms")


def fill_chart(store_dir: Path, points: int) -> tuple[str, str]:
    from satchel.tracking.client import Client

    uri = f"sqlite:///{store_dir / 'satchel.db'}"
    client = Client(uri)
    run = client.create_run("0", run_name=f"chart-{points}")
    rid = run.info.run_id
    rng = random.Random(1)
    conn = sqlite3.connect(store_dir / "satchel.db")
    values = [
        (rid, "loss", 1 / (1 + i / 1000) + rng.random() * 0.01, 0, 1_700_000_000_000 + i, i)
        for i in range(points)
    ]
    values[points * 3 // 4] = (rid, "loss", 50.0, 0, values[points * 3 // 4][4], points * 3 // 4)
    conn.executemany("INSERT INTO metrics VALUES (?,?,?,?,?,?)", values)
    conn.execute("INSERT INTO latest_metrics VALUES (?,?,?,?,?,?)", values[-1])
    conn.commit()
    conn.close()
    client.set_terminated(rid)
    return uri, rid


def chart_in_chromium(url: str, run_id: str) -> tuple[float, float]:
    """(cold, warm) ms from navigation start to the first drawn chart on the run page; warm
    is the median of the next ``WARM_VIEWS`` views."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("SATCHEL_TEST_CHROMIUM", "/usr/bin/chromium")
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        results = []
        for _ in range(1 + WARM_VIEWS):
            page.goto(f"{url}runs/{run_id}")
            page.wait_for_selector("#metric-chart[data-first-drawn-at]", timeout=120_000)
            results.append(float(page.get_attribute("#metric-chart", "data-first-drawn-at") or 0))
        browser.close()
    return results[0], statistics.median(results[1:])


def chart_bench(base: Path, mlflow_py: str | None) -> None:
    rows_out = []
    for points in (1_000, CHART_POINTS):
        store = base / f"chart-{points}"
        store.mkdir()
        uri, rid = fill_chart(store, points)
        proc, url = start_satchel_ui(uri)
        try:
            first, median, result = first_and_median(
                lambda url=url, rid=rid: timed_get(f"{url}ui-api/metric-history?run={rid}&key=loss")
            )
            spike = max(result["series"][0]["values"]) == 50.0
        finally:
            proc.terminate()
            proc.wait()
        proc, url = start_satchel_ui(uri)  # a fresh server: "cold" samples nothing in advance
        try:
            cold, warm = chart_in_chromium(url, rid)
        finally:
            proc.terminate()
            proc.wait()
        kept = len(result["series"][0]["values"])
        print(
            f"satchel chart of {points:,} points: history request first {first * 1000:.1f} ms, "
            f"median {median * 1000:.1f} ms ({kept} points sent, spike kept: {spike}); "
            f"first drawn chart in Chromium: cold {cold:.0f} ms, warm {warm:.0f} ms"
        )
        rows_out.append((points, first, median, cold, warm))
    if mlflow_py is None:
        return
    db = base / "mlflow-chart" / "mlflow.db"
    db.parent.mkdir()
    code = MLFLOW_CHART.replace("POINTS", str(CHART_POINTS))
    out = subprocess.run(
        [mlflow_py, "-c", code, str(db)], capture_output=True, text=True, check=True
    )
    m_run = json.loads(out.stdout.strip().splitlines()[-1])["run_id"]
    mproc, murl = start_mlflow(mlflow_py, db)
    try:
        query = urllib.parse.urlencode({"run_ids": m_run, "metric_key": "loss", "max_results": 320})
        m_first, m_median, m_result = first_and_median(
            lambda: timed_get(
                f"{murl}ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?{query}"
            )
        )
    finally:
        mproc.terminate()
        mproc.wait()
    m_spike = max(m["value"] for m in m_result["metrics"]) == 50.0
    print(
        f"mlflow chart history request (get-history-bulk-interval, 320 points) over "
        f"{CHART_POINTS:,} points: first {m_first * 1000:.1f} ms, median {m_median * 1000:.1f} ms; "
        f"spike kept: {m_spike}"
    )
    big = rows_out[-1]
    report(
        f"chart data, {CHART_POINTS:,} points (satchel 1,000 buckets; mlflow 320 samples)",
        [
            ("history request, first", big[1] * 1000, m_first * 1000, "ms"),
            ("history request, median of 5", big[2] * 1000, m_median * 1000, "ms"),
        ],
        higher_is_better=False,
    )


MLFLOW_CHART = """
import json, logging, random, sqlite3, sys
logging.disable(logging.WARNING)
from mlflow import MlflowClient
db = sys.argv[1]
client = MlflowClient("sqlite:///" + db)
run = client.create_run("0")
rid = run.info.run_id
client.log_metric(rid, "loss", 1.0, step=0, timestamp=1_700_000_000_000)
rng = random.Random(1)
values = [("loss", 1 / (1 + i / 1000) + rng.random() * 0.01, 1_700_000_000_000 + i, i, 0, rid)
          for i in range(1, POINTS)]
spike = POINTS * 3 // 4
values[spike - 1] = ("loss", 50.0, 1_700_000_000_000 + spike, spike, 0, rid)
conn = sqlite3.connect(db)
conn.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) "
                 "VALUES (?,?,?,?,?,?)", values)
conn.execute("UPDATE latest_metrics SET value = ?, timestamp = ?, step = ? WHERE run_uuid = ?",
             (values[-1][1], values[-1][2], values[-1][3], rid))
conn.commit()
client.set_terminated(rid)
print(json.dumps({"run_id": rid}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--only", choices=("runs", "chart"))
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the SQLite fixtures (Satchel's and MLflow's) in this folder and reuse them",
    )
    parser.add_argument(
        "--postgres",
        metavar="URI",
        default=os.environ.get("SATCHEL_BENCH_POSTGRES_URI"),
        help="also time the runs page over a PostgreSQL store on this server "
        "(a database bench_ui_N is created on it; default SATCHEL_BENCH_POSTGRES_URI)",
    )
    args = parser.parse_args()
    mlflow_py = None
    if not args.no_mlflow:
        mlflow_py = os.environ.get("SATCHEL_TEST_MLFLOW_PYTHON") or str(mlflow_python())
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        if args.only != "chart":
            sizes = [int(s) for s in args.sizes.split(",")]
            runs_page_bench(Path(tmp), sizes, mlflow_py, args.cache, args.postgres)
        if args.only != "runs":
            chart_bench(Path(tmp), mlflow_py)


if __name__ == "__main__":
    main()
