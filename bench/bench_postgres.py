"""Satchel's server vs MLflow's server, side by side on the same PostgreSQL server.

    SATCHEL_BENCH_POSTGRES_URI=postgresql://postgres@127.0.0.1:5432/postgres \\
        python bench/bench_postgres.py            # SATCHEL_BENCH_RUNS=100000 by default

Each server gets its own fresh database on that PostgreSQL server, holding the same 100,000
runs (one experiment; params alpha and layers, tag team, metrics rmse and acc), bulk-loaded
with SQL into each tool's own schema (created by ``satchel db upgrade`` / ``mlflow db
upgrade``), then ANALYZEd. Both servers are then asked the same REST requests by the same
plain HTTP client:

- ``runs/search`` with a filter and an order_by (a narrow and a broad filter, 100 results);
- ``runs/log-batch`` of 1,000 metrics into a fresh run.

MLflow runs in its own virtualenv (bench/.venvs/mlflow-pg: mlflow + psycopg), never in the
environment Satchel runs in. Medians of 5 after a warm-up; ratios = MLflow time / Satchel time.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ensure_venv, pip_env_for_uv, report, timed

RUNS = int(os.environ.get("SATCHEL_BENCH_RUNS", "100000"))
MLFLOW = ["mlflow==3.17.2", "mlflow-skinny==3.17.2", "psycopg[binary]"]
SEARCHES = {
    "narrow": ("metrics.rmse < 0.05 and params.alpha = '0.5'", ["metrics.rmse ASC"]),
    "broad": ("metrics.rmse < 0.9 and tags.team = 'vision'", ["metrics.acc DESC"]),
}


def _database(server_uri: str, name: str) -> str:
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return server_uri.rpartition("/")[0] + "/" + name


def _rows(n: int) -> list[tuple]:
    """One run's values: (run_id, name, start, alpha, layers, team, rmse, acc)."""
    alpha = f"0.{n % 9 + 1}"
    rmse = ((n * 7919) % 10007) / 10007
    acc = ((n * 104729) % 10009) / 10009
    team = ("vision", "nlp", "tabular")[n % 3]
    return [(f"{n:032x}", f"run-{n}", 1_700_000_000_000 + n, alpha, str(n % 5), team, rmse, acc)]


def _load(uri: str, mlflow: bool) -> None:
    """The same runs into either schema, 10,000 per transaction."""
    with psycopg.connect(uri) as conn:
        exp = conn.execute(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
            "last_update_time) VALUES ('bench', 'mlflow-artifacts:/bench', 'active', 0, 0) "
            "RETURNING experiment_id"
        ).fetchone()[0]
        conn.commit()
        for start in range(0, RUNS, 10_000):
            rows = [r for n in range(start, min(RUNS, start + 10_000)) for r in _rows(n)]
            _load_chunk(conn, exp, rows, mlflow)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()


def _load_chunk(conn: psycopg.Connection, exp: int, rows: list[tuple], mlflow: bool) -> None:
    ids, names, starts, alphas, layers, teams, rmses, accs = (
        list(c) for c in zip(*rows, strict=True)
    )
    if mlflow:
        conn.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
            "artifact_uri, experiment_id) SELECT id, nm, 'LOCAL', '', '', 'bench', 'FINISHED', "
            "st, st + 1000, '', 'active', 'mlflow-artifacts:/x', %s "
            "FROM unnest(%s::text[], %s::text[], %s::int8[]) AS u(id, nm, st)",
            (exp, ids, names, starts),
        )
    else:
        conn.execute(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
            "end_time, artifact_uri) SELECT id, %s, nm, 'bench', 'FINISHED', st, st + 1000, "
            "'mlflow-artifacts:/x' "
            "FROM unnest(%s::text[], %s::text[], %s::int8[]) AS u(id, nm, st)",
            (exp, ids, names, starts),
        )
    pairs = [("alpha", alphas), ("layers", layers)]
    for key, values in pairs:
        conn.execute(
            "INSERT INTO params (run_uuid, key, value) SELECT id, %s, v "
            "FROM unnest(%s::text[], %s::text[]) AS u(id, v)",
            (key, ids, values),
        )
    for key, values in [("team", teams), ("mlflow.runName", names)]:
        conn.execute(
            "INSERT INTO tags (run_uuid, key, value) SELECT id, %s, v "
            "FROM unnest(%s::text[], %s::text[]) AS u(id, v)",
            (key, ids, values),
        )
    for key, values in [("rmse", rmses), ("acc", accs)]:
        for table in ("metrics", "latest_metrics"):
            conn.execute(
                f"INSERT INTO {table} (run_uuid, key, value, is_nan, timestamp, step) "
                "SELECT id, %s, v, false, 1, 0 FROM unnest(%s::text[], %s::float8[]) AS u(id, v)",
                (key, ids, values),
            )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if _call(url, "GET", "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def _call(url: str, method: str, path: str, body: object = None) -> tuple[int, dict]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    try:
        return response.status, json.loads(payload) if payload.strip() else {}
    except ValueError:  # MLflow's /health answers plain text
        return response.status, {}


def _servers(
    satchel_db: str, mlflow_db: str, mlflow_python: Path, tmp: Path, procs: list
) -> tuple[str, str]:
    satchel_port, mlflow_port = _free_port(), _free_port()
    satchel = subprocess.Popen(
        [sys.executable, "-m", "satchel", "server", "--backend-store-uri", satchel_db,
         "--port", str(satchel_port), "--artifacts-destination", str(tmp / "s-art")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    procs.append(satchel)
    mlflow = subprocess.Popen(
        [str(mlflow_python), "-m", "mlflow", "server", "--backend-store-uri", mlflow_db,
         "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1",
         "--artifacts-destination", str(tmp / "m-art")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp,
        start_new_session=True,  # its own process group: its workers stop with it
    )  # fmt: skip
    procs.append(mlflow)
    urls = (f"http://127.0.0.1:{satchel_port}", f"http://127.0.0.1:{mlflow_port}")
    _wait(urls[0], satchel)
    _wait(urls[1], mlflow)
    return urls


def _search(url: str, exp: str, filt: str, order: list[str]) -> int:
    body = {"experiment_ids": [exp], "filter": filt, "order_by": order, "max_results": 100}
    status, answer = _call(url, "POST", "/api/2.0/mlflow/runs/search", body)
    assert status == 200, answer
    return len(answer.get("runs", []))


def _batch(url: str, exp: str) -> float:
    status, answer = _call(url, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": exp})
    assert status == 200, answer
    run_id = answer["run"]["info"]["run_id"]
    stamp = [int(time.time() * 1000)]

    def once() -> None:
        stamp[0] += 1
        metrics = [
            {"key": f"m{k}", "value": k * 0.5 + s, "timestamp": stamp[0], "step": s}
            for k in range(10)
            for s in range(100)
        ]
        status, answer = _call(url, "POST", "/api/2.0/mlflow/runs/log-batch",
                               {"run_id": run_id, "metrics": metrics})  # fmt: skip
        assert status == 200, answer

    once()  # warm-up
    return timed(once)


def main() -> None:
    server_uri = os.environ.get("SATCHEL_BENCH_POSTGRES_URI") or os.environ.get(
        "SATCHEL_TEST_POSTGRES_URI"
    )
    if not server_uri:
        raise SystemExit("set SATCHEL_BENCH_POSTGRES_URI=postgresql://user@host:port/postgres")
    os.environ.update(pip_env_for_uv())
    mlflow_python = ensure_venv("mlflow-pg", MLFLOW)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"satchel-bench-pg-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    satchel_db = _database(server_uri, "satchel_bench")
    mlflow_db = _database(server_uri, "mlflow_bench")
    subprocess.run([sys.executable, "-m", "satchel", "db", "upgrade", "--backend-store-uri",
                    satchel_db], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run([str(mlflow_python), "-m", "mlflow", "db", "upgrade", mlflow_db], check=True,
                   capture_output=True, cwd=tmp)  # fmt: skip
    started = time.perf_counter()
    _load(satchel_db, mlflow=False)
    _load(mlflow_db, mlflow=True)
    print(f"loaded {RUNS} runs into each database in {time.perf_counter() - started:.0f}s")
    procs: list[subprocess.Popen] = []
    try:
        satchel_url, mlflow_url = _servers(satchel_db, mlflow_db, mlflow_python, tmp, procs)
        exps = {}
        for url in (satchel_url, mlflow_url):
            _, answer = _call(
                url, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=bench"
            )
            exps[url] = answer["experiment"]["experiment_id"]
        rows = []
        for label, (filt, order) in SEARCHES.items():
            counts = {url: _search(url, exps[url], filt, order) for url in exps}  # warm-up
            assert counts[satchel_url] == counts[mlflow_url], counts
            ours = timed(lambda f=filt, o=order: _search(satchel_url, exps[satchel_url], f, o))
            theirs = timed(lambda f=filt, o=order: _search(mlflow_url, exps[mlflow_url], f, o))
            rows.append(
                (f"runs/search {label} over {RUNS:,} runs", ours * 1000, theirs * 1000, "ms")
            )
        ours = _batch(satchel_url, exps[satchel_url])
        theirs = _batch(mlflow_url, exps[mlflow_url])
        rows.append(("runs/log-batch of 1,000 metrics", ours * 1000, theirs * 1000, "ms"))
        report("Team server on PostgreSQL: Satchel vs MLflow", rows, higher_is_better=False)
    finally:
        _stop(procs)
        for name in ("satchel_bench", "mlflow_bench"):
            with psycopg.connect(server_uri, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
