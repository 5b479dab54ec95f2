"""``satchel.sklearn.autolog()`` / ``satchel.autolog()`` on a real scikit-learn pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from models_helpers import run_py

pytestmark = pytest.mark.slow

SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")
import numpy as np, satchel
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
satchel.autolog()
pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5))]).fit(X, y)
first = satchel.last_active_run()
with satchel.start_run() as outer:
    Ridge(alpha=2.0).fit(X, X[:, 0] * 3.0)
client = satchel.Client()
model = satchel.pyfunc.load_model(f"runs:/{first.info.run_id}/model")
print(json.dumps({
    "first": {"params": first.data.params, "metrics": first.data.metrics,
              "tags": first.data.tags, "status": first.info.status.value,
              "pred": model.predict(X[:4]).tolist(), "truth": y[:4].tolist()},
    "outer": client.get_run(outer.info.run_id).data.metrics,
    "runs": len(client.search_runs("0")),
}))
"""


def test_autolog_records_params_metrics_and_a_loadable_model(ml_python: Path) -> None:
    out = json.loads(run_py(ml_python, SCRIPT).stdout.strip().splitlines()[-1])
    first = out["first"]
    assert first["status"] == "FINISHED"  # the run autolog started is ended after fit
    assert first["params"]["clf__C"] == "0.5"
    assert first["params"]["scale__with_mean"] == "True"
    assert first["tags"]["estimator_name"] == "Pipeline"
    assert 0.8 <= first["metrics"]["training_accuracy_score"] <= 1.0
    assert {
        "training_f1_score",
        "training_precision_score",
        "training_recall_score",
        "training_score",
    } <= set(first["metrics"])
    assert first["pred"] == first["truth"]
    assert out["outer"]["training_r2_score"] > 0.99  # logged into the already active run
    assert out["runs"] == 2  # the pipeline's inner fits logged nothing of their own
