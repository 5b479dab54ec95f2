"""``satchel.sklearn``: log, save and load scikit-learn models (MLflow's sklearn flavour).

    satchel.sklearn.log_model(pipeline, name="model", input_example=X[:5],
                              registered_model_name="wine")
    model = satchel.sklearn.load_model("models:/wine@champion")

Saved with skops by default; ``serialization_format="pickle"`` only when asked (warns).
``satchel.sklearn.autolog()`` logs params, training metrics and the model of every ``fit``.
"""

from __future__ import annotations

import os
from typing import Any

from satchel.models.log import ModelInfo

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    sk_model: Any,
    name: str = "model",
    *,
    artifact_path: str | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    serialization_format: str = "skops",
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
) -> ModelInfo:
    from satchel.models.flavors import sklearn as flavor
    from satchel.models.log import log_model as log

    return log(
        flavor.save(sk_model, serialization_format),
        artifact_path or name,
        input_example=input_example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
    )


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    input_example: Any = None,
    serialization_format: str = "skops",
    pip_requirements: list[str] | None = None,
) -> None:
    from satchel.models.flavors import sklearn as flavor
    from satchel.models.save import save_model_dir

    save_model_dir(
        path,
        flavor.save(sk_model, serialization_format),
        input_example=input_example,
        requirements=pip_requirements,
    )


def load_model(model_uri: str) -> Any:
    """The estimator itself (``predict``, ``predict_proba``, ``score`` ...)."""
    from satchel.models.load import load_pyfunc

    return load_pyfunc(model_uri, flavor="sklearn").get_raw_model()


def autolog(**options: Any) -> None:
    from satchel.integrations.autolog_sklearn import enable

    enable(**options)
