"""Many writers over HTTP, half through the real mlflow client and half through Satchel's:
every write lands exactly once, and a server SIGKILLed mid-load and started again loses no
acknowledged write and duplicates none."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.server.server_helpers import ServerProcess, call, mlflow_python

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MLFLOW_WRITER = """
import sys, mlflow
from mlflow import MlflowClient
run_id, key, count, acked = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
client = MlflowClient()
with open(acked, "a") as out:
    for step in range(count):
        client.log_metric(run_id, key, float(step), step=step)
        out.write(f"{step}\\n"); out.flush()
"""
SATCHEL_WRITER = """
import sys
from satchel import Client
url, run_id, key = sys.argv[1:4]
count, acked = int(sys.argv[4]), sys.argv[5]
client = Client(url)
with open(acked, "a") as out:
    for step in range(count):
        client.log_metric(run_id, key, float(step), step=step)
        out.write(f"{step}\\n"); out.flush()
"""


def _writers(url: str, run_id: str, n: int, count: int, tmp: Path) -> list[subprocess.Popen]:
    (tmp / "mlflow_writer.py").write_text(textwrap.dedent(MLFLOW_WRITER))
    (tmp / "satchel_writer.py").write_text(textwrap.dedent(SATCHEL_WRITER))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=url, PYTHONWARNINGS="ignore")
    env.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="10", MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="1")
    procs = []
    for i in range(n):
        acked = str(tmp / f"acked-{i}.txt")
        if i % 2:
            argv = [mlflow_python(), "mlflow_writer.py", run_id, f"w{i}", str(count), acked]
        else:
            argv = [sys.executable, "satchel_writer.py", url, run_id, f"w{i}", str(count), acked]
        procs.append(subprocess.Popen(argv, cwd=tmp, env=env, stderr=subprocess.PIPE, text=True))
    return procs


def _finish(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]


def _history(db: Path, run_id: str) -> dict[str, list[int]]:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    steps: dict[str, list[int]] = {}
    for key, step in conn.execute(
        "SELECT key, step FROM metrics WHERE run_uuid = ? ORDER BY key, step", (run_id,)
    ):
        steps.setdefault(key, []).append(step)
    conn.close()
    return steps


def _new_run(url: str) -> str:
    status, body = call(url, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})
    assert status == 200
    return str(body["run"]["info"]["run_id"])


def test_sixteen_writers_two_thousand_metrics_each(tmp_path: Path) -> None:
    server = ServerProcess("--backend-store-uri", str(tmp_path / "store"), cwd=tmp_path)
    try:
        run_id = _new_run(server.url)
        _finish(_writers(server.url, run_id, 16, 2000, tmp_path))
    finally:
        assert server.stop() == 0
    steps = _history(tmp_path / "store" / "satchel.db", run_id)
    assert sorted(steps) == sorted(f"w{i}" for i in range(16))
    for key, got in steps.items():
        assert got == list(range(2000)), key  # all present, none twice
    assert sum(len(v) for v in steps.values()) == 32_000


def test_server_sigkilled_mid_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    server = ServerProcess("--backend-store-uri", str(store), cwd=tmp_path)
    port = server.url.rsplit(":", 1)[1]
    run_id = _new_run(server.url)
    procs = _writers(server.url, run_id, 6, 1500, tmp_path)
    try:
        acked = tmp_path / "acked-1.txt"
        deadline = time.monotonic() + 300
        while not (acked.exists() and len(acked.read_text().split()) > 200):
            assert time.monotonic() < deadline, "the writers made no progress"
            time.sleep(0.05)
        server.proc.send_signal(signal.SIGKILL)
        server.stop()
        server = ServerProcess("--backend-store-uri", str(store), "--port", port, cwd=tmp_path)
        _finish(procs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        server.stop()
    steps = _history(store / "satchel.db", run_id)
    for i in range(6):
        acknowledged = {int(s) for s in (tmp_path / f"acked-{i}.txt").read_text().split()}
        got = steps[f"w{i}"]
        assert acknowledged <= set(got)  # every acknowledged write survived the kill
        assert len(got) == len(set(got)) == 1500  # retried writes were stored once
