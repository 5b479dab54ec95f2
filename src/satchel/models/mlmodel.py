"""The MLmodel file: what a model directory holds and how to load it (MLflow's format).

artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.skops, env: ...}
  sklearn: {pickled_model: model.skops, serialization_format: skops, ...}
signature: {inputs: '[...]', outputs: '[...]', params: null}
saved_input_example_info: {artifact_path: input_example.json, type: ndarray, ...}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from satchel.errors import ModelError
from satchel.models import _yaml

__all__ = ["MLMODEL", "ModelMeta", "read_mlmodel", "write_mlmodel"]

MLMODEL = "MLmodel"


class ModelMeta:
    """The parsed MLmodel of one model directory."""

    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc

    @property
    def flavors(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("flavors") or {})

    @property
    def run_id(self) -> str | None:
        return self.doc.get("run_id")

    @property
    def signature(self) -> dict[str, Any] | None:
        sig = self.doc.get("signature")
        if not sig:
            return None
        return {k: json.loads(v) if isinstance(v, str) else v for k, v in sig.items()}

    def input_schema(self) -> list[dict[str, Any]] | None:
        sig = self.signature
        return sig.get("inputs") if sig else None

    def __repr__(self) -> str:
        return f"ModelMeta({str(self.path)!r}, flavors={sorted(self.flavors)})"


def read_mlmodel(model_dir: Path) -> ModelMeta:
    path = model_dir / MLMODEL
    if not path.is_file():
        raise ModelError(
            f"no MLmodel file in {model_dir}",
            hint="point at a model directory (the one log_model wrote)",
        )
    doc = _yaml.load(path.read_text(), where=str(path))
    if not isinstance(doc.get("flavors"), dict) or not doc["flavors"]:
        raise ModelError(f"{path} lists no flavors", hint="log the model again")
    return ModelMeta(model_dir, doc)


def write_mlmodel(model_dir: Path, doc: dict[str, Any]) -> None:
    (model_dir / MLMODEL).write_text(_yaml.dump(doc))
