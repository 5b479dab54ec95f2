"""Finding a Python interpreter already on this machine (uv's discovery; nothing is compiled).

Downloads are disabled (``UV_PYTHON_DOWNLOADS=never``): an environment uses an interpreter that
is present, or the run stops with one line naming the versions that are.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from satchel.errors import EnvironmentBuildError
from satchel.process import CommandFailed, run

__all__ = ["Interpreter", "find_python", "uv_bin", "uv_environ"]


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # "3.11.7"


@functools.cache
def uv_bin() -> str:
    # Cached: find_uv_bin searches several directories (~8 ms), and a build calls uv 2-3 times.
    import uv

    return uv.find_uv_bin()


def uv_environ() -> dict[str, str]:
    """The environment uv runs with: the caller's (index settings in UV_* are honoured), minus
    any active venv, with Python downloads off and no progress bars in captured output."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("CONDA_PREFIX", None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    return env


def find_python(request: str, *, where: str, log_path: Path | None = None) -> Interpreter:
    """The interpreter for ``request`` ("3.11", ">=3.9"): the one running Satchel when it fits
    (no subprocess), else the one uv finds on the system."""
    current = _current()
    if current is not None and satisfies(current.version, request):
        return current
    base = [uv_bin(), "python", "find", "--system", "--no-project", request]
    env = uv_environ()
    try:
        path = run(base, env=env).stdout.strip()
        version = run(
            # -I -S: no site, no user env — the probe costs interpreter startup and nothing more
            [path, "-I", "-S", "-c", "import platform; print(platform.python_version())"],
            env=env,
        ).stdout.strip()
    except CommandFailed:
        have = ", ".join(available_versions()) or "none"
        raise EnvironmentBuildError(
            f"Python {request} (from {where}) is not installed on this machine; available: {have}",
            "declare one of the available versions or install that Python",
            log_path=str(log_path) if log_path else None,
        ) from None
    return Interpreter(Path(path), version)


def _current() -> Interpreter | None:
    # Inside a venv, the base interpreter (what the venv was made from) is the one to use.
    base = getattr(sys, "_base_executable", None) or sys.executable
    if not base or not os.path.exists(base):
        return None
    return Interpreter(Path(base), platform.python_version())


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


_OPS = {
    "==": lambda a, b: a[: len(b)] == b,
    "!=": lambda a, b: a[: len(b)] != b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a[: len(b)] <= b,
    ">": lambda a, b: a[: len(b)] > b,
    "<": lambda a, b: a < b,
    "~=": lambda a, b: a >= b and a[: len(b) - 1] == b[:-1],
}


def satisfies(version: str, request: str) -> bool:
    """Does ``version`` ("3.11.7") meet ``request`` ("3.11", "3.11.7", ">=3.9,<3.13")?"""
    have = _parts(version)
    for clause in request.split(","):
        found = re.fullmatch(r"\s*(==|!=|>=|<=|~=|>|<)?\s*([\d.]+?)(\.\*)?\s*", clause)
        if not found:
            return False
        op = found.group(1) or "=="
        if not _OPS[op](have, _parts(found.group(2))):
            return False
    return True


def available_versions() -> list[str]:
    argv = [uv_bin(), "python", "list", "--only-installed", "--output-format", "json"]
    try:
        found = json.loads(run(argv, env=uv_environ()).stdout or "[]")
    except (CommandFailed, ValueError):
        return []
    versions = {item.get("version", "") for item in found if item.get("version")}
    return sorted(
        versions, key=lambda v: [int(p) for p in v.split(".") if p.isdigit()], reverse=True
    )
