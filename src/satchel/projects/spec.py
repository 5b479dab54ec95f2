"""MLproject → frozen records (Project, EntryPoint, ParamSpec, EnvDecl).

Parsed and validated once; nothing downstream sees raw YAML. Every error names the file,
the key path (``entry_points / train / parameters / alpha``) and what is allowed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from satchel.errors import EntryPointError
from satchel.projects.records import DockerEnv, EntryPoint, EnvDecl, ParamSpec, Project

__all__ = [
    "SCRIPT_COMMANDS",
    "DockerEnv",
    "EntryPoint",
    "EnvDecl",
    "ParamSpec",
    "Project",
    "find_spec_file",
    "get_entry_point",
    "load_project",
]

# Script entry points (`-e train.py`): extension → interpreter. bash, not $SHELL: a user's
# login shell (zsh, fish) must not change how a project runs.
SCRIPT_COMMANDS = {".py": "python", ".sh": "bash"}


def find_spec_file(root: Path) -> Path | None:
    """The MLproject file of ``root`` (name matched case-insensitively, root only)."""
    for child in sorted(root.iterdir()):
        if child.name.lower() == "mlproject" and child.is_file():
            return child
    return None


def load_project(root: Path) -> Project:
    """Parse and validate the project in ``root`` (an MLproject file, or a bare directory).

    Raises SpecError (one line: file, key path, what is allowed) on any problem.
    """
    from satchel.projects import _schema  # yaml is imported only when a spec is loaded

    root = Path(root).resolve()
    spec_path = find_spec_file(root)
    if spec_path is None:
        return Project(root=root, name=None, spec_path=None, env=_schema.conventional_env(root))
    return _schema.parse_project(root, spec_path)


def get_entry_point(project: Project, name: str) -> EntryPoint:
    """The declared entry point ``name``, else a script of the project (``train.py``)."""
    declared = project.entry_points.get(name)
    if declared is not None:
        return declared
    suffix = Path(name).suffix
    if suffix in SCRIPT_COMMANDS:
        script = _script_path(project, name)
        if script is not None:
            # The file name is quoted for the shell, then its braces are escaped for format().
            quoted = shlex.quote(name).replace("{", "{{").replace("}", "}}")
            return EntryPoint(name, f"{SCRIPT_COMMANDS[suffix]} {quoted}", {}, is_script=True)
    raise EntryPointError(_unknown_entry_point(project, name))


def _script_path(project: Project, name: str) -> Path | None:
    path = (project.root / name).resolve()
    inside = path == project.root or project.root in path.parents
    return path if inside and path.is_file() else None


def _unknown_entry_point(project: Project, name: str) -> str:
    scripts = sorted(
        p.name for p in project.root.iterdir() if p.suffix in SCRIPT_COMMANDS and p.is_file()
    )
    candidates = list(project.entry_points) + scripts
    where = project.spec_path or project.root
    msg = f"Could not find entry point {name!r} in {where}"
    import difflib  # error path only

    guess = difflib.get_close_matches(name, candidates, n=1)
    if guess:
        msg += f" (did you mean {guess[0]!r}?)"
    declared = ", ".join(project.entry_points) or "none"
    msg += f"; declared entry points: {declared}"
    if scripts:
        msg += f"; scripts: {', '.join(scripts)}"
    msg += "; or give a .py/.sh script file of the project"
    # an ignored key may be why (`entry_point:` for `entry_points:`): say so on the same line
    return "; ".join([msg, *project.warnings])
