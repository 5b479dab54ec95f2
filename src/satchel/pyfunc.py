"""``satchel.pyfunc``: load any model with one ``predict``; log any object that has one.

    model = satchel.pyfunc.load_model("models:/wine/Production")
    model.predict(frame)
    satchel.pyfunc.log_model("model", python_model=MyModel())   # pickled: warns

``load_model`` takes ``runs:/RUN_ID/path``, ``models:/name/3``, ``models:/name/Staging``,
``models:/name@alias`` and local paths, and refuses a model whose files changed after logging.
"""

from __future__ import annotations

import os
from typing import Any

from satchel.models.log import ModelInfo
from satchel.models.pyfunc_model import PyFuncModel

__all__ = ["PyFuncModel", "load_model", "log_model", "save_model"]


def load_model(model_uri: str | os.PathLike[str]) -> PyFuncModel:
    from satchel.models.load import load_pyfunc

    return load_pyfunc(os.fspath(model_uri))


def log_model(
    name: str = "model",
    *,
    python_model: Any,
    artifact_path: str | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
) -> ModelInfo:
    from satchel.models.flavors import python_model as flavor
    from satchel.models.log import log_model as log

    return log(
        flavor.save(python_model),
        artifact_path or name,
        input_example=input_example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
    )


def save_model(
    path: str | os.PathLike[str], *, python_model: Any, input_example: Any = None
) -> None:
    from satchel.models.flavors import python_model as flavor
    from satchel.models.save import save_model_dir

    save_model_dir(path, flavor.save(python_model), input_example=input_example)
