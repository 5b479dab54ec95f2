"""scikit-learn: saved with skops by default (no code runs at load), pickle only on request.

The MLmodel entries are MLflow's own (``sklearn`` flavour, ``python_function`` with
``loader_module: mlflow.sklearn``), so ``mlflow.pyfunc.load_model`` reads Satchel's
models and Satchel reads MLflow's. The types skops cannot trust by default are recorded at
save time (``skops_trusted_types``) and only those are trusted at load; the sha256 manifest
guarantees the list is the one written.
"""

from __future__ import annotations

import pickle
import platform
import warnings
from pathlib import Path
from typing import Any

from satchel.errors import ModelError
from satchel.models.requirements import pinned
from satchel.models.save import FlavorFiles

__all__ = ["PICKLE_WARNING", "load", "save"]

FORMATS = ("skops", "pickle", "cloudpickle")
PICKLE_WARNING = (
    "saving a scikit-learn model with pickle: loading it runs arbitrary code, so only load it "
    "from a source you trust (the default, skops, does not)"
)


def _skops() -> Any:
    try:
        import skops.io as sio
    except ImportError:
        raise ModelError(
            "saving or loading a scikit-learn model in skops format needs the skops package",
            hint="pip install skops (or pass serialization_format='pickle')",
        ) from None
    return sio


def save(model: Any, serialization_format: str = "skops") -> Any:
    """A ``write_flavor`` callback for ``save_model_dir``."""
    if serialization_format not in FORMATS:
        raise ModelError(
            f"unknown serialization_format {serialization_format!r}",
            hint=f"use one of {', '.join(FORMATS)}",
        )

    def write(tmp: Path) -> FlavorFiles:
        import sklearn

        packages = ["scikit-learn", "numpy", "scipy"]
        trusted: list[str] | None = None
        if serialization_format == "skops":
            sio = _skops()
            file_name = "model.skops"
            sio.dump(model, tmp / file_name)
            trusted = sio.get_untrusted_types(file=tmp / file_name) or None
            packages.append("skops")
        else:
            warnings.warn(PICKLE_WARNING, UserWarning, stacklevel=4)
            file_name = "model.pkl"
            with open(tmp / file_name, "wb") as fh:
                pickle.dump(model, fh, protocol=pickle.DEFAULT_PROTOCOL)
            if serialization_format == "cloudpickle":
                packages.append("cloudpickle")
        flavors = {
            "python_function": {
                "env": {"virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn",
                "model_path": file_name,
                "predict_fn": "predict",
                "python_version": platform.python_version(),
            },
            "sklearn": {
                "code": None,
                "pickled_model": file_name,
                "serialization_format": serialization_format,
                "sklearn_version": sklearn.__version__,
                "skops_trusted_types": trusted,
            },
        }
        return FlavorFiles(flavors, pinned(packages), getattr(model, "predict", None))

    return write


def load(model_dir: Path, conf: dict[str, Any]) -> Any:
    path = model_dir / str(conf.get("pickled_model") or "model.pkl")
    fmt = conf.get("serialization_format") or "cloudpickle"
    if not path.is_file():
        raise ModelError(f"model file {path} is missing", hint="log the model again")
    if fmt == "skops":
        trusted = conf.get("skops_trusted_types") or None
        return _skops().load(path, trusted=trusted)
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - the format the model's author chose; checked
