"""The frozen records an MLproject is parsed into (Project, EntryPoint, ParamSpec, EnvDecl).

Their own module so the parser (``_schema``), the parameter rules (``params``) and the loader
(``spec``) all import them without importing each other; ``spec`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["DockerEnv", "EntryPoint", "EnvDecl", "EnvKind", "ParamSpec", "ParamType", "Project"]

ParamType = Literal["string", "float", "int", "bool", "path", "uri"]
EnvKind = Literal["python_env", "conda_env", "docker", "none"]


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter of an entry point: its type, default and bounds."""

    name: str
    type: ParamType = "string"
    default: Any = None  # already converted to the type; None = required (unless optional)
    required: bool = True
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    # the MLproject's default did not fit the type: passed as written (MLflow does), unchecked
    raw_default: bool = False


@dataclass(frozen=True)
class EntryPoint:
    """A named command template and the parameters it declares."""

    name: str
    command: str  # str.format template; values are shell-quoted at render time
    parameters: dict[str, ParamSpec] = field(default_factory=dict)
    is_script: bool = False  # `-e train.py` on a project that does not declare it


@dataclass(frozen=True)
class DockerEnv:
    """The ``docker_env`` declaration: image, volumes, environment variables."""

    image: str
    volumes: tuple[str, ...] = ()
    # (NAME, None) copies NAME from the host; (NAME, value) sets it explicitly
    environment: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class EnvDecl:
    """Which environment the project declares, and from where.

    kind "python_env"/"conda_env": ``path`` is the absolute file (named in MLproject or found
    by convention). kind "none": no declaration; the env layer may still use pyproject.toml +
    uv.lock or requirements.txt found in the project root.
    """

    kind: EnvKind
    path: Path | None = None
    docker: DockerEnv | None = None


@dataclass(frozen=True)
class Project:
    """A validated project: where it runs, its environment and its entry points."""

    root: Path  # absolute directory the command runs in (after #subdir)
    name: str | None
    spec_path: Path | None  # the MLproject file, None for a bare directory of scripts
    env: EnvDecl
    entry_points: dict[str, EntryPoint] = field(default_factory=dict)
    # what MLflow tolerates and we warn about, one line each: "<file>: <key path>: problem"
    warnings: tuple[str, ...] = ()
