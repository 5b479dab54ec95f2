"""Launchers by environment kind: a literal registry, imported lazily.

Python environments (local, uv, virtualenv) run as a local process group; docker
environments run in a container. Only the launcher a run needs is imported, so a local run
never pays for the docker SDK.
"""

from __future__ import annotations

import importlib

from satchel.envs.base import PreparedEnv
from satchel.errors import ExecutionError
from satchel.runner.backends.base import Launcher

__all__ = ["LAUNCHERS", "get_launcher"]

# env manager name -> "module:Class"
LAUNCHERS: dict[str, str] = {
    "local": "satchel.runner.backends.local:LocalLauncher",
    "uv": "satchel.runner.backends.local:LocalLauncher",
    "virtualenv": "satchel.runner.backends.local:LocalLauncher",
    "docker": "satchel.runner.backends.docker:DockerLauncher",
}


def get_launcher(prepared: PreparedEnv) -> Launcher:
    target = LAUNCHERS.get(prepared.manager)
    if target is None:
        known = ", ".join(sorted(LAUNCHERS))
        raise ExecutionError(f"no launcher for environment {prepared.manager!r} (known: {known})")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    launcher: Launcher = cls()
    return launcher
