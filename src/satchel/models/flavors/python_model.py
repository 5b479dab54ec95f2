"""Any Python object with ``predict(model_input)``: pickled, so loading it runs code.

There is no safe general format for an arbitrary object, so this flavour warns when it saves;
the sha256 manifest still refuses a pickle changed after logging. The object's class must be
importable where the model is loaded (pickle stores classes by reference).
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

__all__ = ["load", "save"]

FILE = "python_model.pkl"
WARNING = (
    "python_model is saved with pickle: loading it runs arbitrary code, so only load it from "
    "a source you trust"
)


def save(python_model: Any, packages: list[str] | None = None) -> Any:
    if not callable(getattr(python_model, "predict", None)):
        raise ModelError(
            f"python_model {type(python_model).__name__} has no predict method",
            hint="pass an object with predict(model_input)",
        )

    def write(tmp: Path) -> FlavorFiles:
        warnings.warn(WARNING, UserWarning, stacklevel=4)
        with open(tmp / FILE, "wb") as fh:
            pickle.dump(python_model, fh, protocol=pickle.DEFAULT_PROTOCOL)
        flavors: dict[str, dict[str, Any]] = {
            "python_function": {
                "env": {"virtualenv": "python_env.yaml"},
                "loader_module": "satchel.models.flavors.python_model",
                "python_model": FILE,
                "python_version": platform.python_version(),
            },
            "satchel_python_model": {"python_model": FILE, "format": "pickle"},
        }
        return FlavorFiles(flavors, pinned(packages or []), python_model.predict)

    return write


def load(model_dir: Path, conf: dict[str, Any]) -> Any:
    with open(model_dir / str(conf.get("python_model", FILE)), "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - checked against the manifest before this


def _load_pyfunc(path: str) -> Any:
    """MLflow's loader hook (``loader_module``), for ``mlflow.pyfunc.load_model``."""
    return load(Path(path).parent if Path(path).is_file() else Path(path), {})
