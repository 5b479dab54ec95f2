"""The one subprocess helper: argv lists in, output kept, ``CommandFailed`` out.

Used for every tool Satchel drives (git, uv, docker CLI fallbacks). Project commands are
launched by the runner (process groups, streaming), not here.

``own_group=True`` (environment builds) starts the tool in its own process group and puts a
group watcher beside it, so a Satchel killed with SIGKILL does not leave a uv (and the
interpreters uv started) running on for minutes.

The group watcher is a tiny ``sh`` in its own session holding the read end of a pipe whose only
writer is this process: the kernel closes it (EOF) exactly when we die, however we die. A clean
exit writes ``x`` first, meaning "finished, do nothing"; otherwise the watcher sends SIGTERM to
the group and SIGKILL after the grace period. We chose it over ``prctl(PR_SET_PDEATHSIG)``: that
reaches only the direct child, not its own children, and fires when the forking *thread* exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CommandFailed", "GroupWatcher", "Result", "run"]

# `kill -SIG -PGID` is the spelling dash, bash and busybox all accept. $2 polls of 50 ms.
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


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandFailed(Exception):
    """A helper command exited non-zero. Not a user error by itself: callers translate it."""

    def __init__(self, result: Result) -> None:
        self.result = result
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        super().__init__(f"{' '.join(result.argv)} exited {result.returncode}: {tail}")

    @property
    def stderr_tail(self) -> str:
        """One line that says why: the first ``fatal:``/``error:`` line (git ends with advice
        such as "and the repository exists."), else the last line."""
        lines = [line.strip() for line in self.result.stderr.strip().splitlines()]
        for line in lines:
            if line.startswith(("fatal:", "error:")):
                return line
        return lines[-1] if lines else ""


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input: str | None = None,
    timeout: float | None = None,
    own_group: bool = False,
) -> Result:
    """Run ``argv`` (never through a shell), capture its output, raise CommandFailed if asked.
    ``own_group``: the tool and everything it starts die with it and with us (module doc)."""
    args = tuple(os.fspath(a) for a in argv)
    if own_group:
        result = Result(args, *_run_own_group(args, cwd, env, input, timeout))
    else:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=input,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        result = Result(args, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise CommandFailed(result)
    return result


class GroupWatcher:
    """Stops process group ``pgid`` if this process dies before calling ``release``."""

    def __init__(self, pgid: int, grace_seconds: float) -> None:
        polls = max(1, round(grace_seconds / _POLL_SECONDS))
        self._proc = subprocess.Popen(
            ["sh", "-c", _WATCHER, "satchel-watcher", str(pgid), str(polls)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )

    def release(self) -> None:
        """We are done with the group: the watcher leaves quietly. Not waited for: it exits
        within milliseconds, and waiting would put its start-up on every caller's path."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.write(b"x")
                self._proc.stdin.close()


def _run_own_group(
    args: tuple[str, ...],
    cwd: str | Path | None,
    env: Mapping[str, str] | None,
    input: str | None,
    timeout: float | None,
) -> tuple[int, str, str]:
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    watcher = GroupWatcher(proc.pid, grace_seconds=5.0)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except BaseException:  # a timeout, Ctrl-C: nothing of the group may outlive the call
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        with contextlib.suppress(OSError):  # the tool's own leftovers
            os.killpg(proc.pid, signal.SIGKILL)
        watcher.release()
    return proc.returncode, out, err
