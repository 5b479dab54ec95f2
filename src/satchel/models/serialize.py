"""Registry records → JSON-ready dicts in MLflow's REST shapes (the server answers with these).

    model_version      {name, version, creation_timestamp, last_updated_timestamp,
                        current_stage, description, source, run_id, status, tags: [{key,value}],
                        aliases: [...], run_link?, model_id?, user_id?}
    registered_model   {name, creation_timestamp, last_updated_timestamp, description,
                        tags: [...], aliases: [{alias, version}], latest_versions: [...]}
    logged model       {"info": {model_id, experiment_id, name, artifact_uri, status, ...},
                        "data": {"params": [...], "metrics": []}}

Fields without a value are left out, as protobuf's JSON does. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from satchel.models.entities import LoggedModel, ModelVersion, RegisteredModel
from satchel.tracking.serialize import key_values

__all__ = ["logged_model_to_dict", "model_version_to_dict", "registered_model_to_dict"]


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [])}


def model_version_to_dict(
    mv: ModelVersion, uri: Callable[[str], str] = lambda s: s
) -> dict[str, Any]:
    return _compact(
        {
            "name": mv.name,
            "version": mv.version,
            "creation_timestamp": mv.creation_timestamp,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "current_stage": mv.current_stage,
            "description": mv.description,
            "source": uri(mv.source),
            "run_id": mv.run_id,
            "run_link": mv.run_link,
            "status": mv.status,
            "tags": key_values(mv.tags),
            "aliases": list(mv.aliases),
            "model_id": mv.model_id,
            "user_id": mv.user_id,
        }
    )


def registered_model_to_dict(
    rm: RegisteredModel, uri: Callable[[str], str] = lambda s: s
) -> dict[str, Any]:
    return _compact(
        {
            "name": rm.name,
            "creation_timestamp": rm.creation_timestamp,
            "last_updated_timestamp": rm.last_updated_timestamp,
            "description": rm.description,
            "tags": key_values(rm.tags),
            "aliases": [{"alias": a, "version": v} for a, v in rm.aliases.items()],
            "latest_versions": [model_version_to_dict(mv, uri) for mv in rm.latest_versions],
        }
    )


def logged_model_to_dict(
    model: LoggedModel, uri: Callable[[str], str] = lambda s: s
) -> dict[str, Any]:
    info = _compact(
        {
            "model_id": model.model_id,
            "experiment_id": model.experiment_id,
            "name": model.name,
            "artifact_uri": uri(model.artifact_location),
            "creation_timestamp_ms": model.creation_timestamp,
            "last_updated_timestamp_ms": model.last_updated_timestamp,
            "status": model.status,
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
            "tags": key_values(model.tags),
        }
    )
    return {"info": info, "data": {"params": key_values(model.params), "metrics": []}}
