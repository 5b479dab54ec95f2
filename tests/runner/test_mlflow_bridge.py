"""The MLflow bridge: MLflow-instrumented projects log into their Satchel run, unchanged,
through a per-run loopback endpoint (embedded store) or the server (http store)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tests.runner.runner_helpers import project_copy, satchel_cli
from tests.server.server_helpers import call, running_server

from satchel.envs.base import PreparedEnv
from satchel.runner.mlflow_bridge import has_mlflow, lock_names, mlflow_bridge
from satchel.tracking.client import Client

API = "/api/2.0/mlflow"


def _prepared(tmp_path: Path, lock: str) -> PreparedEnv:
    lock_file = tmp_path / "requirements.lock"
    lock_file.write_text(lock)
    return PreparedEnv(manager="uv", lock_file=lock_file)


def test_mlflow_is_read_from_the_resolved_lock(tmp_path: Path) -> None:
    assert lock_names("MLflow_Skinny==3.17.2\n# comment\nnumpy==2.0 ; python_version>'3'\n") == {
        "mlflow-skinny",
        "numpy",
    }
    assert has_mlflow(_prepared(tmp_path, "mlflow==3.17.2\nscikit-learn==1.5\n"))
    assert has_mlflow(_prepared(tmp_path, "mlflow-skinny==3.17.2\n"))
    assert not has_mlflow(_prepared(tmp_path, "mlflow-tracing==3.17.2\nscikit-learn==1.5\n"))


def test_nothing_starts_without_mlflow(tmp_path: Path) -> None:
    client = Client(str(tmp_path / "store"))
    run = client.create_run("0")
    before = threading.active_count()
    with mlflow_bridge(client.tracking_uri, run, _prepared(tmp_path, "numpy==2.0\n")) as env:
        assert env == {}
        assert threading.active_count() == before


def test_per_run_endpoint_accepts_only_its_run_and_token(tmp_path: Path) -> None:
    client = Client(str(tmp_path / "store"))
    run = client.create_run("0")
    other = client.create_run("0")
    run_id = run.info.run_id
    with mlflow_bridge(client.tracking_uri, run, _prepared(tmp_path, "mlflow==3.17.2\n")) as env:
        url, token = env["MLFLOW_TRACKING_URI"], env["MLFLOW_TRACKING_TOKEN"]
        assert url.startswith("http://127.0.0.1:")
        assert env["MLFLOW_RUN_ID"] == run_id and env["MLFLOW_EXPERIMENT_ID"] == "0"
        auth = {"Authorization": f"Bearer {token}"}
        metric = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
        assert call(url, "POST", f"{API}/runs/log-metric", metric)[0] == 401
        bad = {"Authorization": "Bearer wrong"}
        assert call(url, "POST", f"{API}/runs/log-metric", metric, headers=bad)[0] == 401
        assert call(url, "POST", f"{API}/runs/log-metric", metric, headers=auth)[0] == 200
        foreign = {**metric, "run_id": other.info.run_id}
        status, body = call(url, "POST", f"{API}/runs/log-metric", foreign, headers=auth)
        assert (status, body["error_code"]) == (403, "PERMISSION_DENIED")
        created = call(url, "POST", f"{API}/runs/create", {"experiment_id": "0"}, headers=auth)
        assert created[0] == 403
        assert call(url, "POST", f"{API}/experiments/search", {}, headers=auth)[0] == 403
        assert call(url, "POST", f"{API}/runs/delete", {"run_id": run_id}, headers=auth)[0] == 403
        path = f"/api/2.0/mlflow-artifacts/artifacts/0/{other.info.run_id}/artifacts/x.txt"
        assert call(url, "PUT", path, raw=b"x", headers=auth)[0] == 403
        # the project's own end_run does not end the run: the runner owns its status
        ended = {"run_id": run_id, "status": "FINISHED", "end_time": 5}
        assert call(url, "POST", f"{API}/runs/update", ended, headers=auth)[0] == 200
        assert client.get_run(run_id).info.status.value == "RUNNING"
    assert client.get_run(run_id).data.metrics == {"m": 1.0}
    assert client.get_run(other.info.run_id).data.metrics == {}


def _check_bridged_run(client: Client, project: Path, out: str) -> None:
    line = next(x for x in out.splitlines() if x.startswith("MLFLOW RUN"))
    run = client.get_run(line.split()[2])
    assert run.info.status.value == "FINISHED"
    assert run.data.params == {"alpha": "0.3", "l1_ratio": "0.5"}
    assert set(run.data.metrics) == {"loss", "rmse"} and run.data.metrics["loss"] == 1 / 3
    assert run.data.tags["trained_with"] == "mlflow"
    assert run.data.tags["mlflow.project.entryPoint"] == "main"
    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"summary.txt", "logs"} <= files
    assert not (project / "mlflow.db").exists() and not (project / "mlruns").exists()
    assert not list(project.rglob("mlflow.db")) and not list(project.rglob("mlruns"))


@pytest.mark.slow
@pytest.mark.parametrize("distribution", ["mlflow", "mlflow-skinny"])
def test_mlflow_project_logs_into_its_satchel_run(tmp_path: Path, distribution: str) -> None:
    project = project_copy(tmp_path, "mlflow_project")
    env_file = project / "python_env.yaml"
    env_file.write_text(env_file.read_text().replace("mlflow==", f"{distribution}=="))
    store = tmp_path / "store"
    proc = satchel_cli(
        "run", str(project), "-P", "alpha=0.3", "--tracking-uri", str(store), timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_bridged_run(Client(str(store)), project, proc.stdout + proc.stderr)


@pytest.mark.slow
def test_mlflow_project_through_a_server(tmp_path: Path) -> None:
    project = project_copy(tmp_path, "mlflow_project")
    with running_server("--backend-store-uri", str(tmp_path / "store"), cwd=tmp_path) as url:
        proc = satchel_cli(
            "run", str(project), "-P", "alpha=0.3", "--tracking-uri", url, timeout=900
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        client = Client(url)
        _check_bridged_run(client, project, proc.stdout + proc.stderr)
        run_id = proc.stdout.split("MLFLOW RUN", 1)[1].split()[0]
        run = client.get_run(run_id)
        assert run.data.tags["mlflow.source.type"] and run.data.tags["mlflow.project.env"] == "uv"
        files = {f.path for f in client.list_artifacts(run_id, "logs")}
        assert files == {"logs/console.log"}
        log = client.download_artifacts(run_id, "logs/console.log")
        assert "MLFLOW RUN" in Path(log).read_text()
        assert {f.path for f in client.list_artifacts(run_id, "source")}


@pytest.mark.slow
def test_mlflow_log_model_and_autolog_end_in_the_satchel_run(tmp_path: Path) -> None:
    """MLflow 3's logged models and the registry through the embedded store's endpoint."""
    project = project_copy(tmp_path, "mlflow_project")
    store = tmp_path / "store"
    proc = satchel_cli("run", str(project), "-e", "model", "--tracking-uri", str(store),
                       timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_id = (proc.stdout + proc.stderr).split("MLFLOW RUN", 1)[1].split()[0]
    client = Client(str(store))
    run = client.get_run(run_id)
    assert run.info.status.value == "FINISHED"
    assert run.data.params["C"] == "0.5" and "training_accuracy_score" in run.data.metrics
    opened = client._store
    models = opened.search_logged_models(["0"], f"source_run_id = '{run_id}'")
    assert sorted(m.name for m in models) == ["classifier", "model"]
    assert {m.status for m in models} == {"LOGGED_MODEL_READY"}
    for model in models:
        files = {p.name for p in Path(model.artifact_location).iterdir()}
        assert {"MLmodel", "requirements.txt"} <= files
    classifier = next(m for m in models if m.name == "classifier")
    assert (Path(classifier.artifact_location) / "model.skops").is_file()
    version = client.get_model_version("bridged", 1)
    assert version.source == f"models:/{classifier.model_id}" and version.run_id == run_id
    assert not list(project.rglob("mlflow.db")) and not list(project.rglob("mlruns"))
