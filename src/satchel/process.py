"""The one subprocess helper: argv lists in, output kept, ``CommandFailed`` out.

Used for every tool Satchel drives (git, uv, docker CLI fallbacks). Project commands are
launched by the runner (process groups, streaming), not here.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CommandFailed", "Result", "run"]


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
) -> Result:
    """Run ``argv`` (never through a shell), capture its output, raise CommandFailed if asked."""
    args = tuple(os.fspath(a) for a in argv)
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
