"""Environments: IN WHAT a project runs. One module per kind behind ``EnvManager``.

Adding a kind = one module, one line in ``KINDS``, one test file. Kinds are imported lazily
so ``satchel run`` with a cached env never imports the builder it does not need.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from satchel.envs.base import EnvManager, PreparedEnv, Reporter
from satchel.errors import UsageError
from satchel.projects.spec import Project

__all__ = [
    "KINDS",
    "EnvManager",
    "PreparedEnv",
    "Reporter",
    "choose_manager",
    "get_manager",
    "validate_env_decl",
]

KINDS = {
    "local": "satchel.envs.local:LocalManager",
    "uv": "satchel.envs.uv:UvManager",
    "virtualenv": "satchel.envs.virtualenv:VirtualenvManager",
    "docker": "satchel.envs.docker:DockerManager",
}
DEFAULT = "uv"
ENV_VAR = "SATCHEL_ENV_MANAGER"  # set by the runner so nested runs inherit --env-manager


def get_manager(name: str, **options: Any) -> EnvManager:
    if name not in KINDS:
        raise UsageError(f"unknown env manager {name!r}", f"use one of: {', '.join(KINDS)}")
    module_name, _, class_name = KINDS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    manager: EnvManager = cls(**options)
    return manager


def choose_manager(project: Project, requested: str | None) -> str:
    """docker_env projects always use docker; else --env-manager, the inherited one, or uv."""
    if project.env.kind == "docker":
        if requested not in (None, "docker"):
            raise UsageError(
                f"--env-manager {requested} cannot run a docker_env project",
                "drop --env-manager (the image is the environment)",
            )
        return "docker"
    inherited = os.environ.get(ENV_VAR)
    if inherited == "docker":  # a docker parent says nothing about a Python child
        inherited = None
    name = requested or inherited or DEFAULT
    if name not in KINDS or name == "docker":
        valid = ", ".join(k for k in KINDS if k != "docker")
        raise UsageError(f"unknown env manager {name!r} for a Python project", f"use {valid}")
    return name


def validate_env_decl(project: Project, manager: str | None = None) -> tuple[str, ...]:
    """Cheap checks BEFORE any run exists (files parse, python well-formed, -r files exist).

    Raises SpecError (EnvironmentBuildError when the chosen manager's tool is missing);
    returns warnings to show (conda packages that will be skipped)."""
    if project.env.kind == "docker":
        from satchel.envs.docker import validate_docker_env  # no SDK import: cheap

        validate_docker_env(project)
        return ()
    if manager == "local":
        return ()
    if manager == "virtualenv":
        from satchel.envs.virtualenv import require_virtualenv

        require_virtualenv()
    from satchel.envs.python_spec import declare
    from satchel.envs.venv_manager import dropped_message

    spec = declare(project)
    return (dropped_message(spec),) if spec.dropped else ()
