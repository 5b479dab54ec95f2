"""Runs as a pandas DataFrame, in the shape ``mlflow.search_runs`` returns.

Columns: ``run_id, experiment_id, status, artifact_uri, start_time, end_time`` (times as UTC
timestamps), then ``metrics.<key>`` (NaN when a run lacks it), ``params.<key>`` and
``tags.<key>`` (None when missing). pandas is imported here only, on first use: it is never
a dependency of ``import satchel``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from satchel.errors import UsageError
from satchel.tracking.entities import Run

__all__ = ["has_pandas", "runs_to_dataframe"]


def has_pandas() -> bool:
    """Is pandas importable here (without importing it)?"""
    return importlib.util.find_spec("pandas") is not None


def runs_to_dataframe(runs: Sequence[Run]) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise UsageError(
            "output_format='pandas' needs pandas, which is not installed here",
            hint="pip install pandas, or pass output_format='list'",
        ) from None
    columns: dict[str, list[Any]] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [str(r.info.status) for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": [_time(pd, r.info.start_time) for r in runs],
        "end_time": [_time(pd, r.info.end_time) for r in runs],
    }
    for prefix, attr, missing in (
        ("metrics", "metrics", float("nan")),
        ("params", "params", None),
        ("tags", "tags", None),
    ):
        keys = sorted({k for r in runs for k in getattr(r.data, attr)})
        for key in keys:
            columns[f"{prefix}.{key}"] = [getattr(r.data, attr).get(key, missing) for r in runs]
    return pd.DataFrame(columns)


def _time(pd: Any, ms: int | None) -> Any:
    return pd.to_datetime(ms, unit="ms", utc=True) if ms is not None else pd.NaT
