"""How a prepared run is started and followed: the launcher (backend) interface.

The backend is an axis of its own (``--backend``: local, ray), chosen from the registry in
``runner/backends/__init__.py``. The lifecycle (``satchel.runner.lifecycle``) asks the chosen
launcher to ``configure`` itself from the request before any run exists (a bad option or an
unreachable cluster is one line and no run), then fetches, records and prepares the
environment and hands a backend-neutral ``LaunchSpec`` to ``launch``. The launcher returns a
``Handle``; the lifecycle owns the run's status and sets it from what the handle reports. The
environment kind says how a command runs inside it: the local backend runs a docker_env
project in a container, any other as a local process group.

``cancel`` stops what a run's runner left behind when that runner is gone (``satchel runs
cancel`` from another shell, after the runner was killed); a live runner is stopped by a
signal and stops its own handle.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satchel.envs.base import PreparedEnv
from satchel.errors import UsageError
from satchel.projects.spec import Project

if TYPE_CHECKING:
    from satchel.runner.control import RunnerControl
    from satchel.runner.request import RunRequest
    from satchel.tracking.entities import Run, RunStatus

__all__ = ["Handle", "LaunchSpec", "Launcher"]


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a launcher needs to start one run's command."""

    run_id: str
    command: str  # the rendered shell command; every value in it already shell-quoted
    workdir: Path  # where the command runs (the project root)
    env: dict[str, str]  # the variables to add: SATCHEL_RUN_ID, SATCHEL_TRACKING_URI, ...
    project: Project
    prepared: PreparedEnv
    log_path: Path  # console output is appended here as it streams
    tracking_uri: str  # absolute
    client_path: Path  # a directory holding only the `satchel` package (put on PYTHONPATH)
    # what the launcher's ``configure`` returned for this run (local: the docker arguments
    # of a docker_env project; ray: the cluster address and resources)
    options: Mapping[str, Any] = field(default_factory=dict)
    echo: Callable[[bytes], None] | None = None  # live console output (None: quiet)
    # ``command`` with secret-named parameter values masked: what a launcher may print
    display_command: str | None = None
    # told when the run waits for resources (SCHEDULED) and when it starts (RUNNING)
    on_status: Callable[[RunStatus], None] | None = None

    @property
    def shown_command(self) -> str:
        return self.command if self.display_command is None else self.display_command


class Handle(abc.ABC):
    """A launched command. ``wait`` streams its output until it exits."""

    # Set when the command's output could not be kept (e.g. the log's disk is full): the
    # command still ran to its end, but the run is FAILED with this reason.
    output_error: str | None = None
    # Why it failed, in the backend's own words (Ray's job message), when it has some.
    reason: str | None = None
    # Stopped by someone else (e.g. `ray job stop`): the run ends KILLED.
    stopped: bool = False

    @property
    def tags(self) -> dict[str, str]:
        """What the run records about where it runs (e.g. ``satchel.ray.job_id``)."""
        return {}

    @abc.abstractmethod
    def wait(self) -> int:
        """Block until exit, streaming output to the console and the log; the exit code."""

    @abc.abstractmethod
    def poll(self) -> int | None: ...

    @abc.abstractmethod
    def terminate(self, grace_seconds: float = 10.0) -> None:
        """Stop everything it started: gracefully, then by force after ``grace_seconds``."""


class Launcher(abc.ABC):
    name: str

    def configure(
        self, request: RunRequest, project: Project, env_manager: str, tracking_uri: str
    ) -> dict[str, Any]:
        """Check the request's backend options before a run exists; what ``launch`` gets as
        ``spec.options``. UsageError (one line) when they cannot work."""
        if request.backend_config:
            raise UsageError(
                f"--backend-config means nothing to the {self.name} backend",
                hint="drop it, or choose a backend that takes one (--backend ray)",
            )
        return {}

    @abc.abstractmethod
    def launch(self, spec: LaunchSpec) -> Handle: ...

    def cancel(self, run: Run, control: RunnerControl | None) -> None:  # noqa: B027
        """Stop what the run's runner left running when it died (nothing, by default)."""
