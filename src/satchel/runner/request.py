"""The records a run passes through: what was asked, what was validated, how it ended."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from satchel.tracking.entities import RunStatus

__all__ = ["Outcome", "RunRequest", "parse_backend_config", "read_request", "write_request"]


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
    backend_config: dict[str, Any] = field(default_factory=dict)  # --backend-config, parsed
    docker_args: dict[str, Any] = field(default_factory=dict)
    build_image: bool = False
    refresh_env: bool = False
    tracking_uri: str | None = None
    run_id: str | None = None  # a run created by a parent process (the detached runner)
    echo: bool = True  # stream the project's output to our stdout
    skip_if_done: bool = False  # reuse a FINISHED run with the same run key (runner.reuse)
    rerun_of: str | None = None  # run this run's recorded code, not ``uri`` (runner.rerun)


@dataclass(frozen=True)
class Outcome:
    """How a run ended. ``reason`` is one line for FAILED/KILLED."""

    run_id: str
    status: RunStatus
    exit_code: int | None = None
    seconds: float = 0.0
    reason: str | None = None
    reused: bool = False  # nothing ran: ``run_id`` is a finished run with the same run key

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.FINISHED


# -- handing a request to another process (the detached runner) ----------------------------
# Never through argv: any user on the machine can read a process's argv (`ps`), and the
# parameters may hold secrets. A file readable by its owner alone, or a pipe, carries it.
def write_request(request: RunRequest, path: Path) -> None:
    """``request`` as JSON in a new file ``path`` that only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(request), out)


def read_request(source: str) -> RunRequest:
    """The request in file ``source`` (removed once read), or on stdin for ``-``."""
    if source == "-":
        data = json.load(sys.stdin)
    else:
        path = Path(source)
        data = json.loads(path.read_text(encoding="utf-8"))
        path.unlink(missing_ok=True)  # read once: the secrets do not outlive the hand-over
    return RunRequest(**data)


def parse_backend_config(text: str | None) -> dict[str, Any]:
    """``--backend-config``: inline JSON, or a JSON / YAML file holding one mapping."""
    from satchel.errors import UsageError

    if text is None:
        return {}
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"--backend-config is not valid JSON: {exc}") from None
    else:
        path = Path(text)
        if not path.is_file():
            raise UsageError(
                f"--backend-config {text}: no such file",
                hint="give a JSON or YAML file, or inline JSON such as '{\"num_cpus\": 1}'",
            )
        from satchel.projects._yamlsafe import load_yaml_file

        data = load_yaml_file(path)  # YAML is a superset of JSON; bombs refused
    if not isinstance(data, dict):
        raise UsageError("--backend-config must hold a mapping", hint='e.g. {"num_cpus": 1}')
    return data
