"""The unchanged ``mlflow`` client logs, registers, labels and loads models through ``satchel
server`` (MLflow 3's logged models and the model registry), on SQLite and on PostgreSQL; and
Satchel's own client reads and loads the same models over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.models.models_helpers import TRAIN, run_py
from tests.server.server_helpers import (
    call,
    mlflow_client_server,
    run_mlflow,
)

pytestmark = pytest.mark.slow

LOG_REGISTER_LOAD = """
import json, mlflow, numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.2]])
mlflow.set_experiment("registry")
with mlflow.start_run() as run:
    model = LogisticRegression().fit(X, [0, 1, 0, 1])
    first = mlflow.sklearn.log_model(model, name="model", input_example=X[:2],
                                     registered_model_name="iris")
    flipped = LogisticRegression().fit(X, [1, 0, 1, 0])
    mlflow.sklearn.log_model(flipped, name="flipped", input_example=X[:2])
    mlflow.log_metric("after_model", 1.0)
second = mlflow.register_model(f"runs:/{run.info.run_id}/flipped", "iris")
c = MlflowClient()
c.transition_model_version_stage("iris", 1, "Production")
c.transition_model_version_stage("iris", 2, "Production", archive_existing_versions=True)
c.set_registered_model_alias("iris", "champion", 1)
c.set_model_version_tag("iris", 2, "validation_status", "passed")
c.update_registered_model("iris", description="flowers")
result = {
    "versions": [first.registered_model_version, second.version],
    "stages": {mv.version: mv.current_stage for mv in c.search_model_versions("name='iris'")},
    "champion": mlflow.pyfunc.load_model("models:/iris@champion").predict(X).tolist(),
    "production": mlflow.pyfunc.load_model("models:/iris/Production").predict(X).tolist(),
    "by_version": mlflow.sklearn.load_model("models:/iris/2").predict(X).tolist(),
    "by_model_id": mlflow.pyfunc.load_model(f"models:/{first.model_id}").predict(X).tolist(),
    "source": c.get_model_version("iris", 1).source,
    "model_id": first.model_id,
    "download": c.get_model_version_download_uri("iris", 1),
    "aliases": c.get_registered_model("iris").aliases,
    "listed": [m.name for m in c.search_registered_models()],
    "logged": sorted(m.name for m in c.search_logged_models([run.info.experiment_id])),
    "outputs": len(c.get_run(run.info.run_id).outputs.model_outputs),
    "run_id": run.info.run_id,
}
print("RESULT " + json.dumps(result))
"""

SATCHEL_SIDE = (
    TRAIN
    + """
client = satchel.Client()
champion = satchel.pyfunc.load_model("models:/iris@champion")
registered = client.get_registered_model("iris")
with satchel.start_run():
    info = satchel.sklearn.log_model(model, name="own", input_example=X[:2],
                                     registered_model_name="iris")
client.set_registered_model_alias("iris", "satchel", info.registered_model_version)
own = satchel.pyfunc.load_model("models:/iris@satchel")
print("RESULT " + json.dumps({
    "champion": champion.predict(X[:4]).tolist(),
    "description": registered.description,
    "aliases": registered.aliases,
    "own": own.predict(X).tolist(),
    "own_version": info.registered_model_version,
    "history": [e.action for e in client.get_registry_history("iris")][:2],
}))
"""
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from mlflow_client_server(request.param, tmp_path_factory.mktemp("registry-server"))


def _result(stdout: str) -> dict:
    return json.loads(stdout.split("RESULT ", 1)[1])


def test_log_register_stage_alias_load_predict(
    server: str, tmp_path: Path, ml_python: Path
) -> None:
    got = _result(run_mlflow(LOG_REGISTER_LOAD, server, tmp_path, timeout=600).stdout)
    assert got["versions"] == ["1", "2"]
    assert got["stages"] == {"1": "Archived", "2": "Production"}
    assert got["champion"] == [0, 1, 0, 1] and got["by_model_id"] == [0, 1, 0, 1]
    assert got["production"] == [1, 0, 1, 0] and got["by_version"] == [1, 0, 1, 0]
    assert got["source"] == f"models:/{got['model_id']}"
    assert got["download"].startswith("mlflow-artifacts:/") and got["model_id"] in got["download"]
    assert got["aliases"] == {"champion": "1"}
    assert got["listed"] == ["iris"] and got["logged"] == ["flipped", "model"]
    assert got["outputs"] == 2

    # the same registry through Satchel's CLI and its own HTTP client
    listed = run_cli("models", "versions", "iris", "-o", "json", "--tracking-uri", server)
    assert listed.returncode == 0, listed.stderr
    versions = json.loads(listed.stdout)
    assert [(v["version"], v["current_stage"]) for v in versions] == [
        ("2", "Production"),
        ("1", "Archived"),
    ]
    assert versions[0]["tags"] == [{"key": "validation_status", "value": "passed"}]
    mine = _result(
        run_py(ml_python, SATCHEL_SIDE, SATCHEL_TRACKING_URI=server, LOGNAME="carol").stdout
    )
    assert mine["champion"] == [0, 1, 0, 1] and mine["description"] == "flowers"
    assert mine["own_version"] == "3" and mine["own"] == [0, 1, 0, 1, 0, 1]
    assert mine["aliases"] == {"champion": "1"}
    assert mine["history"] == ["set_alias", "create_version"]
    history = run_cli("models", "history", "iris", "-o", "json", "--tracking-uri", server)
    assert json.loads(history.stdout)[0]["user"] == "carol"


def test_mistakes_answer_mlflow_errors(server: str) -> None:
    api = f"{server.rstrip('/')}"
    status, body = call(
        api, "POST", "/api/2.0/mlflow/model-versions/create",
        {"name": "no-such-model", "source": "runs:/" + "a" * 32 + "/model"},
    )  # fmt: skip
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "no-such-model" in body["message"]
    call(api, "POST", "/api/2.0/mlflow/registered-models/create", {"name": "errs"})
    status, body = call(
        api, "POST", "/api/2.0/mlflow/model-versions/create",
        {"name": "errs", "source": "runs:/" + "a" * 32 + "/model"},
    )  # fmt: skip
    assert status == 200 and body["model_version"]["version"] == "1"
    status, body = call(
        api, "POST", "/api/2.0/mlflow/model-versions/transition-stage",
        {"name": "errs", "version": "1", "stage": "Live", "archive_existing_versions": False},
    )  # fmt: skip
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Live" in body["message"]
    status, body = call(api, "GET", "/api/2.0/mlflow/registered-models/alias?name=errs&alias=x")
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    for source in ("/etc/passwd", "file:///etc/passwd", "mlflow-artifacts:/../../etc"):
        status, body = call(
            api, "POST", "/api/2.0/mlflow/model-versions/create",
            {"name": "errs", "source": source},
        )  # fmt: skip
        assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE", source
    status, body = call(api, "POST", "/api/2.0/mlflow/registered-models/create", {"name": "errs"})
    assert status == 400 and body["error_code"] == "RESOURCE_ALREADY_EXISTS"
