"""The local backend: a project command on this machine, ``bash -c <command>`` in its own
process group — or, for a docker_env project, in a container (``backends/docker.py``): the
environment kind says how a command runs inside it.

MLproject commands are shell templates (every value already quoted), so they run under bash
as MLflow runs them. The command leads a new session, so stopping the run stops everything it
started: SIGTERM to the whole group, SIGKILL after a grace period.

Output (stdout and stderr merged) is streamed as it arrives to the console and appended to
the log file, which is the run's ``logs/console.log`` artifact.

If the runner itself dies without a chance to clean up (SIGKILL, OOM killer), a group watcher
(``satchel.process.GroupWatcher``) kills the group.

The run ends when the entry point's process (bash) ends. Its group gets ``_LEFTOVER_GRACE``
seconds to finish writing, then SIGKILL. A descendant that *left* the group (``setsid``, a
double-forking daemon) is outside the run: it is not waited for and not killed — we cannot
find it reliably, and it asked to be on its own — and whatever it prints after the run ended
is not recorded (it gets EPIPE / SIGPIPE once we close our end).

If the log cannot be written (a full disk, a quota), output keeps being drained and echoed —
the project is never blocked on a full pipe — and ``output_error`` says why, so the lifecycle
ends the run FAILED with that reason.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from satchel.errors import ExecutionError, UsageError
from satchel.process import GroupWatcher
from satchel.runner.backends.base import Handle, Launcher, LaunchSpec
from satchel.runner.watch import start_without_stop_signals

if TYPE_CHECKING:
    from satchel.projects.spec import Project
    from satchel.runner.control import RunnerControl
    from satchel.runner.request import RunRequest
    from satchel.tracking.entities import Run

__all__ = ["IN_ENV", "LocalHandle", "LocalLauncher", "launch_env"]

# environment kinds whose commands run inside something else than a local process group
IN_ENV: dict[str, str] = {"docker": "satchel.runner.backends.docker:DockerLauncher"}

_LEFTOVER_GRACE = 2.0  # seconds the pipe may stay open after the command's leader exited
_POLL_SECONDS = 0.05
_LAST_DRAIN_BYTES = 1 << 20  # read at most this much more once the run has ended


def launch_env(spec: LaunchSpec, environ: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ + the env's variables + SATCHEL_* + PYTHONPATH with the client path first."""
    env = spec.prepared.process_env(dict(os.environ) if environ is None else environ)
    env.update(spec.env)
    rest = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{spec.client_path}{os.pathsep}{rest}" if rest else str(spec.client_path)
    env["PYTHONUNBUFFERED"] = "1"  # output reaches the console and the log as it is printed
    return env


class LocalHandle(Handle):
    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        log: IO[bytes],
        echo: Callable[[bytes], None] | None,
        watcher: GroupWatcher | None,
    ) -> None:
        self.proc = proc
        self.pgid = proc.pid  # start_new_session: the leader's pid is the group id
        self._log = log
        self._echo = echo
        self._watcher = watcher
        self._kill_timer: threading.Timer | None = None
        self._ended = threading.Event()  # the run is over: stop waiting for more output
        self._reader = threading.Thread(target=self._pump, name="satchel-output", daemon=True)
        start_without_stop_signals(self._reader)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        left = _LAST_DRAIN_BYTES
        while left > 0:
            ready, _, _ = select.select([fd], [], [], _POLL_SECONDS)
            if not ready:
                if self._ended.is_set():
                    return
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            if self._ended.is_set():  # a writer that escaped the group: take what is there
                left -= len(chunk)
            self._write(chunk)

    def _write(self, chunk: bytes) -> None:
        if self.output_error is None:
            try:
                view = memoryview(chunk)
                while view:  # unbuffered: a write can be partial when the disk fills up
                    view = view[self._log.write(view) or 0 :]
            except OSError as exc:  # a full disk must not block the project on its pipe
                self.output_error = f"the console log could not be written ({exc.strerror})"
        if self._echo is not None:
            with contextlib.suppress(OSError, ValueError):
                self._echo(chunk)

    def wait(self) -> int:
        code = self.proc.wait()  # interruptible: the lifecycle's signal handlers run here
        self._reader.join(_LEFTOVER_GRACE)
        if self._reader.is_alive():  # a background child still holds the output open
            self._killpg(signal.SIGKILL)
            self._ended.set()  # what is left holding it escaped the group (module doc)
            self._reader.join()
        self._close()
        return code

    def poll(self) -> int | None:
        return self.proc.poll()

    def terminate(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM to the group now, SIGKILL after ``grace_seconds``; ``wait()`` then reaps."""
        if grace_seconds <= 0:  # asked twice (a second Ctrl-C): no more patience
            self._killpg(signal.SIGKILL)
            return
        self._killpg(signal.SIGTERM)
        if self._kill_timer is None:
            self._kill_timer = threading.Timer(grace_seconds, self._killpg, (signal.SIGKILL,))
            self._kill_timer.daemon = True
            start_without_stop_signals(self._kill_timer)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except OSError:
            return False
        return True

    def _killpg(self, sig: int) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.pgid, sig)

    def _close(self) -> None:
        if self._kill_timer is not None:
            self._kill_timer.cancel()
            if self.group_alive():  # leftovers that ignored SIGTERM
                self._killpg(signal.SIGKILL)
        if self._watcher is not None:
            self._watcher.release()
        with contextlib.suppress(OSError):
            self._log.close()
        if self.proc.stdout is not None:  # an escaped writer now gets EPIPE, not a reader
            with contextlib.suppress(OSError):
                self.proc.stdout.close()


class LocalLauncher(Launcher):
    name = "local"

    def __init__(self, watchdog: bool = True, grace_seconds: float = 10.0) -> None:
        self.watchdog = watchdog
        self.grace_seconds = grace_seconds

    def configure(
        self, request: RunRequest, project: Project, env_manager: str, tracking_uri: str
    ) -> dict[str, Any]:
        super().configure(request, project, env_manager, tracking_uri)
        if env_manager == "docker":
            from satchel.runner.backends.docker_args import validate_docker_args

            validate_docker_args(request.docker_args)
            return {"docker_args": dict(request.docker_args)}
        _check_no_docker_options(request, project, env_manager)
        return {}

    def launch(self, spec: LaunchSpec) -> Handle:
        inside = IN_ENV.get(spec.prepared.manager)
        if inside is not None:
            module_name, _, class_name = inside.partition(":")
            launcher: Launcher = getattr(importlib.import_module(module_name), class_name)()
            return launcher.launch(spec)
        return self._launch_group(spec)

    def cancel(self, run: Run, control: RunnerControl | None) -> None:
        """A dead runner's process group is killed by its group watcher; a container is not."""
        if run.data.tags.get("mlflow.project.env") == "docker":
            from satchel.runner.backends.docker import stop_run_containers

            stop_run_containers(run.info.run_id)

    def _launch_group(self, spec: LaunchSpec) -> LocalHandle:
        try:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(spec.log_path, "ab", buffering=0)  # noqa: SIM115 - closed by the handle
        except OSError as exc:
            raise ExecutionError(
                f"cannot write the console log {spec.log_path}: {exc.strerror}"
            ) from None
        try:
            proc = subprocess.Popen(
                ["bash", "-c", spec.command],
                cwd=spec.workdir,
                env=launch_env(spec),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            log.close()
            raise ExecutionError(f"could not start bash in {spec.workdir}: {exc}") from exc
        watcher = GroupWatcher(proc.pid, self.grace_seconds) if self.watchdog else None
        return LocalHandle(proc, log, spec.echo, watcher)


def wait_group_gone(pgid: int, timeout: float) -> bool:
    """True once no process of group ``pgid`` is left (tests and cancel use it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except OSError:
            return True
        time.sleep(0.05)
    return False


def _check_no_docker_options(request: RunRequest, project: Project, env_manager: str) -> None:
    """-A and --build-image mean nothing outside docker: silently dropping them would run
    something other than what the user asked for."""
    if request.docker_args or request.build_image:
        from satchel.projects.fetched import redact_url

        name = project.name or redact_url(request.uri)
        raise UsageError(
            "-A/--docker-args and --build-image apply to docker_env projects only; "
            f"{name} uses {env_manager}"
        )
