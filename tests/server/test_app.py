"""The server's app on a real loopback socket: MLflow's error JSON and status codes,
idempotent writes, the Host/Origin check, size limits, and what clients may not choose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server.server_helpers import call

from satchel.server.app import create_app
from satchel.server.context import ServerContext
from satchel.server.serve import BackgroundServer
from satchel.tracking.store.sqlite import SqliteStore

API = "/api/2.0/mlflow"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SqliteStore]]:
    store = SqliteStore(str(tmp_path / "satchel.db"), str(tmp_path / "artifacts"))
    context = ServerContext(store, str(tmp_path / "artifacts"), f"sqlite:///{tmp_path}/x.db")
    with BackgroundServer(create_app(context=context)) as url:
        yield url, store
    store.close()


def _run(url: str) -> str:
    status, body = call(url, "POST", f"{API}/runs/create", {"experiment_id": "0"})
    assert status == 200
    return str(body["run"]["info"]["run_id"])


def test_errors_use_mlflow_json_and_status(served: tuple[str, SqliteStore]) -> None:
    url, _ = served
    status, body = call(url, "GET", f"{API}/experiments/get-by-name?experiment_name=nope")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert call(url, "POST", f"{API}/experiments/create", {"name": "a"})[0] == 200
    status, body = call(url, "POST", f"{API}/experiments/create", {"name": "a"})
    assert (status, body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    run_id = _run(url)
    bad = {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1}
    status, body = call(url, "POST", f"{API}/runs/log-metric", bad)
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "'value'" in body["message"]
    status, body = call(url, "POST", f"{API}/runs/log-metric", {"key": "m", "value": 1})
    assert status == 400 and "'run_id'" in body["message"]
    status, body = call(url, "GET", f"{API}/runs/get?run_id={'0' * 32}")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = call(url, "GET", f"{API}/no-such-route")
    assert (status, body["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    status, body = call(url, "POST", f"{API}/runs/create", raw=b"{not json")
    assert (status, body["error_code"]) == (400, "BAD_REQUEST")


def test_replayed_writes_are_stored_once(served: tuple[str, SqliteStore]) -> None:
    url, store = served
    run_id = _run(url)
    metric = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1000, "step": 2}
    for _ in range(3):  # the client replays after a 5xx it never saw the answer of
        assert call(url, "POST", f"{API}/runs/log-metric", metric)[0] == 200
    batch = {"run_id": run_id, "metrics": [metric], "params": [{"key": "a", "value": "1"}]}
    for _ in range(2):
        assert call(url, "POST", f"{API}/runs/log-batch", batch)[0] == 200
    param = {"run_id": run_id, "key": "a", "value": "1"}
    assert call(url, "POST", f"{API}/runs/log-parameter", param)[0] == 200
    assert [m.value for m in store.get_metric_history(run_id, "loss")] == [0.5]
    changed = {"run_id": run_id, "key": "a", "value": "2"}
    status, body = call(url, "POST", f"{API}/runs/log-parameter", changed)
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert store.get_run(run_id).data.params == {"a": "1"}


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"Host": "evil.example"}, 403),
        ({"Host": "evil.example:5000"}, 403),
        ({"Host": "localhost:5000"}, 200),
        ({"Host": "127.0.0.1"}, 200),
        ({"Host": "[::1]:5000"}, 200),
        ({"Host": "127.0.0.1", "Origin": "http://evil.example"}, 403),
        ({"Host": "localhost:5000", "Origin": "http://localhost:5000"}, 200),
        ({"Host": "127.0.0.1:5000", "Origin": "http://localhost:8888"}, 403),  # another app
    ],
)
def test_host_and_origin_checked_on_loopback(
    served: tuple[str, SqliteStore], headers: dict[str, str], status: int
) -> None:
    url, _ = served
    got, body = call(url, "POST", f"{API}/experiments/search", {}, headers=headers)
    assert got == status
    if status == 403:
        assert body["error_code"] == "PERMISSION_DENIED"


def test_cross_site_requests_refused_on_any_interface(tmp_path: Path) -> None:
    # a team server accepts any Host, but a browser page from elsewhere may not use the
    # credentials its browser keeps for the server (no preflight for a text/plain POST)
    store = SqliteStore(str(tmp_path / "satchel.db"), str(tmp_path / "artifacts"))
    context = ServerContext(store, str(tmp_path / "artifacts"), f"sqlite:///{tmp_path}/x.db")
    with BackgroundServer(create_app(context=context, allowed_hosts=None)) as url:
        path = f"{API}/experiments/create"
        evil = {"Host": "team.example:443", "Origin": "https://evil.example", "Content-Type":
                "text/plain"}  # fmt: skip
        assert call(url, "POST", path, {"name": "x"}, headers=evil)[0] == 403
        same = {"Host": "team.example:443", "Origin": "https://team.example:443"}
        assert call(url, "POST", path, {"name": "y"}, headers=same)[0] == 200
        assert call(url, "POST", path, {"name": "z"}, headers={"Host": "team.example"})[0] == 200
    names = {e.name for e in store.search_experiments()}
    assert {"y", "z"} <= names and "x" not in names
    store.close()


def test_request_size_limits(served: tuple[str, SqliteStore]) -> None:
    url, _ = served
    run_id = _run(url)
    huge = b'{"run_id": "' + run_id.encode() + b'", "x": "' + b"y" * (17 * 1024 * 1024) + b'"}'
    status, body = call(url, "POST", f"{API}/runs/log-batch", raw=huge)
    assert status == 413 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    metrics = [{"key": "m", "value": i, "timestamp": 1, "step": i} for i in range(1001)]
    status, body = call(
        url, "POST", f"{API}/runs/log-batch", {"run_id": run_id, "metrics": metrics}
    )
    assert status == 400 and "at most 1000 metrics" in body["message"]


@pytest.mark.parametrize(
    "location",
    ["/etc", "file:///etc", "http://169.254.169.254/latest", "s3://bucket/x", "http:///#/../../"],
)
def test_artifact_location_cannot_be_chosen_by_clients(
    served: tuple[str, SqliteStore], location: str
) -> None:
    url, store = served
    body = {"name": "x", "artifact_location": location}
    status, answer = call(url, "POST", f"{API}/experiments/create", body)
    assert (status, answer["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert store.get_experiment_by_name("x") is None


def test_runs_carry_proxy_artifact_uris(served: tuple[str, SqliteStore]) -> None:
    url, _ = served
    _, body = call(url, "GET", f"{API}/experiments/get?experiment_id=0")
    assert body["experiment"]["artifact_location"] == "mlflow-artifacts:/0"
    run_id = _run(url)
    _status, body = call(url, "GET", f"{API}/runs/get?run_uuid={run_id}")
    assert body["run"]["info"]["artifact_uri"] == f"mlflow-artifacts:/0/{run_id}/artifacts"


def test_logged_model_lifecycle_and_its_files(served: tuple[str, SqliteStore]) -> None:
    """What MLflow 3's log_model sends: create (PENDING), outputs, files through the proxy
    under <experiment>/models/<id>/artifacts, finalize (READY); then search and tags."""
    url, _ = served
    run_id = _run(url)
    body = {
        "experiment_id": "0",
        "name": "model",
        "source_run_id": run_id,
        "params": [{"key": "alpha", "value": "0.5"}],
        "tags": [{"key": "k", "value": "v"}],
    }
    status, created = call(url, "POST", f"{API}/logged-models", body)
    assert status == 200, created
    info = created["model"]["info"]
    model_id = info["model_id"]
    assert info["status"] == "LOGGED_MODEL_PENDING" and info["source_run_id"] == run_id
    assert info["artifact_uri"] == f"mlflow-artifacts:/0/models/{model_id}/artifacts"
    assert created["model"]["data"]["params"] == [{"key": "alpha", "value": "0.5"}]
    outputs = {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}
    assert call(url, "POST", f"{API}/runs/outputs", outputs) == (200, {})
    proxy = f"/api/2.0/mlflow-artifacts/artifacts/0/models/{model_id}/artifacts"
    assert call(url, "PUT", f"{proxy}/MLmodel", raw=b"flavors: {}\n")[0] == 200
    assert call(url, "GET", f"{proxy}/MLmodel") == (200, b"flavors: {}\n")
    for bad in (
        f"{proxy}/..%2F..%2F..%2Fx",
        f"/api/2.0/mlflow-artifacts/artifacts/1/models/{model_id}/artifacts/x",
    ):
        assert call(url, "PUT", bad, raw=b"x")[0] in (400, 404), bad
    status, done = call(url, "PATCH", f"{API}/logged-models/{model_id}",
                        {"model_id": model_id, "status": "LOGGED_MODEL_READY"})  # fmt: skip
    assert (status, done["model"]["info"]["status"]) == (200, "LOGGED_MODEL_READY")
    tags = {"tags": [{"key": "mlflow.modelVersions", "value": "[]"}]}
    assert call(url, "PATCH", f"{API}/logged-models/{model_id}/tags", tags)[0] == 200
    assert call(url, "DELETE", f"{API}/logged-models/{model_id}/tags/k")[0] == 200
    search = {"experiment_ids": ["0"], "filter": "name = 'model'"}
    _, found = call(url, "POST", f"{API}/logged-models/search", search)
    assert [m["info"]["model_id"] for m in found["models"]] == [model_id]
    assert found["models"][0]["info"]["tags"] == [{"key": "mlflow.modelVersions", "value": "[]"}]
    _, listed = call(url, "GET", f"{API}/logged-models/{model_id}/artifacts/directories")
    assert [f["path"] for f in listed["files"]] == ["MLmodel"]
    _, run = call(url, "GET", f"{API}/runs/get?run_id={run_id}")
    assert run["run"]["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 0}]}
    other = _run(url)
    status, body = call(url, "POST", f"{API}/runs/outputs",
                        {"run_id": other, "models": [{"model_id": model_id}]})  # fmt: skip
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert call(url, "DELETE", f"{API}/logged-models/{model_id}")[0] == 200
    status, body = call(url, "GET", f"{API}/logged-models/{model_id}")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
