"""``satchel server`` side by side with ``mlflow server`` (SQLite backend, its own venv).

    python bench/bench_server.py

Measures, for each server: start -> first 200 on /health; PSS of the whole process tree after
start; 1,000 single log_metric calls through the mlflow client (and, for Satchel, through
satchel's own HTTP client); search_runs("metrics.rmse < 0.5") over 10,000 runs via REST.
Reported as ratios (satchel's advantage).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from common import mlflow_python, report, run_python

N_METRICS = 1000
N_RUNS = 10_000

LOG_MLFLOW = textwrap.dedent("""
    import json, time
    from mlflow import MlflowClient
    c = MlflowClient()
    run_id = c.create_run("0").info.run_id
    start = time.perf_counter()
    for i in range(N):
        c.log_metric(run_id, "m", float(i), step=i)
    print(json.dumps({"per_s": N / (time.perf_counter() - start)}))
""")
LOG_SATCHEL = textwrap.dedent("""
    import json, os, time
    from satchel import Client
    c = Client(os.environ["MLFLOW_TRACKING_URI"])
    run_id = c.create_run("0").info.run_id
    start = time.perf_counter()
    for i in range(N):
        c.log_metric(run_id, "m", float(i), step=i)
    print(json.dumps({"per_s": N / (time.perf_counter() - start)}))
""")
FILL_MLFLOW = textwrap.dedent("""
    import json, random, sys
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.entities import Metric
    store = SqlAlchemyStore(sys.argv[1], sys.argv[2])
    rng = random.Random(0)
    for i in range(N):
        run = store.create_run(
            experiment_id="0", user_id="u", start_time=i, tags=[], run_name=None
        )
        store.log_batch(run.info.run_id, [Metric("rmse", rng.random(), 1, 0)], [], [])
    print(json.dumps({}))
""")
FILL_SATCHEL = textwrap.dedent("""
    import json, random, sys
    from satchel.tracking.store.sqlite import SqliteStore
    from satchel.tracking.entities import Metric
    store = SqliteStore(sys.argv[1], sys.argv[2])
    rng = random.Random(0)
    for i in range(N):
        run = store.create_run("0", "u", i)
        store.log_batch(run.info.run_id, [Metric("rmse", rng.random(), 1, 0)])
    print(json.dumps({}))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, payload


def start(argv: list[str], port: int, cwd: Path) -> tuple[subprocess.Popen, float]:
    began = time.perf_counter()
    # its own process group: mlflow server forks workers and job consumers that outlive a
    # SIGTERM to the parent alone
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while True:
        try:
            if request(port, "GET", "/health")[0] == 200:
                return proc, time.perf_counter() - began
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {argv}")
        time.sleep(0.02)


def tree_pss_mib(pid: int) -> float:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def search_ms(port: int) -> float:
    body = {"experiment_ids": ["0"], "filter": "metrics.rmse < 0.5", "max_results": 1000}
    samples = []
    for _ in range(5):
        began = time.perf_counter()
        status, _ = request(port, "POST", "/api/2.0/mlflow/runs/search", body)
        assert status == 200
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def stop(proc: subprocess.Popen) -> None:
    """The server and every process it started (its process group), then nothing left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # still someone in the group?
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def measure(kind: str, python: Path, base: Path, env: dict[str, str]) -> dict[str, float]:
    work = base / kind
    work.mkdir()
    db, artifacts = work / "db.sqlite", work / "artifacts"
    port = free_port()
    if kind == "satchel":
        fill, argv = FILL_SATCHEL, [sys.executable, "-m", "satchel", "server"]
        argv += [
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            str(artifacts),
        ]
    else:
        fill, argv = FILL_MLFLOW, [str(python), "-m", "mlflow", "server"]
        argv += [
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            str(artifacts),
        ]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    out: dict[str, float] = {}
    proc, out["start_s"] = start(argv, port, work)
    time.sleep(2)  # let worker processes settle before reading memory
    out["pss_mib"] = tree_pss_mib(proc.pid)
    client_env = {**env, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}
    code = LOG_MLFLOW.replace("range(N)", f"range({N_METRICS})").replace("N /", f"{N_METRICS} /")
    out["mlflow_client_per_s"] = run_python(mlflow_python(), code, env=client_env)["per_s"]
    if kind == "satchel":
        code = LOG_SATCHEL.replace("range(N)", f"range({N_METRICS})")
        code = code.replace("N /", f"{N_METRICS} /")
        out["satchel_client_per_s"] = run_python(sys.executable, code, env=client_env)["per_s"]
    stop(proc)
    fill_python = sys.executable if kind == "satchel" else str(python)
    code = fill.replace("range(N)", f"range({N_RUNS})").replace("sys.argv[1], sys.argv[2]", "")
    if kind == "satchel":
        code = code.replace("SqliteStore()", f"SqliteStore({str(db)!r}, {str(artifacts)!r})")
    else:
        code = code.replace(
            "SqlAlchemyStore()", f"SqlAlchemyStore('sqlite:///{db}', {str(artifacts)!r})"
        )
    run_python(fill_python, code, env=env)
    proc, _ = start(argv, port, work)
    out["search_ms"] = search_ms(port)
    stop(proc)
    return out


def main() -> None:
    theirs = mlflow_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SATCHEL_"))}
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        base = Path(tmp)
        s = measure("satchel", theirs, base, env)
        print("satchel:", json.dumps(s), file=sys.stderr, flush=True)
        m = measure("mlflow", theirs, base, env)
        print("mlflow:", json.dumps(m), file=sys.stderr, flush=True)
    report(
        "server start and memory",
        [
            ("start -> first 200 on /health", s["start_s"], m["start_s"], "s"),
            ("PSS of the process tree after start", s["pss_mib"], m["pss_mib"], "MiB"),
            ("search_runs rmse < 0.5, 10,000 runs, REST", s["search_ms"], m["search_ms"], "ms"),
        ],
        higher_is_better=False,
    )
    report(
        "1,000 single log_metric calls over HTTP",
        [
            ("mlflow client", s["mlflow_client_per_s"], m["mlflow_client_per_s"], "calls/s"),
            (
                "satchel client vs mlflow-on-mlflow",
                s["satchel_client_per_s"],
                m["mlflow_client_per_s"],
                "calls/s",
            ),
        ],
        higher_is_better=True,
    )


if __name__ == "__main__":
    main()
