"""PostgreSQL restarts in the middle of 8 concurrent writers: each writer's store retries
across the outage, no acknowledged write is lost and none is stored twice."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from postgres_cluster import PrivateCluster

from conftest import POSTGRES_URI, new_postgres_database
from satchel.tracking.store.postgres import PostgresStore

WRITERS = 8
PER_WRITER = 1500
GATE_AT = 1000  # a writer stops here until the restart is over, so the restart is mid-stream

# Project code as `satchel run` launches it: the fluent API resuming SATCHEL_RUN_ID; every
# log_metric call is its own committed write.
WRITER = textwrap.dedent("""
    import os, sys, time
    uri, run_id, worker, count, gate_at, ready, restarted = sys.argv[1:8]
    os.environ["SATCHEL_TRACKING_URI"] = uri
    os.environ["SATCHEL_RUN_ID"] = run_id
    import satchel
    key = f"w{worker}"
    for step in range(int(count)):
        satchel.log_metric(key, float(step), step=step)
        if step == 99:
            open(ready, "w").close()
        if step == int(gate_at):
            while not os.path.exists(restarted):
                time.sleep(0.01)
    print("done", flush=True)
""")


@pytest.fixture
def cluster():
    c = PrivateCluster(POSTGRES_URI).start()
    yield c
    c.stop()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_restart_mid_writes_loses_and_duplicates_nothing(cluster, tmp_path: Path) -> None:
    uri = new_postgres_database(cluster.uri)
    store = PostgresStore(uri, str(tmp_path / "artifacts"))
    run_id = store.create_run("0", "u", 0).info.run_id
    restarted = tmp_path / "restarted"
    ready = [tmp_path / f"ready-{n}" for n in range(WRITERS)]
    argv = [WRITER, uri, run_id, "", str(PER_WRITER), str(GATE_AT), "", str(restarted)]
    writers = []
    for n in range(WRITERS):
        argv[3], argv[6] = str(n), str(ready[n])
        writers.append(
            subprocess.Popen(
                [sys.executable, "-c", *argv],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 300
    while not all(r.exists() for r in ready):  # every writer is writing now
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    cluster.restart()
    restarted.touch()
    assert "fast shutdown request" in cluster.log()
    outputs = [w.communicate(timeout=400) for w in writers]

    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert out.strip() == "done"
    run = store.get_run(run_id)
    for n in range(WRITERS):
        history = store.get_metric_history(run_id, f"w{n}")
        assert [m.step for m in history] == list(range(PER_WRITER))
        assert run.data.metrics[f"w{n}"] == PER_WRITER - 1
    store.close()


HTTP_WRITER = textwrap.dedent("""
    import os, sys, time
    url, run_id, worker, count, ready, restarted = sys.argv[1:7]
    os.environ["SATCHEL_TRACKING_URI"] = url
    os.environ["SATCHEL_RUN_ID"] = run_id
    import satchel
    key = f"h{worker}"
    for step in range(int(count)):
        satchel.log_metric(key, float(step), step=step)
        if step == 49:
            open(ready, "w").close()
        if step == 300:
            while not os.path.exists(restarted):
                time.sleep(0.01)
    print("done", flush=True)
""")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_restart_under_a_server_with_eight_http_writers(cluster, tmp_path: Path) -> None:
    from tests.server.server_helpers import ServerProcess

    uri = new_postgres_database(cluster.uri)
    store = PostgresStore(uri, str(tmp_path / "artifacts"))
    run_id = store.create_run("0", "u", 0).info.run_id
    server = ServerProcess("--backend-store-uri", uri, cwd=tmp_path)
    restarted = tmp_path / "restarted"
    ready = [tmp_path / f"ready-{n}" for n in range(WRITERS)]
    try:
        writers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    HTTP_WRITER,
                    server.url,
                    run_id,
                    str(n),
                    "500",
                    str(ready[n]),
                    str(restarted),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(WRITERS)
        ]
        deadline = time.monotonic() + 300
        while not all(r.exists() for r in ready):
            assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
            time.sleep(0.01)
        cluster.restart()
        restarted.touch()
        outputs = [w.communicate(timeout=400) for w in writers]
    finally:
        server.stop()
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    for n in range(WRITERS):
        assert [m.step for m in store.get_metric_history(run_id, f"h{n}")] == list(range(500))
    store.close()
