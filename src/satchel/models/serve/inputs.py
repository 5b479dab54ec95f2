"""Request body → model input, MLflow's scoring formats, checked against the signature.

    {"dataframe_split": {"columns": [...], "data": [[...]]}}     a table, split orient
    {"dataframe_records": [{"col": value}, ...]}                  a table, one dict per row
    {"instances": [...]}  /  {"inputs": ...}                      tensors (or records)
    text/csv with a header row                                    a table

Exactly one of the four JSON keys (``params`` may come along). A tensor signature makes a
numpy array of its dtype and checks the shape; a column signature makes a pandas DataFrame
(when pandas is installed) with the required columns. Every problem is a ``BadInput`` whose
message names the key, column or shape that is wrong.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

__all__ = ["FORMATS", "BadInput", "parse_request", "to_jsonable"]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class BadInput(Exception):
    """The request cannot be turned into model input; ``str()`` says why (→ HTTP 400)."""


def _numpy() -> Any:
    try:
        import numpy as np
    except ImportError:
        return None
    return np


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def parse_request(body: bytes, content_type: str, schema: list[dict[str, Any]] | None) -> Any:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "text/csv":
        return _table(*_csv(body), schema)
    if kind not in ("application/json", ""):
        raise BadInput(
            f"unsupported content type {content_type!r}; send application/json or text/csv"
        )
    try:
        doc = json.loads(body or b"null")
    except ValueError as exc:
        raise BadInput(f"the body is not valid JSON: {exc}") from None
    keys = [k for k in FORMATS if isinstance(doc, dict) and k in doc]
    extra = sorted(set(doc) - {*FORMATS, "params"}) if isinstance(doc, dict) else []
    if len(keys) != 1 or extra:
        got = f"got keys {sorted(doc)}" if isinstance(doc, dict) else f"got {type(doc).__name__}"
        raise BadInput(
            "the input must be a JSON object with exactly one of the fields "
            f"{', '.join(FORMATS)} (and optionally params); {got}"
        )
    key = keys[0]
    value = doc[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            raise BadInput('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
        return _table(value.get("columns"), value["data"], schema)
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise BadInput("dataframe_records must be a list of {column: value} objects")
        columns = list(dict.fromkeys(c for row in value for c in row))
        return _table(columns, [[row.get(c) for c in columns] for row in value], schema)
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        columns = list(dict.fromkeys(c for row in value for c in row))
        return _table(columns, [[row.get(c) for c in columns] for row in value], schema)
    if isinstance(value, dict) and schema and "name" in schema[0]:
        columns = list(value)
        rows = list(zip(*[v if isinstance(v, list) else [v] for v in value.values()], strict=False))
        return _table(columns, [list(r) for r in rows], schema)
    return _tensor(value, schema, key)


def _csv(body: bytes) -> tuple[list[str], list[list[Any]]]:
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"the CSV body cannot be read: {exc}") from None
    if len(rows) < 2:
        raise BadInput("the CSV body needs a header row and at least one data row")
    return rows[0], [[_number(cell) for cell in row] for row in rows[1:]]


def _number(cell: str) -> Any:
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        return float(cell)
    except ValueError:
        return cell


def _table(columns: Any, data: list[Any], schema: list[dict[str, Any]] | None) -> Any:
    if columns is not None and (
        not isinstance(columns, list) or any(not isinstance(c, (str, int)) for c in columns)
    ):
        raise BadInput("columns must be a list of column names")
    width = len(columns) if columns else None
    for i, row in enumerate(data):
        if not isinstance(row, list) or (width is not None and len(row) != width):
            raise BadInput(
                f"row {i} has {len(row) if isinstance(row, list) else 'no'} values; "
                f"expected {width} (one per column)"
            )
    if schema and schema[0].get("type") == "tensor":
        return _tensor(data, schema, "data")
    if schema:
        return _columns(columns or [s["name"] for s in schema], data, schema)
    pd = _pandas()
    if pd is not None:
        return pd.DataFrame(data, columns=columns)
    return _tensor(data, None, "data")


_PANDAS_TYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "object",
}


def _columns(columns: list[Any], data: list[Any], schema: list[dict[str, Any]]) -> Any:
    missing = [s["name"] for s in schema if s.get("required", True) and s["name"] not in columns]
    if missing:
        raise BadInput(
            f"missing required column(s) {', '.join(map(repr, missing))}; "
            f"the model expects {[s['name'] for s in schema]}"
        )
    pd = _pandas()
    if pd is None:  # the model's environment has no pandas: rows in the signature's order
        order = [(columns.index(s["name"]), s) for s in schema if s["name"] in columns]
        rows = [[_cast(row[i], spec) for i, spec in order] for row in data]
        return _tensor(rows, None, "data")
    frame = pd.DataFrame(data, columns=columns)
    for spec in schema:
        name, kind = spec["name"], _PANDAS_TYPES.get(spec.get("type", ""))
        if name in frame and kind:
            try:
                frame[name] = frame[name].astype(kind)
            except (ValueError, TypeError):
                raise BadInput(f"column {name!r} cannot be read as {spec['type']}") from None
    return frame[[s["name"] for s in schema if s["name"] in frame]]


def _cast(value: Any, spec: dict[str, Any]) -> Any:
    kind = spec.get("type")
    try:
        if kind in ("double", "float"):
            return float(value)
        if kind in ("long", "integer"):
            return int(value)
    except (TypeError, ValueError):
        raise BadInput(f"column {spec['name']!r} cannot be read as {kind}: {value!r}") from None
    return value


def _tensor(value: Any, schema: list[dict[str, Any]] | None, key: str) -> Any:
    np = _numpy()
    if np is None:
        return value
    spec = schema[0].get("tensor-spec") if schema and schema[0].get("type") == "tensor" else None
    try:
        array = np.asarray(value, dtype=spec["dtype"] if spec else None)
    except (ValueError, TypeError) as exc:
        want = f" of {spec['dtype']}" if spec else ""
        raise BadInput(f"{key} cannot be read as an array{want}: {exc}") from None
    if spec is not None:
        shape = spec.get("shape") or []
        if array.ndim != len(shape) or any(
            want not in (-1, got) for want, got in zip(shape, array.shape, strict=False)
        ):
            raise BadInput(
                f"{key} has shape {list(array.shape)}; the model expects {shape} (-1 = any)"
            )
    return array


def to_jsonable(predictions: Any) -> Any:
    """numpy arrays, pandas frames and series → lists/dicts for ``{"predictions": ...}``."""
    if hasattr(predictions, "to_dict") and hasattr(predictions, "columns"):
        return predictions.to_dict(orient="records")
    if hasattr(predictions, "tolist"):
        return predictions.tolist()
    if isinstance(predictions, (list, tuple)):
        return [to_jsonable(p) for p in predictions]
    if isinstance(predictions, dict):
        return {k: to_jsonable(v) for k, v in predictions.items()}
    return predictions
