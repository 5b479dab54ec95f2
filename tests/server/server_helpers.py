"""Helpers for server tests: a real ``satchel server`` process, raw HTTP calls, and the real
``mlflow`` client (its own virtualenv, ``SATCHEL_TEST_MLFLOW_PYTHON``)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

SATCHEL = [sys.executable, "-m", "satchel"]


class ServerProcess:
    """``satchel server --port 0`` in a subprocess; ``url`` once it printed it."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*SATCHEL, "server", "--port", "0", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = self._read_url()

    def _read_url(self, timeout: float = 60) -> str:
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            self.proc.kill()
            raise AssertionError("satchel server printed no URL")
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"satchel server did not start: {line!r} {err}")
        return line.split()[-1]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code


@contextlib.contextmanager
def running_server(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    server = ServerProcess(*args, cwd=cwd, env=env)
    try:
        yield server.url
    finally:
        server.stop()


def mlflow_client_server(kind: str, home: Path) -> Iterator[str]:
    """A server for the real mlflow client's tests, on a fresh SQLite or PostgreSQL store;
    checks that it stops cleanly (a module fixture yields from this)."""
    from tests.conftest import drop_postgres_database, new_postgres_database

    mlflow_python()  # fail early, with the hint, when the client is not installed
    database = new_postgres_database() if kind == "postgresql" else None
    store = database or str(home / "store")
    proc = ServerProcess(
        "--backend-store-uri", store, "--artifacts-destination", str(home / "artifacts"), cwd=home
    )
    yield proc.url
    assert proc.stop() == 0
    if database:
        drop_postgres_database(database)


def call(
    url: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    """One request with ``path`` sent exactly as given (no normalisation); (status, JSON or
    bytes)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers=headers or {})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    if response.getheader("content-type", "").startswith("application/json"):
        return response.status, json.loads(payload or b"{}")
    return response.status, payload


def mlflow_python() -> str:
    """The python of the pinned mlflow client's virtualenv (CI: .ci/services.sh mlflow)."""
    python = os.environ.get("SATCHEL_TEST_MLFLOW_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail(
            "SATCHEL_TEST_MLFLOW_PYTHON is not set to the mlflow virtualenv's python: run "
            "`source .ci/services.sh && ci_up mlflow` (scripts/test.sh does)"
        )
    return python


def run_mlflow(
    script: str, url: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with the real mlflow client pointed at ``url``; fails on a non-zero exit."""
    path = cwd / "client_script.py"
    path.write_text(textwrap.dedent(script))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    environ.update({"MLFLOW_TRACKING_URI": url, "PYTHONWARNINGS": "ignore", **(env or {})})
    proc = subprocess.run(
        [mlflow_python(), str(path)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"mlflow script failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return proc
