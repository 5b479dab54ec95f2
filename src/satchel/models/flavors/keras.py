"""Keras 3: the native ``.keras`` file, loaded with ``safe_mode`` (no arbitrary code).

Any Keras 3 backend (jax, torch, tensorflow); the backend's package is pinned with keras.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from satchel.models.requirements import pinned
from satchel.models.save import FlavorFiles

__all__ = ["load", "save"]

DATA = "data"
FILE = "model.keras"
BACKEND_PACKAGES = {"jax": ["jax", "jaxlib"], "torch": ["torch"], "tensorflow": ["tensorflow"]}


class KerasPredictor:
    """``predict`` without Keras's progress bar, on arrays or DataFrames."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, data: Any) -> Any:
        values = data.to_numpy() if hasattr(data, "to_numpy") else data
        return self.model.predict(values, verbose=0)


def save(model: Any) -> Any:
    def write(tmp: Path) -> FlavorFiles:
        import keras

        (tmp / DATA).mkdir()
        model.save(tmp / DATA / FILE)
        backend = keras.backend.backend()
        flavors = {
            "python_function": {
                "env": {"virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.keras",
                "data": DATA,
                "python_version": platform.python_version(),
            },
            "keras": {
                "keras_version": keras.__version__,
                "keras_backend": backend,
                "save_format": "keras",
                "data": DATA,
                "model_file": FILE,
            },
        }
        packages = pinned(["keras", *BACKEND_PACKAGES.get(backend, []), "numpy"])
        return FlavorFiles(flavors, packages, KerasPredictor(model).predict)

    return write


def load(model_dir: Path, conf: dict[str, Any]) -> Any:
    import keras

    path = model_dir / str(conf.get("data") or DATA) / str(conf.get("model_file") or FILE)
    return KerasPredictor(keras.saving.load_model(path, safe_mode=True))
