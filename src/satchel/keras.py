"""``satchel.keras``: log and load Keras 3 models; ``autolog()`` for ``Model.fit``.

satchel.keras.autolog()          # per-epoch metrics, fit params, summary, the model
model.fit(X, y, epochs=5, validation_split=0.2)
satchel.keras.load_model("runs:/<run_id>/model").predict(X)
"""

from __future__ import annotations

import os
from typing import Any

from satchel.models.log import ModelInfo

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    model: Any,
    name: str = "model",
    *,
    artifact_path: str | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
) -> ModelInfo:
    from satchel.models.flavors import keras as flavor
    from satchel.models.log import log_model as log

    return log(
        flavor.save(model),
        artifact_path or name,
        input_example=input_example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements,
    )


def save_model(model: Any, path: str | os.PathLike[str], *, input_example: Any = None) -> None:
    from satchel.models.flavors import keras as flavor
    from satchel.models.save import save_model_dir

    save_model_dir(path, flavor.save(model), input_example=input_example)


def load_model(model_uri: str) -> Any:
    """The Keras model itself."""
    from satchel.models.load import load_pyfunc

    return load_pyfunc(model_uri, flavor="keras").get_raw_model().model


def autolog(**options: Any) -> None:
    from satchel.integrations.autolog_keras import enable

    enable(**options)
