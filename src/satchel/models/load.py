"""Load a model from any URI: locate it, verify its checksums, pick the flavour's loader.

Satchel loads by flavour (``sklearn``, ``keras``, ``satchel_python_model``) with its own
code, never by importing the ``loader_module`` named in MLmodel, so a model written by MLflow
loads without mlflow installed and a file cannot name code to run.
"""

from __future__ import annotations

import importlib
from typing import Any

from satchel.errors import ModelError
from satchel.models.checksums import verify
from satchel.models.flavors import LOADERS
from satchel.models.mlmodel import ModelMeta, read_mlmodel
from satchel.models.pyfunc_model import PyFuncModel
from satchel.models.uri import LocatedModel, locate

__all__ = ["load_flavor", "load_pyfunc", "open_model"]


def open_model(model_uri: str, client: Any = None) -> tuple[LocatedModel, ModelMeta]:
    """Locate and verify ``model_uri``; the caller must ``cleanup()`` the located model."""
    from satchel.tracking.client import Client

    located = locate(str(model_uri), client or Client())
    try:
        verify(located.path, located.digest)
        return located, read_mlmodel(located.path)
    except BaseException:
        located.cleanup()
        raise


def load_flavor(meta: ModelMeta, wanted: str | None = None) -> tuple[str, Any]:
    flavors = meta.flavors
    names = [wanted] if wanted else [n for n in LOADERS if n in flavors]
    for name in names:
        if name in flavors and name in LOADERS:
            module = importlib.import_module(LOADERS[name])
            return name, module.load(meta.path, dict(flavors[name] or {}))
    have = ", ".join(sorted(flavors)) or "none"
    if wanted:
        raise ModelError(
            f"model at {meta.path} has no {wanted} flavour (it has: {have})",
            hint="load it with satchel.pyfunc.load_model",
        )
    raise ModelError(
        f"model at {meta.path} has no flavour Satchel can load (it has: {have})",
        hint=f"Satchel loads: {', '.join(LOADERS)}",
    )


def load_pyfunc(model_uri: str, flavor: str | None = None) -> PyFuncModel:
    located, meta = open_model(model_uri)
    try:
        name, impl = load_flavor(meta, flavor)
    finally:
        located.cleanup()  # loaded into memory; the copy is no longer needed
    return PyFuncModel(meta, impl, name)
