"""Launchers by backend (``--backend``): a literal registry, imported lazily.

``local`` runs on this machine (a process group, or a container for docker_env projects: the
environment kind says how); ``ray`` submits a job to a Ray cluster through its Jobs API. Only
the launcher a run needs is imported, so a local run never pays for the docker SDK.
"""

from __future__ import annotations

import importlib

from satchel.errors import UsageError
from satchel.runner.backends.base import Launcher

__all__ = ["BACKENDS", "get_launcher"]

# backend name -> "module:Class"
BACKENDS: dict[str, str] = {
    "local": "satchel.runner.backends.local:LocalLauncher",
    "ray": "satchel.runner.backends.ray:RayLauncher",
}


def get_launcher(backend: str) -> Launcher:
    target = BACKENDS.get(backend)
    if target is None:
        raise UsageError(
            f"unsupported backend {backend!r}", hint=f"use one of {', '.join(BACKENDS)}"
        )
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    launcher: Launcher = cls()
    return launcher
