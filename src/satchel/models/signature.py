"""Input examples and signatures in MLflow's format, inferred from what the user passes.

    numpy array   → tensor spec  [{"type": "tensor", "tensor-spec": {"dtype": "float64",
                                   "shape": [-1, 2]}}];  example saved as a nested list
    pandas frame  → column spec  [{"type": "double", "name": "x", "required": true}];
                                  example saved in "split" orient

numpy and pandas are imported only when the example is one of theirs.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["Example", "infer_schema", "make_example", "signature_of"]

# numpy dtype kind/name → MLflow column type
_COLUMN_TYPES = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "long",
    "uint8": "integer",
    "float32": "float",
    "float64": "double",
    "object": "string",
    "str": "string",
    "datetime64[ns]": "datetime",
}


class Example:
    """An input example, ready to be written: the data (JSON-able) and its kind."""

    def __init__(self, value: Any, data: Any, kind: str) -> None:
        self.value = value  # what the user gave (fed to predict for the output schema)
        self.data = data  # JSON-able: nested lists, or {"columns", "data"} for a frame
        self.kind = kind  # "ndarray" | "dataframe" | "json_object"

    def files(self) -> dict[str, str]:
        """input_example.json and serving_input_example.json, as MLflow writes them."""
        serving = (
            {"dataframe_split": self.data} if self.kind == "dataframe" else {"inputs": self.data}
        )
        return {
            "input_example.json": json.dumps(self.data),
            "serving_input_example.json": json.dumps(serving, indent=2),
        }

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "artifact_path": "input_example.json",
            "serving_input_path": "serving_input_example.json",
            "type": self.kind,
        }
        if self.kind == "dataframe":
            info["pandas_orient"] = "split"
        return info


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def make_example(value: Any) -> Example:
    if _is_frame(value):
        split = json.loads(value.to_json(orient="split", index=False))
        return Example(value, {"columns": split["columns"], "data": split["data"]}, "dataframe")
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # a numpy array
        return Example(value, value.tolist(), "ndarray")
    if isinstance(value, list):
        import numpy as np

        array = np.asarray(value)
        return Example(array, array.tolist(), "ndarray")
    return Example(value, value, "json_object")


def infer_schema(value: Any) -> list[dict[str, Any]] | None:
    if _is_frame(value):
        return [
            {"type": _COLUMN_TYPES.get(str(dtype), "string"), "name": str(col), "required": True}
            for col, dtype in value.dtypes.items()
        ]
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        shape = [-1, *list(value.shape[1:])]
        return [{"type": "tensor", "tensor-spec": {"dtype": str(value.dtype), "shape": shape}}]
    return None


def signature_of(example: Example, output: Any) -> dict[str, Any] | None:
    """MLmodel's ``signature`` block, or None when the input is not a frame or an array."""
    inputs = infer_schema(example.value)
    if inputs is None:
        return None
    outputs = infer_schema(output) if output is not None else None
    return {
        "inputs": json.dumps(inputs),
        "outputs": json.dumps(outputs) if outputs else None,
        "params": None,
    }
