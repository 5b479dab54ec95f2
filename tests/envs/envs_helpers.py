"""Tiny on-disk projects for the environment tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from satchel.projects.spec import EntryPoint, EnvDecl, Project


def make_project(
    root: Path,
    files: dict[str, str],
    *,
    kind: str = "none",
    env_file: str | None = None,
    name: str = "demo",
) -> Project:
    """Write ``files`` under ``root`` and return the Project record the spec layer would."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    path = (root / env_file).resolve() if env_file else None
    return Project(
        root=root.resolve(),
        name=name,
        spec_path=None,
        env=EnvDecl(kind=kind, path=path),  # type: ignore[arg-type]
        entry_points={"main": EntryPoint("main", "python main.py")},
    )


def run_in(python: str | Path, code: str) -> str:
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()
