"""``satchel server``: prints its URL, binds loopback by default, stops cleanly on signals."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.server.server_helpers import ServerProcess, call


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_starts_on_the_default_store_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    server = ServerProcess(cwd=tmp_path)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert call(server.url, "GET", "/health") == (200, {"status": "OK"})
        status, body = call(server.url, "POST", "/api/2.0/mlflow/experiments/create", {"name": "e"})
        assert (status, body) == (200, {"experiment_id": "1"})
    finally:
        code = server.stop(sig)
    assert code == 0
    assert (tmp_path / "satchel" / "satchel.db").is_file()  # the embedded default store


def test_backend_store_and_artifacts_destination(tmp_path: Path) -> None:
    store, artifacts = tmp_path / "store", tmp_path / "blobs"
    server = ServerProcess(
        "--backend-store-uri", str(store), "--artifacts-destination", str(artifacts), cwd=tmp_path
    )
    try:
        _, body = call(server.url, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})
        run_id = body["run"]["info"]["run_id"]
        path = f"/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/a.txt"
        assert call(server.url, "PUT", path, raw=b"x")[0] == 200
    finally:
        assert server.stop() == 0
    assert (store / "satchel.db").is_file()
    assert (artifacts / "0" / run_id / "artifacts" / "a.txt").read_bytes() == b"x"


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    server = ServerProcess(cwd=tmp_path)
    try:
        port = server.url.rsplit(":", 1)[1]
        proc = run_cli("server", "--port", port, cwd=tmp_path)
    finally:
        server.stop()
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in proc.stderr
