"""The records a run passes through: what was asked, what was validated, how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from satchel.tracking.entities import RunStatus

__all__ = ["BACKENDS", "Outcome", "RunRequest"]

BACKENDS = ("local",)


@dataclass(frozen=True)
class RunRequest:
    """Everything `satchel run` / ``satchel.projects.run`` was asked, not yet validated."""

    uri: str
    entry_point: str = "main"
    version: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # raw -P values
    allow_extra: bool = False  # a -P key close to a declared one is passed, not refused
    experiment_name: str | None = None
    experiment_id: str | None = None
    run_name: str | None = None
    env_manager: str | None = None  # None: inherited (nested) or chosen from the project
    backend: str | None = None  # None: inherited (nested) or "local"
    docker_args: dict[str, Any] = field(default_factory=dict)
    build_image: bool = False
    refresh_env: bool = False
    tracking_uri: str | None = None
    run_id: str | None = None  # a run created by a parent process (the detached runner)
    echo: bool = True  # stream the project's output to our stdout


@dataclass(frozen=True)
class Outcome:
    """How a run ended. ``reason`` is one line for FAILED/KILLED."""

    run_id: str
    status: RunStatus
    exit_code: int | None = None
    seconds: float = 0.0
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.FINISHED
