"""``PyFuncModel``: a loaded model of any flavour, with one ``predict``."""

from __future__ import annotations

from typing import Any

from satchel.models.mlmodel import ModelMeta

__all__ = ["PyFuncModel"]


class PyFuncModel:
    """What ``satchel.pyfunc.load_model`` returns: ``predict(data)`` plus the metadata."""

    def __init__(self, meta: ModelMeta, impl: Any, flavor: str) -> None:
        self.metadata = meta
        self.flavor = flavor
        self._impl = impl

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._impl.predict(data)

    def get_raw_model(self) -> Any:
        """The underlying object (the estimator, the Keras model, your python_model)."""
        return self._impl

    unwrap_python_model = get_raw_model

    def __repr__(self) -> str:
        return f"PyFuncModel(flavor={self.flavor!r}, path={str(self.metadata.path)!r})"
