"""How a prepared run is started and followed: the launcher interface.

The lifecycle (``satchel.runner.lifecycle``) fetches, validates, records and prepares the
environment, then hands a ``LaunchSpec`` to a launcher: a local process group, a docker
container (for docker_env projects), later a Ray job. The launcher returns a ``Handle``; the
lifecycle owns the run's status and sets it from what the handle reports.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from satchel.envs.base import PreparedEnv
from satchel.projects.spec import Project

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
    docker_args: dict[str, str | bool | list[str]] = field(default_factory=dict)
    echo: Callable[[bytes], None] | None = None  # live console output (None: quiet)
    # ``command`` with secret-named parameter values masked: what a launcher may print
    display_command: str | None = None

    @property
    def shown_command(self) -> str:
        return self.command if self.display_command is None else self.display_command


class Handle(abc.ABC):
    """A launched command. ``wait`` streams its output until it exits."""

    # Set when the command's output could not be kept (e.g. the log's disk is full): the
    # command still ran to its end, but the run is FAILED with this reason.
    output_error: str | None = None

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

    @abc.abstractmethod
    def launch(self, spec: LaunchSpec) -> Handle: ...
