"""The tracking data model, MLflow's: experiments, runs, params, metrics, tags.

Frozen records; stores build them, nothing downstream mutates them. Standard library only.

The records are small hand-written classes rather than dataclasses: ``dataclasses`` pulls in
``inspect`` and ``ast`` (~20 ms), which ``import satchel`` cannot afford, and a store builds
thousands of these per search page, where a one-step ``__init__`` matters. They behave like
frozen dataclasses: keyword or positional construction, field-wise ``==`` between records of
the same class, a hash over the fields, the same ``repr``, and assignment raises.
"""

from __future__ import annotations

import enum

TYPE_CHECKING = False  # typing costs import time; mypy treats this name as True
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    T = TypeVar("T")

__all__ = [
    "Experiment",
    "FrozenInstanceError",
    "LifecycleStage",
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "ViewType",
]

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


class RunStatus(str, enum.Enum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)

    def __str__(self) -> str:
        return self.value


class LifecycleStage(str, enum.Enum):
    ACTIVE = "active"
    DELETED = "deleted"

    def __str__(self) -> str:
        return self.value


class ViewType(enum.Enum):
    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3


class FrozenInstanceError(AttributeError):
    """Raised on assignment to a record's field (like ``dataclasses.FrozenInstanceError``)."""


# Sets a record's whole state in one call, bypassing the frozen ``__setattr__``.
_set_state = object.__setattr__


class _Record:
    """Shared behaviour of the frozen records; each subclass lists its ``_fields`` in order."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self.__dict__ == other.__dict__
        return NotImplemented

    def __hash__(self) -> int:
        state = self.__dict__
        return hash(tuple(state[name] for name in self._fields))

    def __repr__(self) -> str:
        state = self.__dict__
        body = ", ".join(f"{name}={state[name]!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({body})"


class Experiment(_Record):
    _fields = (
        "experiment_id",
        "name",
        "artifact_location",
        "lifecycle_stage",
        "tags",
        "creation_time",
        "last_update_time",
    )
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    tags: dict[str, str]
    creation_time: int | None
    last_update_time: int | None

    def __init__(
        self,
        experiment_id: str,
        name: str,
        artifact_location: str,
        lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE,
        tags: dict[str, str] | None = None,
        creation_time: int | None = None,
        last_update_time: int | None = None,
    ) -> None:
        _set_state(
            self,
            "__dict__",
            {
                "experiment_id": experiment_id,
                "name": name,
                "artifact_location": artifact_location,
                "lifecycle_stage": lifecycle_stage,
                "tags": {} if tags is None else tags,
                "creation_time": creation_time,
                "last_update_time": last_update_time,
            },
        )


class Metric(_Record):
    _fields = ("key", "value", "timestamp", "step")
    key: str
    value: float
    timestamp: int  # milliseconds since the epoch
    step: int

    def __init__(self, key: str, value: float, timestamp: int, step: int = 0) -> None:
        _set_state(
            self, "__dict__", {"key": key, "value": value, "timestamp": timestamp, "step": step}
        )


class Param(_Record):
    _fields = ("key", "value")
    key: str
    value: str

    def __init__(self, key: str, value: str) -> None:
        _set_state(self, "__dict__", {"key": key, "value": value})


class RunTag(_Record):
    _fields = ("key", "value")
    key: str
    value: str

    def __init__(self, key: str, value: str) -> None:
        _set_state(self, "__dict__", {"key": key, "value": value})


class RunInfo(_Record):
    _fields = (
        "run_id",
        "experiment_id",
        "run_name",
        "user_id",
        "status",
        "start_time",
        "end_time",
        "artifact_uri",
        "lifecycle_stage",
    )
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: LifecycleStage

    def __init__(
        self,
        run_id: str,
        experiment_id: str,
        run_name: str,
        user_id: str,
        status: RunStatus,
        start_time: int,
        end_time: int | None,
        artifact_uri: str,
        lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE,
    ) -> None:
        _set_state(
            self,
            "__dict__",
            {
                "run_id": run_id,
                "experiment_id": experiment_id,
                "run_name": run_name,
                "user_id": user_id,
                "status": status,
                "start_time": start_time,
                "end_time": end_time,
                "artifact_uri": artifact_uri,
                "lifecycle_stage": lifecycle_stage,
            },
        )


class RunData(_Record):
    """Latest value per metric key; full history is ``Client.get_metric_history``."""

    _fields = ("metrics", "params", "tags")
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]

    def __init__(
        self,
        metrics: dict[str, float] | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        _set_state(
            self,
            "__dict__",
            {
                "metrics": {} if metrics is None else metrics,
                "params": {} if params is None else params,
                "tags": {} if tags is None else tags,
            },
        )


class Run(_Record):
    _fields = ("info", "data")
    info: RunInfo
    data: RunData

    def __init__(self, info: RunInfo, data: RunData) -> None:
        _set_state(self, "__dict__", {"info": info, "data": data})


class PagedList(list["T"]):
    """A page of results plus the token for the next one (None on the last page)."""

    def __init__(self, items: list[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token
