"""The one small interface every environment kind implements.

A kind turns a project's environment declaration into a ready environment: it computes a
content key, builds on a cache miss (temp dir, atomic move, ready marker, lock), checks health
on reuse, and says how to launch a process inside it. Adding a kind = one module, one line in
``satchel.envs.KINDS``, one test file.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from satchel.projects.spec import Project

if TYPE_CHECKING:
    from satchel.envs.locks import Lease

__all__ = ["EnvManager", "PreparedEnv", "Reporter"]

# Progress lines for the terminal ("resolving 3 requirements", "installing ...").
Reporter = Callable[[str], None]


@dataclass(frozen=True)
class PreparedEnv:
    """A ready environment for one run."""

    manager: str  # "local" | "uv" | "virtualenv" | "docker"  (the mlflow.project.env tag)
    key: str | None = None  # content key; None for "local"
    root: Path | None = None  # the environment directory (a venv), if any
    python: str | None = None  # the interpreter inside it
    cache_hit: bool = True
    build_seconds: float = 0.0
    lock_file: Path | None = None  # resolved requirements, logged as env/requirements.lock
    build_log: Path | None = None  # full builder output, logged as env/build.log when built
    image: str | None = None  # docker: the image to run (tag) ...
    image_id: str | None = None  # ... and its id (sha256:...)
    extra_tags: dict[str, str] = field(default_factory=dict)
    # A cached env is held for the run while this object lives (or until release()), so
    # `satchel envs gc` / `rm` cannot delete it under a running project; the kernel drops
    # the hold when the process ends, however it ends.
    lease: Lease | None = field(default=None, compare=False, repr=False)

    def release(self) -> None:
        """Let ``gc`` / ``rm`` delete this env again (the run that used it is over)."""
        if self.lease is not None:
            self.lease.release()

    def process_env(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The environment variables of a process launched inside this env."""
        env = dict(environ)
        if self.root is not None:
            env["VIRTUAL_ENV"] = str(self.root)
            env["PATH"] = f"{self.root / 'bin'}:{env.get('PATH', '')}"
            env.pop("PYTHONHOME", None)
        elif self.python is not None and self.manager == "local":
            # "local" means the interpreter running Satchel: its `python` comes first on PATH,
            # whatever shims the user's PATH holds.
            env["PATH"] = f"{Path(self.python).parent}:{env.get('PATH', '')}"
        return env


class EnvManager(abc.ABC):
    """An environment kind (local, uv, virtualenv, docker)."""

    name: str

    @abc.abstractmethod
    def prepare(self, project: Project, *, refresh: bool = False, report: Reporter) -> PreparedEnv:
        """Return a ready env for ``project``: reuse a healthy cached one or build it.

        A failed or interrupted build leaves nothing behind and raises EnvironmentBuildError
        (with ``log_path``)."""

    def cached_key(self, project: Project) -> str | None:
        """The key ``prepare`` would return if the env is built already, else None. Cheap and
        side-effect free (the run key is checked before anything runs); None = "cannot tell
        without preparing", which a kind may always answer."""
        return None
