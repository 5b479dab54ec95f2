"""The model registry's records: registered models, their versions, and the history of changes.

MLflow's data model (names, versions, stages, aliases, tags) plus ``RegistryEvent``: one line
of the append-only history (who changed what, when). Frozen records like the tracking ones
(no ``dataclasses``: the store imports this module on a project's first log). Standard
library only.
"""

from __future__ import annotations

from satchel.errors import InvalidValueError
from satchel.tracking.entities import _Record, _set_state

__all__ = [
    "STAGES",
    "LoggedModel",
    "ModelVersion",
    "RegisteredModel",
    "RegistryEvent",
    "normalize_stage",
]

# MLflow's fixed stages (deprecated there in favour of aliases; the tutorials still use them).
STAGES = ("None", "Staging", "Production", "Archived")


def normalize_stage(stage: object) -> str:
    """``"production"`` → ``"Production"``; a one-line error naming the allowed stages."""
    for known in STAGES:
        if str(stage).lower() == known.lower():
            return known
    raise InvalidValueError(
        f"invalid model stage {stage!r}", hint=f"use one of {', '.join(STAGES)}"
    )


class ModelVersion(_Record):
    _fields = (
        "name",
        "version",
        "creation_timestamp",
        "last_updated_timestamp",
        "current_stage",
        "description",
        "source",
        "run_id",
        "status",
        "tags",
        "aliases",
        "run_link",
        "model_id",
        "user_id",
    )
    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str
    description: str
    source: str
    run_id: str | None
    status: str
    tags: dict[str, str]
    aliases: list[str]
    run_link: str | None
    model_id: str | None
    user_id: str

    def __init__(self, **fields: object) -> None:
        state = {name: fields.get(name) for name in self._fields}
        state["tags"] = fields.get("tags") or {}
        state["aliases"] = fields.get("aliases") or []
        state["description"] = fields.get("description") or ""
        state["user_id"] = fields.get("user_id") or ""
        _set_state(self, "__dict__", state)


class RegisteredModel(_Record):
    _fields = (
        "name",
        "creation_timestamp",
        "last_updated_timestamp",
        "description",
        "tags",
        "aliases",
        "latest_versions",
    )
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str
    tags: dict[str, str]
    aliases: dict[str, str]  # alias -> version
    latest_versions: list[ModelVersion]  # the newest version of each stage

    def __init__(self, **fields: object) -> None:
        state = {name: fields.get(name) for name in self._fields}
        state["tags"] = fields.get("tags") or {}
        state["aliases"] = fields.get("aliases") or {}
        state["latest_versions"] = fields.get("latest_versions") or []
        state["description"] = fields.get("description") or ""
        _set_state(self, "__dict__", state)


class RegistryEvent(_Record):
    """One change to the registry. ``detail`` holds what changed (old/new stage, alias...)."""

    _fields = ("event_id", "timestamp", "user", "name", "version", "action", "detail")
    event_id: int
    timestamp: int
    user: str
    name: str
    version: str | None
    action: str
    detail: dict[str, object]

    def __init__(
        self,
        event_id: int,
        timestamp: int,
        user: str,
        name: str,
        version: str | None,
        action: str,
        detail: dict[str, object],
    ) -> None:
        _set_state(
            self,
            "__dict__",
            {
                "event_id": event_id,
                "timestamp": timestamp,
                "user": user,
                "name": name,
                "version": version,
                "action": action,
                "detail": detail,
            },
        )


class LoggedModel(_Record):
    """An MLflow 3 logged model: a model's own record, created before its files upload."""

    _fields = (
        "model_id",
        "experiment_id",
        "name",
        "artifact_location",
        "creation_timestamp",
        "last_updated_timestamp",
        "status",
        "model_type",
        "source_run_id",
        "tags",
        "params",
    )
    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str  # LOGGED_MODEL_PENDING | LOGGED_MODEL_READY | LOGGED_MODEL_UPLOAD_FAILED
    model_type: str | None
    source_run_id: str | None
    tags: dict[str, str]
    params: dict[str, str]

    def __init__(self, **fields: object) -> None:
        state = {name: fields.get(name) for name in self._fields}
        state["tags"] = fields.get("tags") or {}
        state["params"] = fields.get("params") or {}
        _set_state(self, "__dict__", state)
