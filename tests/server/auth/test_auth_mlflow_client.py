"""The unchanged mlflow client against a real ``satchel server --auth`` over PostgreSQL: it
authenticates with MLFLOW_TRACKING_TOKEN (Bearer) and with MLFLOW_TRACKING_USERNAME/PASSWORD
(Basic), is refused without them, and no secret reaches the server's output."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.server.server_helpers import ServerProcess, mlflow_python

from conftest import run_cli

SCRIPT = """
import mlflow
mlflow.set_experiment("auth-demo")
with mlflow.start_run(run_name="{name}") as run:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metrics({{"rmse": 0.25, "mae": 0.5}}, step=1)
    mlflow.log_text("hello", "notes/hello.txt")
client = mlflow.MlflowClient()
got = client.get_run(run.info.run_id)
assert got.data.metrics["rmse"] == 0.25 and got.data.params["alpha"] == "0.5"
assert client.download_artifacts(run.info.run_id, "notes/hello.txt")
print("ok", run.info.run_id)
"""


def _mlflow(url: str, cwd: Path, env: dict[str, str], name: str) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SATCHEL_"))}
    environ.update({"MLFLOW_TRACKING_URI": url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", **env})
    script = cwd / f"{name}.py"
    script.write_text(SCRIPT.format(name=name))
    return subprocess.run([mlflow_python(), str(script)], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_mlflow_client_with_token_and_with_password(postgres_uri: str, tmp_path: Path) -> None:
    mlflow_python()  # fails clearly when the mlflow virtualenv is missing
    store = ["--backend-store-uri", postgres_uri]
    made = subprocess.run(
        [sys.executable, "-m", "satchel", "server", "users", "create", "alice", "--password-stdin",
         *store], input="alice-password\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    issued = run_cli("server", "tokens", "create", "alice", "laptop", *store)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    server = ServerProcess(
        "--auth", *store, "--artifacts-destination", str(tmp_path / "artifacts"), cwd=tmp_path
    )
    try:
        with_token = _mlflow(server.url, tmp_path, {"MLFLOW_TRACKING_TOKEN": token}, "tok")
        assert with_token.returncode == 0, with_token.stderr[-3000:]
        basic = {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "alice-password"}
        with_password = _mlflow(server.url, tmp_path, basic, "pw")
        assert with_password.returncode == 0, with_password.stderr[-3000:]
        refused = _mlflow(server.url, tmp_path, {}, "none")
        assert refused.returncode != 0
        assert "UNAUTHENTICATED" in refused.stderr or "401" in refused.stderr
    finally:
        server.proc.send_signal(signal.SIGTERM)
        out, err = server.proc.communicate(timeout=60)
    listed = run_cli("server", "tokens", "list", *store)
    assert "laptop" in listed.stdout and token not in listed.stdout
    assert token not in out + err and "alice-password" not in out + err
