"""``satchel run`` against a server with auth: the project's own logging carries the caller's
token (SATCHEL_TRACKING_TOKEN), and the token is recorded nowhere: not in the run's tags,
params, recorded command or console log."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.server.server_helpers import ServerProcess

from conftest import RESOURCES, run_cli
from satchel.tracking.store.sqlite import SqliteStore


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_run_carries_the_token_and_records_it_nowhere(tmp_path: Path) -> None:
    store_dir = tmp_path / "team"
    store = ["--backend-store-uri", str(store_dir)]
    subprocess.run(
        [sys.executable, "-m", "satchel", "server", "users", "create", "alice",
         "--password-stdin", *store], input="alice-password\n", text=True, check=True, timeout=120,
    )  # fmt: skip
    assert run_cli("server", "grant", "alice", "0", "EDIT", *store).returncode == 0
    token = run_cli("server", "tokens", "create", "alice", "runner", *store).stdout.strip()
    assert token.startswith("sat_")
    project = tmp_path / "project"
    shutil.copytree(RESOURCES / "projects" / "basic", project)
    server = ServerProcess("--auth", *store, cwd=tmp_path)
    try:
        refused = run_cli("run", str(project), "--env-manager", "local", "--tracking-uri",
                          server.url)  # fmt: skip
        assert refused.returncode != 0 and "credentials" in refused.stderr
        done = run_cli(
            "run", str(project), "--env-manager", "local", "-P", "steps=2",
            "--tracking-uri", server.url, env={"SATCHEL_TRACKING_TOKEN": token},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert token not in done.stdout + done.stderr
    finally:
        server.stop()
    tracking = SqliteStore(str(store_dir / "satchel.db"), str(store_dir / "artifacts"))
    [run] = [r for r in tracking.search_runs(["0"], None) if r.data.metrics]
    assert run.info.status.value == "FINISHED"
    assert run.data.metrics["loss"] == 0.5  # logged by the project itself, with the token
    recorded = repr(run.data.tags) + repr(run.data.params)
    for path in (store_dir / "artifacts").rglob("*"):
        if path.is_file():
            recorded += path.read_text(errors="replace")
    assert "hello world" in recorded  # the console log is among the artifacts
    assert token not in recorded
    tracking.close()


def test_satchel_client_reads_the_token_and_mlflow_credentials(tmp_path: Path) -> None:
    store = ["--backend-store-uri", str(tmp_path / "team")]
    subprocess.run(
        [sys.executable, "-m", "satchel", "server", "users", "create", "root", "--admin",
         "--password-stdin", *store], input="root-password\n", text=True, check=True,
    )  # fmt: skip
    token = run_cli("server", "tokens", "create", "root", "cli", *store).stdout.strip()
    server = ServerProcess("--auth", *store, cwd=tmp_path)
    try:
        uri = ["--tracking-uri", server.url]
        refused = run_cli("experiments", "list", *uri)
        assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
        for env in (
            {"SATCHEL_TRACKING_TOKEN": token},
            {"MLFLOW_TRACKING_TOKEN": token},
            {"MLFLOW_TRACKING_USERNAME": "root", "MLFLOW_TRACKING_PASSWORD": "root-password"},
        ):
            listed = run_cli("experiments", "list", *uri, env=env)
            assert listed.returncode == 0 and "Default" in listed.stdout, (env.keys(), listed)
    finally:
        server.stop()
