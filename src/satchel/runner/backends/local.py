"""Launch a project command on this machine: ``bash -c <command>`` in its own process group.

MLproject commands are shell templates (every value already quoted), so they run under bash
as MLflow runs them. The command leads a new session, so stopping the run stops everything it
started: SIGTERM to the whole group, SIGKILL after a grace period.

Output (stdout and stderr merged) is streamed as it arrives to the console and appended to
the log file, which is the run's ``logs/console.log`` artifact.

If the runner itself dies without a chance to clean up (SIGKILL, OOM killer), a tiny watcher
process kills the group: it holds the read end of a pipe whose only writer is the runner, so
the kernel closes it — EOF — exactly when the runner dies, however it dies. We chose this over
``prctl(PR_SET_PDEATHSIG)``: that signal reaches only the direct child (bash), not the
project's own children, and fires when the *thread* that forked exits, not the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO

from satchel.errors import ExecutionError
from satchel.runner.backends.base import Handle, Launcher, LaunchSpec

__all__ = ["LocalHandle", "LocalLauncher", "launch_env"]

# Run by `sh -c` in its own session (so Ctrl-C on the terminal does not reach it): a POSIX
# shell starts in about a millisecond, a Python interpreter in ten, beside every project.
# Reads until EOF; a clean runner writes b"x" first, meaning "finished, do nothing". Else
# SIGTERM to the group, and SIGKILL if it is still there after the grace period ($2 polls of
# 50 ms). `kill -SIG -PGID` is the spelling dash, bash and busybox all accept.
_WATCHER = """
trap '' INT
if [ -n "$(cat)" ]; then exit 0; fi
kill -TERM "-$1" 2>/dev/null || exit 0
i=0
while [ "$i" -lt "$2" ]; do
  kill -0 "-$1" 2>/dev/null || exit 0
  sleep 0.05
  i=$((i + 1))
done
kill -KILL "-$1" 2>/dev/null
exit 0
"""
_POLL_SECONDS = 0.05

_LEFTOVER_GRACE = 2.0  # seconds the pipe may stay open after the command's leader exited


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
        watcher: subprocess.Popen[bytes] | None,
    ) -> None:
        self.proc = proc
        self.pgid = proc.pid  # start_new_session: the leader's pid is the group id
        self._log = log
        self._echo = echo
        self._watcher = watcher
        self._kill_timer: threading.Timer | None = None
        self._reader = threading.Thread(target=self._pump, name="satchel-output", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._log.write(chunk)
            if self._echo is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._echo(chunk)

    def wait(self) -> int:
        code = self.proc.wait()  # interruptible: the lifecycle's signal handlers run here
        self._reader.join(_LEFTOVER_GRACE)
        if self._reader.is_alive():  # a background child still holds the output open
            self._killpg(signal.SIGKILL)
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
            self._kill_timer.start()

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
        if self._watcher is not None and self._watcher.stdin is not None:
            with contextlib.suppress(OSError):
                self._watcher.stdin.write(b"x")  # "clean exit": the watcher leaves quietly
                self._watcher.stdin.close()
            # Not waited for: it exits on its own within milliseconds, and waiting would put
            # its interpreter start-up on every run's critical path.
        with contextlib.suppress(OSError):
            self._log.close()


def _start_watcher(pgid: int, grace: float) -> subprocess.Popen[bytes]:
    polls = max(1, round(grace / _POLL_SECONDS))
    return subprocess.Popen(
        ["sh", "-c", _WATCHER, "satchel-watcher", str(pgid), str(polls)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


class LocalLauncher(Launcher):
    name = "local"

    def __init__(self, watchdog: bool = True, grace_seconds: float = 10.0) -> None:
        self.watchdog = watchdog
        self.grace_seconds = grace_seconds

    def launch(self, spec: LaunchSpec) -> LocalHandle:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(spec.log_path, "ab", buffering=0)  # noqa: SIM115 - closed by the handle
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
        watcher = _start_watcher(proc.pid, self.grace_seconds) if self.watchdog else None
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
