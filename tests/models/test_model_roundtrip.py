"""Log → register → alias/stage → load → predict on the embedded SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from models_helpers import TRAIN, run_py

from satchel.models import _yaml


def _model_dir(run_id: str) -> Path:
    found = list(Path("satchel/artifacts").glob(f"*/{run_id}/artifacts/model"))
    assert len(found) == 1
    return found[0]


def test_sklearn_round_trip_through_every_uri_form(ml_python: Path) -> None:
    script = (
        TRAIN
        + """
with satchel.start_run() as run:
    info = satchel.sklearn.log_model(model, name="model", input_example=X[:2],
                                     registered_model_name="iris")
client = satchel.Client()
client.set_registered_model_alias("iris", "champion", info.registered_model_version)
client.transition_model_version_stage("iris", 1, "Production")
out = {"run_id": run.info.run_id, "version": info.registered_model_version}
for uri in [info.model_uri, "models:/iris/1", "models:/iris@champion", "models:/iris/Production",
            "models:/iris/latest"]:
    out[uri] = satchel.pyfunc.load_model(uri).predict(X).tolist()
out["sklearn"] = type(satchel.sklearn.load_model("models:/iris@champion")).__name__
print(json.dumps(out))
"""
    )
    out = json.loads(run_py(ml_python, script).stdout)
    run_id = out["run_id"]
    assert out["version"] == "1"
    expected = [0, 1, 0, 1, 0, 1]
    for uri in [
        f"runs:/{run_id}/model",
        "models:/iris/1",
        "models:/iris@champion",
        "models:/iris/Production",
        "models:/iris/latest",
    ]:
        assert out[uri] == expected, uri
    assert out["sklearn"] == "LogisticRegression"

    model_dir = _model_dir(run_id)
    names = {p.name for p in model_dir.iterdir()}
    assert {
        "MLmodel",
        "model.skops",
        "requirements.txt",
        "python_env.yaml",
        "input_example.json",
        "serving_input_example.json",
        "satchel.sha256",
    } <= names
    mlmodel = _yaml.load((model_dir / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert inputs == [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]
    reqs = (model_dir / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("scikit-learn==") for r in reqs)
    assert any(r.startswith("skops==") for r in reqs)
    assert json.loads((model_dir / "serving_input_example.json").read_text()) == {
        "inputs": [[0.0, 1.0], [1.0, 0.0]]
    }


def test_pickle_only_when_asked_and_it_warns(ml_python: Path) -> None:
    script = (
        TRAIN
        + """
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    safe = satchel.sklearn.log_model(model, name="safe")
    unsafe = satchel.sklearn.log_model(model, name="unsafe", serialization_format="pickle")
satchel.end_run()
print(json.dumps({"warnings": [str(w.message) for w in caught], "uri": unsafe.model_uri,
                  "pred": satchel.pyfunc.load_model(unsafe.model_uri).predict(X).tolist()}))
"""
    )
    out = json.loads(run_py(ml_python, script).stdout)
    assert len(out["warnings"]) == 1 and "pickle" in out["warnings"][0]
    assert out["pred"] == [0, 1, 0, 1, 0, 1]
    run_id = out["uri"].split("/")[1]
    run_dir = next(Path("satchel/artifacts").glob(f"*/{run_id}/artifacts"))
    assert (run_dir / "safe" / "model.skops").is_file()
    assert (run_dir / "unsafe" / "model.pkl").is_file()


def test_pyfunc_logs_any_object_with_predict(ml_python: Path, tmp_path: Path) -> None:
    module = tmp_path / "mymodels.py"
    module.write_text(
        "class Doubler:\n    def predict(self, data):\n        return [2 * x for x in data]\n"
    )
    script = """
import json, warnings, satchel
from mymodels import Doubler
warnings.simplefilter("ignore")
info = satchel.pyfunc.log_model("doubler", python_model=Doubler(), input_example=[1, 2])
satchel.pyfunc.save_model("saved", python_model=Doubler())
print(json.dumps([satchel.pyfunc.load_model(info.model_uri).predict([1, 2, 3]),
                  satchel.pyfunc.load_model("saved").predict([4])]))
"""
    out = run_py(ml_python, script, PYTHONPATH=f"{tmp_path}:{Path(__file__).parents[2]}/src")
    assert json.loads(out.stdout) == [[2, 4, 6], [8]]


def test_save_and_load_a_local_path_with_a_dataframe_signature(ml_python: Path) -> None:
    script = (
        TRAIN
        + """
import pandas as pd
frame = pd.DataFrame(X, columns=["a", "b"])
model = LogisticRegression().fit(frame, y)
satchel.sklearn.save_model(model, "local-model", input_example=frame.head(2))
print(json.dumps(satchel.pyfunc.load_model("local-model").predict(frame).tolist()))
"""
    )
    assert json.loads(run_py(ml_python, script).stdout) == [0, 1, 0, 1, 0, 1]
    mlmodel = _yaml.load(Path("local-model/MLmodel").read_text())
    assert json.loads(mlmodel["signature"]["inputs"]) == [
        {"type": "double", "name": "a", "required": True},
        {"type": "double", "name": "b", "required": True},
    ]
    assert mlmodel["saved_input_example_info"]["type"] == "dataframe"


def test_requirements_come_from_the_runs_resolved_lock(ml_python: Path) -> None:
    # What `satchel run` logs for every run it builds an environment for.
    script = (
        TRAIN
        + """
import pathlib
with satchel.start_run() as run:
    pathlib.Path("requirements.lock").write_text("numpy==2.4.6\\nscikit-learn==1.9.1\\n"
                                                  "skops==0.16.0\\nthreadpoolctl==3.6.0\\n")
    satchel.log_artifact("requirements.lock", "env")
    satchel.sklearn.log_model(model, name="model")
print(run.info.run_id)
"""
    )
    run_id = run_py(ml_python, script).stdout.strip()
    reqs = (_model_dir(run_id) / "requirements.txt").read_text().splitlines()
    assert reqs == ["numpy==2.4.6", "scikit-learn==1.9.1", "skops==0.16.0", "threadpoolctl==3.6.0"]


def test_unknown_uris_and_missing_models_fail_in_one_line(ml_python: Path) -> None:
    script = """
import satchel
for uri in ["models:/nope/1", "runs:/", "s3://bucket/model", "models:/x/Nowhere", "no/such/dir"]:
    try:
        satchel.pyfunc.load_model(uri)
    except satchel.errors.SatchelError as exc:
        print(type(exc).__name__, "|", exc)
"""
    lines = run_py(ml_python, "import satchel.errors\n" + script).stdout.splitlines()
    assert len(lines) == 5
    assert "registered model 'nope' not found" in lines[0]
    assert "needs a run id and a path" in lines[1]
    assert "unsupported model URI" in lines[2]
    assert "neither a version number nor a stage" in lines[3] or "not found" in lines[3]
    assert "no model directory" in lines[4]
