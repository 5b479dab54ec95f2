"""The runner's control file: how ``satchel runs cancel`` and ``runs wait`` find the process
that really is a run's runner.

``SATCHEL_HOME/runners/<run_id>.json`` holds the runner's pid, the start time of that process
(and the boot it belongs to), the host, and what its launcher needs to stop the run when the
runner is gone (a Ray job id, for instance). It is written by the runner's side alone —
``0600`` in a ``0700`` directory of the user's own SATCHEL_HOME — and removed when the run
ends. Nothing in the tracking store decides which process gets a signal: tags are writable by
anyone with access to the run (a client call, the project's own code, a server user), so a
forged tag could otherwise make a cancel kill an unrelated process. The start-time check
makes a recycled pid harmless too: a different process under the same pid started later.

Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from satchel.home import satchel_home
from satchel.tracking.liveness import hostname

__all__ = [
    "RunnerControl",
    "control_path",
    "process_identity",
    "read_control",
    "remove_control",
    "runner_control",
    "update_control",
    "verified_runner_pid",
    "write_control",
]


@dataclass(frozen=True)
class RunnerControl:
    """What the runner of one run wrote about itself."""

    run_id: str
    pid: int
    started: str  # the process's start time as the kernel tells it (see process_identity)
    host: str
    backend: dict[str, str] = field(default_factory=dict)  # a launcher's own stop details


def control_path(run_id: str) -> Path:
    return satchel_home() / "runners" / f"{run_id}.json"


def process_identity(pid: int) -> str | None:
    """The start time of process ``pid`` (boot id + clock ticks since boot on Linux), or None
    when there is no such process. Two processes never share it, even under one pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rpartition(")")[2].split()
        if fields[0] == "Z":  # exited; only its exit status waits to be collected
            return None
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()
        return f"{boot}:{fields[19]}"  # field 22 of stat(5): starttime
    except (OSError, IndexError):
        if sys.platform.startswith("linux"):
            return None
    return _ps_start_time(pid)


def _ps_start_time(pid: int) -> str | None:
    """Where there is no /proc (macOS, the BSDs): ``ps -o lstart=`` (to the second)."""
    import subprocess

    try:
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and text else None


def write_control(run_id: str, pid: int, backend: Mapping[str, str] | None = None) -> Path:
    """Record process ``pid`` as the runner of ``run_id`` (replacing any earlier record)."""
    started = process_identity(pid)
    if started is None:
        from satchel.errors import ExecutionError

        raise ExecutionError(f"the runner of run {run_id} (pid {pid}) is already gone")
    path = control_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"pid": pid, "started": started, "host": hostname(), "backend": dict(backend or {})}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    os.replace(tmp, path)
    return path


def update_control(run_id: str, **backend: str) -> None:
    """Add a launcher's stop details (e.g. a Ray job id) to this process's control file."""
    control = read_control(run_id)
    if control is not None and control.pid == os.getpid():
        write_control(run_id, control.pid, {**control.backend, **backend})


def read_control(run_id: str) -> RunnerControl | None:
    """The control file of ``run_id`` if it exists and is trustworthy: a regular file owned
    by this user that nobody else can write (anything else is ignored, never obeyed)."""
    path = control_path(run_id)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as fh:
        info = os.fstat(fh.fileno())
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.getuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return None
        try:
            data = json.load(fh)
            return RunnerControl(
                run_id,
                int(data["pid"]),
                str(data["started"]),
                str(data["host"]),
                {str(k): str(v) for k, v in dict(data.get("backend") or {}).items()},
            )
        except (ValueError, KeyError, TypeError):
            return None


def verified_runner_pid(run_id: str) -> int | None:
    """The pid of the live process that is ``run_id``'s runner on this host, else None."""
    control = read_control(run_id)
    if control is None or control.host != hostname():
        return None
    if process_identity(control.pid) != control.started:  # gone, or the pid was reused
        return None
    return control.pid


def remove_control(run_id: str, pid: int | None = None) -> None:
    """Remove the control file (only if it names ``pid``, when given)."""
    if pid is not None:
        control = read_control(run_id)
        if control is not None and control.pid != pid:
            return
    with contextlib.suppress(OSError):
        control_path(run_id).unlink()


@contextlib.contextmanager
def runner_control(run_id: str) -> Iterator[Path]:
    """This process is ``run_id``'s runner while the block runs."""
    path = write_control(run_id, os.getpid())
    try:
        yield path
    finally:
        remove_control(run_id, os.getpid())
