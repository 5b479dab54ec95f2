"""``--env-manager local``: no isolation, the command runs with the caller's interpreter."""

from __future__ import annotations

import platform
import sys

from satchel.envs.base import EnvManager, PreparedEnv, Reporter
from satchel.projects.spec import Project

__all__ = ["LocalManager"]


class LocalManager(EnvManager):
    name = "local"

    def prepare(self, project: Project, *, refresh: bool = False, report: Reporter) -> PreparedEnv:
        return PreparedEnv(
            manager="local",
            python=sys.executable,
            cache_hit=True,
            extra_tags={"satchel.env.python": platform.python_version()},
        )
