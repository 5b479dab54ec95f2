"""Finding the Python interpreter an environment asks for, the way users have them.

In order: the interpreter running Satchel; what uv finds on PATH; interpreters installed but
not on PATH — pyenv's versions (``$PYENV_ROOT/versions/*``, shims or not), uv-managed ones
(``uv python install``) and ``pythonX.Y`` names on PATH that uv skipped; then, if
``SATCHEL_PYTHON_DOWNLOADS=auto`` (the default; ``never`` turns it off), uv downloads the
missing version. Otherwise the run stops with one line naming the versions that are present.
Nothing is compiled.
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

__all__ = ["Interpreter", "downloads_allowed", "find_python", "uv_bin", "uv_environ"]

DOWNLOADS_VAR = "SATCHEL_PYTHON_DOWNLOADS"
_VERSION_IN_NAME = re.compile(r"(?:^|-)(\d+\.\d+(?:\.\d+)?)(?:$|-)")


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
    """The interpreter for ``request`` ("3.11", ">=3.9"); see the module doc for the order."""
    current = _current()
    if current is not None and satisfies(current.version, request):
        return current
    found = _uv_find(request) or _installed(request)
    if found is None and downloads_allowed():
        found = _download(request)
    if found is None:
        have = ", ".join(available_versions()) or "none"
        hint = "declare one of the available versions or install that Python"
        if not downloads_allowed():
            hint += f" (or set {DOWNLOADS_VAR}=auto to let uv download it)"
        raise EnvironmentBuildError(
            f"Python {request} (from {where}) is not installed on this machine; available: {have}",
            hint,
            log_path=str(log_path) if log_path else None,
        )
    return found


def downloads_allowed() -> bool:
    """``SATCHEL_PYTHON_DOWNLOADS``: ``auto`` (default) lets uv download a missing Python."""
    value = os.environ.get(DOWNLOADS_VAR, "auto").strip().lower() or "auto"
    if value not in ("auto", "never"):
        from satchel.errors import UsageError

        raise UsageError(f"{DOWNLOADS_VAR}={value!r} is not one of: auto, never")
    return value == "auto"


def _uv_find(request: str) -> Interpreter | None:
    base = [uv_bin(), "python", "find", "--system", "--no-project", request]
    try:
        path = run(base, env=uv_environ()).stdout.strip()
    except CommandFailed:
        return None
    version = _probe(Path(path))
    return Interpreter(Path(path), version) if version else None


def _probe(python: Path) -> str | None:
    try:
        return run(
            # -I -S: no site, no user env — the probe costs interpreter startup and nothing more
            [python, "-I", "-S", "-c", "import platform; print(platform.python_version())"],
            env=uv_environ(),
        ).stdout.strip()
    except (CommandFailed, OSError):
        return None


def _installed(request: str) -> Interpreter | None:
    """The newest installed interpreter off uv's path whose version fits; only the ones whose
    name already says a fitting version are started (to confirm it)."""
    for named, python in sorted(_candidates(), key=lambda c: _parts(c[0]), reverse=True):
        version = _probe(python) if satisfies(named, request) else None
        if version and satisfies(version, request):
            return Interpreter(python, version)
    return None


def _candidates() -> list[tuple[str, Path]]:
    """(version in its name, interpreter) for pyenv, uv-managed and PATH ``pythonX.Y``."""
    home = Path.home()
    pyenv = Path(os.environ.get("PYENV_ROOT") or home / ".pyenv") / "versions"
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    managed = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or data / "uv" / "python")
    found: list[tuple[str, Path]] = []
    for root in (pyenv, managed):
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            named = _VERSION_IN_NAME.search(folder.name.removeprefix("cpython-"))
            python = folder / "bin" / "python3"
            if named and python.is_file():
                found.append((named.group(1), python))
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        for python in sorted(Path(entry).glob("python[0-9].[0-9]*")) if entry else []:
            named = re.fullmatch(r"python(\d+\.\d+)", python.name)
            if named and os.access(python, os.X_OK):
                found.append((named.group(1), python))
    return found


def _download(request: str) -> Interpreter | None:
    """``uv python install`` (the network allowing), then find what it installed."""
    env = {**uv_environ(), "UV_PYTHON_DOWNLOADS": "automatic"}
    try:
        run([uv_bin(), "python", "install", request], env=env, own_group=True)
    except CommandFailed:
        return None
    return _installed(request)


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
    versions |= {named for named, _python in _candidates()}
    return sorted(
        versions, key=lambda v: [int(p) for p in v.split(".") if p.isdigit()], reverse=True
    )
