"""Satchel: log params, metrics, tags and artifacts from any Python code.

    import satchel
    with satchel.start_run():
        satchel.log_param("alpha", 0.5)
        satchel.log_metric("rmse", 0.71, step=3)

This module and ``satchel.tracking`` use only the standard library, so project code can
``import satchel`` inside any environment Satchel builds, and the import stays fast.
``satchel.sklearn``, ``satchel.pyfunc`` and ``satchel.keras`` are imported on first use.
"""

from __future__ import annotations

from satchel._version import __version__
from satchel.tracking.client import Client
from satchel.tracking.entities import Experiment, Metric, Run, RunStatus
from satchel.tracking.fluent import (
    active_run,
    end_run,
    get_experiment_by_name,
    get_run,
    get_tracking_uri,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)

# Submodules imported on first attribute access (PEP 562), so `import satchel` stays light.
_LAZY_SUBMODULES = ("sklearn", "pyfunc", "keras")


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"satchel.{name}")
    raise AttributeError(f"module 'satchel' has no attribute {name!r}")


def register_model(model_uri: str, name: str, tags: dict[str, object] | None = None) -> object:
    """Register ``model_uri`` (``runs:/RUN_ID/model``) as a new version of model ``name``."""
    from satchel.models.log import register_model as register

    return register(model_uri, name, tags)


def autolog(**options: object) -> None:
    """Turn on autologging for every supported library that is installed (sklearn, keras)."""
    from satchel.integrations.autolog import autolog as enable

    enable(**options)


__all__ = [
    "Client",
    "Experiment",
    "Metric",
    "Run",
    "RunStatus",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
