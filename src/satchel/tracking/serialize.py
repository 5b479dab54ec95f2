"""Tracking records ⇄ JSON-ready dicts in MLflow's REST shapes: one function per entity.

The server answers with these, ``satchel ... -o json`` prints them, the web UI renders them
and the HTTP store reads them back (``*_from_dict``). Shapes follow MLflow's protobuf JSON:
tags, params and metrics are lists of ``{"key", "value"}``; a run is ``{"info", "data",
"inputs"}``; fields without a value are left out. Numbers stay numbers; NaN and ±inf become
the strings "NaN", "Infinity", "-Infinity" (protobuf's JSON, which strict parsers accept).
Standard library only.
"""

from __future__ import annotations

import math

from satchel.tracking.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from satchel.models.entities import (
        LoggedModel,
        ModelVersion,
        RegisteredModel,
        RegistryEvent,
    )
    from satchel.tracking.artifacts import FileInfo

__all__ = [
    "experiment_from_dict",
    "experiment_to_dict",
    "file_info_to_dict",
    "float_from_json",
    "float_to_json",
    "key_values",
    "logged_model_from_dict",
    "logged_model_to_dict",
    "metric_from_dict",
    "metric_to_dict",
    "model_version_from_dict",
    "model_version_to_dict",
    "registered_model_from_dict",
    "registered_model_to_dict",
    "registry_event_from_dict",
    "registry_event_to_dict",
    "run_from_dict",
    "run_info_from_dict",
    "run_info_to_dict",
    "run_to_dict",
]

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def float_to_json(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def float_from_json(value: Any) -> float:
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    return float(value)


def key_values(mapping: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def _mapping(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or ()}


def experiment_to_dict(
    experiment: Experiment, artifact_uri: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """``artifact_uri`` maps the stored location to the one shown (the server's proxy)."""
    location = experiment.artifact_location
    out: dict[str, Any] = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": artifact_uri(location) if artifact_uri else location,
        "lifecycle_stage": str(experiment.lifecycle_stage),
    }
    if experiment.last_update_time is not None:
        out["last_update_time"] = experiment.last_update_time
    if experiment.creation_time is not None:
        out["creation_time"] = experiment.creation_time
    if experiment.tags:
        out["tags"] = key_values(experiment.tags)
    return out


def experiment_from_dict(d: Mapping[str, Any]) -> Experiment:
    return Experiment(
        str(d["experiment_id"]),
        d.get("name", ""),
        d.get("artifact_location", ""),
        LifecycleStage(d.get("lifecycle_stage", "active")),
        _mapping(d.get("tags")),
        _int_or_none(d.get("creation_time")),
        _int_or_none(d.get("last_update_time")),
    )


def run_info_to_dict(
    info: RunInfo, artifact_uri: Callable[[str], str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_uuid": info.run_id,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": str(info.status),
        "start_time": info.start_time,
        "artifact_uri": artifact_uri(info.artifact_uri) if artifact_uri else info.artifact_uri,
        "lifecycle_stage": str(info.lifecycle_stage),
    }
    if info.end_time is not None:
        out["end_time"] = info.end_time
    return out


def run_info_from_dict(d: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        str(d.get("run_id") or d["run_uuid"]),
        str(d["experiment_id"]),
        d.get("run_name", ""),
        d.get("user_id", ""),
        RunStatus(d.get("status", "RUNNING")),
        int(d.get("start_time") or 0),
        _int_or_none(d.get("end_time")),
        d.get("artifact_uri", ""),
        LifecycleStage(d.get("lifecycle_stage", "active")),
    )


def run_to_dict(run: Run, artifact_uri: Callable[[str], str] | None = None) -> dict[str, Any]:
    """MLflow's run JSON. The data holds each metric's latest value (with step and
    timestamp where the store keeps them; 0 otherwise)."""
    data: dict[str, Any] = {}
    if run.data.metrics:
        data["metrics"] = [
            {"key": k, "value": float_to_json(v), "timestamp": 0, "step": 0}
            for k, v in run.data.metrics.items()
        ]
    if run.data.params:
        data["params"] = key_values(run.data.params)
    if run.data.tags:
        data["tags"] = key_values(run.data.tags)
    return {"info": run_info_to_dict(run.info, artifact_uri), "data": data, "inputs": {}}


def run_from_dict(d: Mapping[str, Any]) -> Run:
    data = d.get("data") or {}
    metrics = {str(m["key"]): float_from_json(m.get("value", 0)) for m in data.get("metrics", ())}
    return Run(
        run_info_from_dict(d["info"]),
        RunData(metrics, _mapping(data.get("params")), _mapping(data.get("tags"))),
    )


def metric_to_dict(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": float_to_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def metric_from_dict(d: Mapping[str, Any]) -> Metric:
    return Metric(
        str(d["key"]),
        float_from_json(d.get("value", 0)),
        int(d.get("timestamp") or 0),
        int(d.get("step") or 0),
    )


def file_info_to_dict(info: FileInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"path": info.path, "is_dir": info.is_dir}
    if info.file_size is not None:
        out["file_size"] = info.file_size
    return out


# -- the model registry (MLflow's RegisteredModel, ModelVersion, LoggedModel) ----------------
def model_version_to_dict(
    mv: ModelVersion, artifact_uri: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """``artifact_uri`` maps a stored source location to the one shown (the server's proxy)."""
    out: dict[str, Any] = {
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
        "current_stage": mv.current_stage,
        "description": mv.description,
        "source": artifact_uri(mv.source) if artifact_uri else mv.source,
        "status": mv.status,
        "run_link": mv.run_link or "",
    }
    for key in ("run_id", "model_id", "user_id"):
        if getattr(mv, key):
            out[key] = getattr(mv, key)
    if mv.tags:
        out["tags"] = key_values(mv.tags)
    if mv.aliases:
        out["aliases"] = list(mv.aliases)
    return out


def model_version_from_dict(d: Mapping[str, Any]) -> ModelVersion:
    from satchel.models.entities import ModelVersion

    return ModelVersion(
        name=d["name"],
        version=str(d["version"]),
        creation_timestamp=_int_or_none(d.get("creation_timestamp")),
        last_updated_timestamp=_int_or_none(d.get("last_updated_timestamp")),
        current_stage=d.get("current_stage") or "None",
        description=d.get("description") or "",
        source=d.get("source") or "",
        run_id=d.get("run_id") or None,
        status=d.get("status") or "READY",
        tags=_mapping(d.get("tags")),
        aliases=list(d.get("aliases") or ()),
        run_link=d.get("run_link") or None,
        model_id=d.get("model_id") or None,
        user_id=d.get("user_id") or "",
    )


def registered_model_to_dict(
    rm: RegisteredModel, artifact_uri: Callable[[str], str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": rm.name,
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
        "description": rm.description,
    }
    if rm.latest_versions:
        out["latest_versions"] = [
            model_version_to_dict(mv, artifact_uri) for mv in rm.latest_versions
        ]
    if rm.tags:
        out["tags"] = key_values(rm.tags)
    if rm.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in rm.aliases.items()]
    return out


def registered_model_from_dict(d: Mapping[str, Any]) -> RegisteredModel:
    from satchel.models.entities import RegisteredModel

    return RegisteredModel(
        name=d["name"],
        creation_timestamp=_int_or_none(d.get("creation_timestamp")),
        last_updated_timestamp=_int_or_none(d.get("last_updated_timestamp")),
        description=d.get("description") or "",
        tags=_mapping(d.get("tags")),
        aliases={str(a["alias"]): str(a["version"]) for a in d.get("aliases") or ()},
        latest_versions=[model_version_from_dict(mv) for mv in d.get("latest_versions") or ()],
    )


def logged_model_to_dict(
    model: LoggedModel, artifact_uri: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """MLflow 3's ``{"info": ..., "data": {"params", "metrics"}}``."""
    location = model.artifact_location
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": artifact_uri(location) if artifact_uri else location,
        "status": model.status,
    }
    for key in ("model_type", "source_run_id"):
        if getattr(model, key):
            info[key] = getattr(model, key)
    if model.tags:
        info["tags"] = key_values(model.tags)
    data: dict[str, Any] = {"params": key_values(model.params)} if model.params else {}
    return {"info": info, "data": data}


def logged_model_from_dict(d: Mapping[str, Any]) -> LoggedModel:
    from satchel.models.entities import LoggedModel

    info, data = d.get("info") or {}, d.get("data") or {}
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_location=info.get("artifact_uri", ""),
        creation_timestamp=_int_or_none(info.get("creation_timestamp_ms")),
        last_updated_timestamp=_int_or_none(info.get("last_updated_timestamp_ms")),
        status=info.get("status") or "LOGGED_MODEL_PENDING",
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        tags=_mapping(info.get("tags")),
        params=_mapping(data.get("params")),
    )


def registry_event_to_dict(event: RegistryEvent) -> dict[str, Any]:
    """One line of the registry's history (Satchel's own: MLflow keeps none)."""
    return {k: getattr(event, k) for k in event._fields}


def registry_event_from_dict(d: Mapping[str, Any]) -> RegistryEvent:
    from satchel.models.entities import RegistryEvent

    version = d.get("version")
    return RegistryEvent(
        int(d["event_id"]),
        int(d["timestamp"]),
        str(d.get("user") or ""),
        str(d["name"]),
        None if version is None else str(version),
        str(d["action"]),
        dict(d.get("detail") or {}),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)
