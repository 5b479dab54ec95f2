"""Both tools load each other's models: the real mlflow package (its own venv) and Satchel."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from models_helpers import TRAIN, run_py

pytestmark = pytest.mark.slow

MLFLOW_SIDE = """
import json, warnings
warnings.simplefilter("ignore")
import mlflow, numpy as np
from sklearn.linear_model import LogisticRegression
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.2]])
loaded = mlflow.pyfunc.load_model("satchel-model")
estimator = mlflow.sklearn.load_model("satchel-model")
mlflow.sklearn.save_model(LogisticRegression().fit(X, [0, 1, 0, 1]), "mlflow-model",
                          input_example=X[:2])
print(json.dumps({"pyfunc": loaded.predict(X).tolist(), "sklearn": type(estimator).__name__,
                  "signature": str(loaded.metadata.signature.inputs)}))
"""


def mlflow_python() -> str:
    python = os.environ.get("SATCHEL_TEST_MLFLOW_PYTHON")
    if not python:
        pytest.fail(
            "SATCHEL_TEST_MLFLOW_PYTHON is not set: run `source .ci/services.sh && "
            "ci_up mlflow` (scripts/test.sh does)"
        )
    return python


def test_mlflow_loads_satchel_models_and_satchel_loads_mlflow_models(ml_python: Path) -> None:
    run_py(
        ml_python, TRAIN + "satchel.sklearn.save_model(model, 'satchel-model', input_example=X[:2])"
    )
    done = subprocess.run(
        [mlflow_python(), "-c", MLFLOW_SIDE], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["pyfunc"] == [0, 1, 0, 1]
    assert seen["sklearn"] == "LogisticRegression"
    assert "float64" in seen["signature"]

    back = run_py(
        ml_python,
        TRAIN
        + """
m = satchel.pyfunc.load_model("mlflow-model")
print(json.dumps([m.flavor, m.predict(X).tolist(), m.metadata.doc["mlflow_version"]]))
""",
    )
    flavor, predictions, version = json.loads(back.stdout)
    assert (flavor, predictions, version) == ("sklearn", [0, 1, 0, 1, 0, 1], "3.17.2")
    assert not Path("mlflow-model/satchel.sha256").exists()  # loaded without a manifest
