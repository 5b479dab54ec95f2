"""What ``--dry-run`` says about a plan's environment: which manager, and from what.

"environment: uv" alone does not tell a user whether their ``python_env.yaml`` was found or
the current interpreter will be used, nor whether a docker project's code is mounted or
baked. These lines do, reading only files (no engine, no build, no network).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from satchel.projects.spec import Project
    from satchel.runner.plan import Plan

__all__ = ["environment_lines"]

# a conda dependency on python itself: "python", "python=3.10", "conda-forge::python>=3.9"
_CONDA_PYTHON = re.compile(r"^(?:[^:\s]+::)?python(?:$|[\s=<>!~])")


def environment_lines(plan: Plan) -> list[str]:
    """``environment:`` and its details, aligned like the other dry-run lines."""
    lines = [f"environment:  {plan.env_manager}"]
    if plan.env_manager == "docker":
        details = _docker(plan)
    elif plan.env_manager == "local":
        details = _local(plan.project)
    else:
        details = _python(plan.project)
    return lines + [f"  {key + ':':<14}{value}" for key, value in details]


def _docker(plan: Plan) -> list[tuple[str, str]]:
    from satchel.envs.docker import WORKDIR

    decl = plan.project.env.docker
    if decl is None:  # the docker manager is chosen only for a docker_env project
        raise AssertionError("a docker plan without a docker_env declaration")
    spec = _relative(plan.project, plan.project.spec_path) if plan.project.spec_path else "?"
    if plan.request.build_image:
        code = f"baked into an image built FROM {decl.image} (--build-image)"
    else:
        code = f"mounted at {WORKDIR} (pass --build-image to bake it into an image)"
    return [("declared in", f"{spec} (docker_env)"), ("image", decl.image), ("code", code)]


def _local(project: Project) -> list[tuple[str, str]]:
    from satchel.envs.python_spec import current_python

    line = f"none: current Python {current_python()}"
    if project.env.kind in ("python_env", "conda_env") and project.env.path is not None:
        line += f" (--env-manager local ignores {_relative(project, project.env.path)})"
    return [("declared in", line)]


def _python(project: Project) -> list[tuple[str, str]]:
    from satchel.envs.python_spec import current_python, declare

    spec = declare(project)  # already parsed once by validate: it cannot fail here
    if spec.source == "none":
        return [("declared in", f"none: current Python {current_python()}")]
    if project.env.kind in ("python_env", "conda_env") and project.env.path is not None:
        where = _relative(project, project.env.path)
    elif spec.source == "uv.lock":
        where = "pyproject.toml + uv.lock"
    else:
        where = spec.source
    python = spec.python if _python_requested(project, spec.source) else None
    shown = python or f"not requested: current Python {current_python()}"
    return [("declared in", where), ("python", shown)]


def _python_requested(project: Project, source: str) -> bool:
    """Did the declaration name a python, or did the env layer default to the current one?"""
    if source == "uv.lock":
        return (project.root / ".python-version").is_file()
    if source not in ("python_env.yaml", "conda.yaml") or project.env.path is None:
        return False
    from satchel.projects._yamlsafe import load_yaml_file

    doc = load_yaml_file(project.env.path) or {}
    if not isinstance(doc, dict):
        return False
    if source == "python_env.yaml":
        return "python" in doc
    deps = doc.get("dependencies") or []
    return any(isinstance(d, str) and _CONDA_PYTHON.match(d.strip()) for d in deps)


def _relative(project: Project, path: Path) -> str:
    return os.path.relpath(path, project.root)
