"""``satchel models serve``: MLflow's scoring protocol over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from models_helpers import TRAIN, Served, ml_env, run_py

pytestmark = pytest.mark.slow

LOG_FRAME_MODEL = (
    TRAIN
    + """
import pandas as pd
frame = pd.DataFrame(X, columns=["a", "b"])
model = LogisticRegression().fit(frame, y)
with satchel.start_run():
    satchel.sklearn.log_model(model, name="model", input_example=frame.head(2),
                              registered_model_name="wine")
satchel.Client().set_registered_model_alias("wine", "champion", 1)
"""
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, ml_python: Path) -> dict[str, str]:
    """A store holding models:/wine@champion, and a SATCHEL_HOME shared by this module's
    serves (so the model's environment is built once)."""
    root = tmp_path_factory.mktemp("serve")
    env = {"SATCHEL_TRACKING_URI": str(root / "store"), "SATCHEL_HOME": str(root / "home")}
    cwd = os.getcwd()
    os.chdir(root)
    try:
        run_py(ml_python, LOG_FRAME_MODEL, **env)
    finally:
        os.chdir(cwd)
    return env


def _serve(store: dict[str, str], *extra: str, python: str = sys.executable) -> Served:
    argv = [
        python,
        "-m",
        "satchel",
        "models",
        "serve",
        "-m",
        "models:/wine@champion",
        "--port",
        "0",
        *extra,
    ]
    return Served(argv, ml_env(**store))


@pytest.fixture(scope="module")
def server(store: dict[str, str]) -> Iterator[Served]:
    served = _serve(store)  # --env-manager uv: the model's own environment
    yield served
    served.stop()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[0.0, 1.0], [1.0, 0.0]]}}, None),
        ({"dataframe_records": [{"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 0.0}]}, None),
        ({"instances": [{"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 0.0}]}, None),
        ({"inputs": {"a": [0.0, 1.0], "b": [1.0, 0.0]}}, None),
        ({"inputs": [[0.0, 1.0], [1.0, 0.0]]}, None),
        ("a,b\n0.0,1.0\n1.0,0.0\n", "text/csv"),
    ],
    ids=[
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs-columns",
        "inputs-rows",
        "csv",
    ],
)
def test_every_input_format_predicts(
    server: Served, body: object, content_type: str | None
) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    status, answer = server.request(
        "POST", "/invocations", data, content_type or "application/json"
    )
    assert status == 200, answer
    assert json.loads(answer) == {"predictions": [0, 1]}


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"instance": [[0, 1]]}', "application/json", "exactly one of the fields"),
        (b'{"inputs": [[0, 1]], "instances": [[0, 1]]}', "application/json", "exactly one"),
        (b"{not json", "application/json", "not valid JSON"),
        (
            b'{"dataframe_split": {"columns": ["a"], "data": [[0.0]]}}',
            "application/json",
            "missing required column(s) 'b'",
        ),
        (
            b'{"dataframe_split": {"columns": ["a", "b"], "data": [[0.0]]}}',
            "application/json",
            "row 0 has 1 values; expected 2",
        ),
        (
            b'{"dataframe_records": [{"a": "x", "b": 1}]}',
            "application/json",
            "column 'a' cannot be read as double",
        ),
        (b"a,b\n", "text/csv", "header row and at least one data row"),
        (b"a\tb", "application/xml", "unsupported content type"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(
    server: Served, body: bytes, content_type: str, message: str
) -> None:
    status, answer = server.request("POST", "/invocations", body, content_type)
    assert status == 400, answer
    error = json.loads(answer)
    assert error["error_code"] == "BAD_REQUEST"
    assert message in error["message"]


def test_health_routes_and_version(server: Served) -> None:
    assert server.request("GET", "/ping")[0] == 200
    assert server.request("GET", "/health")[0] == 200
    status, version = server.request("GET", "/version")
    assert status == 200 and version.decode() == "0.1.0"
    assert server.request("GET", "/nope")[0] == 404


def test_a_second_serve_reuses_the_cached_model_environment(
    server: Served, store: dict[str, str]
) -> None:
    assert any("model environment" in line and "built in" in line for line in server.stderr)
    again = _serve(store)
    try:
        assert again.request("POST", "/invocations", b'{"inputs": [[0.0, 1.0]]}')[1] == (
            b'{"predictions": [0]}'
        )
    finally:
        assert again.stop() == 0
    assert any("model environment" in line and "reused" in line for line in again.stderr)


def test_env_manager_local_serves_from_the_current_python(
    store: dict[str, str], ml_python: Path
) -> None:
    served = _serve(store, "--env-manager", "local", python=str(ml_python))
    try:
        status, answer = served.request(
            "POST", "/invocations", b'{"dataframe_records": [{"a": 1.0, "b": 0.0}]}'
        )
        assert (status, json.loads(answer)) == (200, {"predictions": [1]})
    finally:
        assert served.stop() == 0  # SIGTERM ends it like Ctrl-C, the model copy removed
