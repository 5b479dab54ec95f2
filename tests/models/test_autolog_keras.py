"""``satchel.keras.autolog()`` on a small Keras 3 model (jax backend, synthetic data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from models_helpers import run_py

pytestmark = pytest.mark.slow

SCRIPT = """
import json
import numpy as np, keras, satchel
satchel.autolog()  # finds keras installed (no scikit-learn here)
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4)).astype("float32")
y = (X[:, 0] > 0).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
# min_delta larger than any change: stops after `patience` epochs without "improvement"
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
model.fit(X, y, epochs=6, batch_size=16, validation_split=0.25, callbacks=[stop], verbose=0)
run = satchel.last_active_run()
client = satchel.Client()
rid = run.info.run_id
loaded = satchel.pyfunc.load_model(f"runs:/{rid}/model")
print(json.dumps({
    "status": run.info.status.value, "params": run.data.params, "metrics": run.data.metrics,
    "val_loss_steps": [m.step for m in client.get_metric_history(rid, "val_loss")],
    "loss_steps": [m.step for m in client.get_metric_history(rid, "loss")],
    "artifacts": sorted(f.path for f in client.list_artifacts(rid)),
    "same": bool(np.allclose(loaded.predict(X[:5]), model.predict(X[:5], verbose=0))),
    "flavor": loaded.flavor,
}))
"""


def test_keras_autolog_records_epochs_params_summary_and_model(keras_python: Path) -> None:
    done = run_py(keras_python, SCRIPT, KERAS_BACKEND="jax")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["status"] == "FINISHED"
    params = out["params"]
    assert (params["epochs"], params["batch_size"], params["optimizer_name"]) == ("6", "16", "Adam")
    assert params["validation_split"] == "0.25"
    assert abs(float(params["learning_rate"]) - 0.01) < 1e-6
    assert (params["monitor"], params["patience"]) == ("val_loss", "1")
    # early stopping after epoch 1: two epochs, each with its step
    assert out["val_loss_steps"] == [0, 1] and out["loss_steps"] == [0, 1]
    assert {"accuracy", "val_accuracy", "loss", "val_loss"} <= set(out["metrics"])
    assert out["metrics"]["stopped_epoch"] == 1.0
    assert "restored_epoch" in out["metrics"]
    assert out["artifacts"] == ["model", "model_summary.txt"]
    assert out["same"] is True and out["flavor"] == "keras"
