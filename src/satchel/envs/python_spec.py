"""A project's Python environment declaration → one normalised, hashable ``DeclaredSpec``.

Sources, in order: ``python_env.yaml`` (MLflow's format), ``conda.yaml`` (converted: python
version + pip dependencies), ``pyproject.toml`` + ``uv.lock``, ``requirements.txt``, nothing
(the current interpreter's major.minor, no packages). ``-r``/``-c`` files are expanded so their
*contents* are hashed, never their names. Reading files is all this module does: no subprocess,
no network — the declared-spec hash is what a warm start recomputes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satchel.errors import SpecError
from satchel.projects.spec import Project

__all__ = ["DeclaredSpec", "declare", "platform_tag"]

# A bare version ("3.11", "3.11.7") or a specifier set (">=3.9,<3.13").
_VERSION = r"\d+(?:\.\d+){0,2}"
_PYTHON_RE = re.compile(
    rf"^(?:{_VERSION}|(?:==|>=|<=|>|<|!=|~=)\s*{_VERSION}(?:\.\*)?"
    rf"(?:\s*,\s*(?:==|>=|<=|>|<|!=|~=)\s*{_VERSION}(?:\.\*)?)*)$"
)
_CONDA_BUILD_DEPS = ("pip", "setuptools", "wheel")


@dataclass(frozen=True)
class DeclaredSpec:
    """What a project declares for its Python environment, normalised."""

    source: str  # "python_env.yaml" | "conda.yaml" | "uv.lock" | "requirements.txt" | "none"
    python: str  # the requested version or specifier, as uv/virtualenv understand it
    requirements: tuple[str, ...] = ()  # build deps first, ``-r`` files inlined
    constraints: tuple[str, ...] = ()  # contents of ``-c`` files
    uv_project: Path | None = None  # pyproject.toml + uv.lock: the lock is exported, not solved
    uv_lock_text: str = ""  # hashed instead of requirements for uv projects
    dropped: tuple[str, ...] = ()  # conda packages a Python env cannot honour

    def digest(self, manager: str) -> str:
        """The level-1 cache key: what was declared, for which python, platform and builder."""
        material = {
            "source": self.source,
            "python": self.python,
            "requirements": self.requirements,
            "constraints": self.constraints,
            "uv_lock": self.uv_lock_text,
            "platform": platform_tag(),
            "manager": manager,
        }
        blob = json.dumps(material, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:24]


def platform_tag() -> str:
    return f"{sys.platform}-{_machine()}"


def _machine() -> str:
    # platform.machine() is os.uname().machine on Linux and macOS; importing platform for
    # it costs ~2 ms on every run.
    if sys.platform.startswith(("linux", "darwin")):
        return os.uname().machine
    import platform

    return platform.machine()


def current_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def declare(project: Project) -> DeclaredSpec:
    """Parse whatever the project declares; SpecError (one line) when it cannot be honoured."""
    decl = project.env
    if decl.kind == "python_env" and decl.path is not None:
        return _from_python_env(project.root, decl.path)
    if decl.kind == "conda_env" and decl.path is not None:
        return _from_conda(project.root, decl.path)
    root = project.root
    if (root / "pyproject.toml").is_file() and (root / "uv.lock").is_file():
        return _from_uv_project(root)
    if (root / "requirements.txt").is_file():
        lines, constraints = expand_lines(["-r requirements.txt"], root, root, "requirements.txt")
        return DeclaredSpec("requirements.txt", current_python(), lines, constraints)
    return DeclaredSpec("none", current_python())


def _load_yaml(path: Path) -> dict[str, Any]:
    from satchel.projects._yamlsafe import load_yaml_file

    doc = load_yaml_file(path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise SpecError(f"{path.name}: must be a mapping of keys (python, dependencies, ...)")
    return doc


def _check_python(value: object, where: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # `python: 3.10` in YAML is a float; 3.1 would be wrong, so refuse
        if value.count(".") == 1 and value.endswith(".1"):
            raise SpecError(f"{where}: python {value} is ambiguous", 'quote it: python: "3.10"')
    if not isinstance(value, str) or not _PYTHON_RE.match(value.strip()):
        raise SpecError(
            f"{where}: python {value!r} is not a version", 'write e.g. python: "3.11" or ">=3.9"'
        )
    return value.strip()


def _string_list(doc: dict[str, Any], key: str, where: str) -> list[str]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{where} / {key}: must be a list of requirement strings")
    return value


def _from_python_env(root: Path, path: Path) -> DeclaredSpec:
    doc = _load_yaml(path)
    name = path.name
    python = _check_python(doc["python"], name) if "python" in doc else current_python()
    unknown = set(doc) - {"python", "build_dependencies", "dependencies"}
    if unknown:
        raise SpecError(
            f"{name}: unknown key {sorted(unknown)[0]!r}",
            "allowed: python, build_dependencies, dependencies",
        )
    raw = _string_list(doc, "build_dependencies", name) + _string_list(doc, "dependencies", name)
    lines, constraints = expand_lines(raw, path.parent, root, name)
    return DeclaredSpec("python_env.yaml", python, lines, constraints)


def _from_conda(root: Path, path: Path) -> DeclaredSpec:
    doc = _load_yaml(path)
    name = path.name
    deps = doc.get("dependencies") or []
    if not isinstance(deps, list):
        raise SpecError(f"{name} / dependencies: must be a list")
    python, build, pip_lines, dropped = current_python(), [], [], []
    for dep in deps:
        if isinstance(dep, dict) and "pip" in dep:
            pip_lines += _string_list(dep, "pip", f"{name} / dependencies")
        elif isinstance(dep, str):
            pkg = re.split(r"[\s=<>!~]", dep.split("::")[-1], maxsplit=1)[0].lower()
            spec = dep.split("::")[-1][len(pkg) :].strip()
            if pkg == "python":
                python = _conda_python(spec, name)
            elif pkg in _CONDA_BUILD_DEPS:
                build.append(pkg + (re.sub(r"^=(?!=)", "==", spec) if spec else ""))
            else:
                dropped.append(dep)
        else:
            raise SpecError(f"{name} / dependencies: unexpected entry {dep!r}")
    lines, constraints = expand_lines(build + pip_lines, path.parent, root, name)
    return DeclaredSpec("conda.yaml", python, lines, constraints, dropped=tuple(dropped))


def _conda_python(spec: str, where: str) -> str:
    if not spec:
        return current_python()
    spec = spec.replace(" ", "")
    if re.fullmatch(rf"={_VERSION}(\.\*)?", spec):  # conda's "python=3.10" / "python=3.10.*"
        spec = spec[1:]
    spec = re.sub(r"\.\*$", "", spec.removeprefix("=="))
    return _check_python(spec, f"{where} / dependencies / python")


def _from_uv_project(root: Path) -> DeclaredSpec:
    lock = (root / "uv.lock").read_text()
    pyproject = (root / "pyproject.toml").read_text()
    pin = root / ".python-version"
    python = current_python()
    if pin.is_file():
        python = _check_python(pin.read_text().strip().splitlines()[0], ".python-version")
    # Both files are hashed: the lock says what, pyproject which groups/extras belong.
    return DeclaredSpec("uv.lock", python, uv_project=root, uv_lock_text=pyproject + "\0" + lock)


def expand_lines(
    lines: list[str], base: Path, root: Path, where: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Requirement lines with ``-r`` inlined and ``-c`` files collected as constraints.

    Relative files resolve against the including file's directory and must stay inside the
    project root (a declaration never reads ``../../etc/passwd``)."""
    reqs: list[str] = []
    cons: list[str] = []
    for raw in lines:
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        flag, target = _include(line)
        if flag is None:
            reqs.append(line)
            continue
        path = _inside(base / target, root, where, line)
        sub = path.read_text().splitlines()
        more, more_cons = expand_lines(sub, path.parent, root, f"{where} -> {target}")
        if flag == "-r":
            reqs += more
        else:
            cons += more  # a constraints file's own -r lines are still constraints
        cons += more_cons
    return tuple(reqs), tuple(cons)


def _include(line: str) -> tuple[str | None, str]:
    m = re.match(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)?(\S.*)$", line)
    if not m:
        return None, ""
    flag = "-r" if m.group(1) in ("-r", "--requirement") else "-c"
    return flag, m.group(2).strip()


def _inside(path: Path, root: Path, where: str, line: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise SpecError(f"{where}: {line!r} points outside the project", "keep files inside it")
    if not resolved.is_file():
        raise SpecError(f"{where}: {line!r}: file not found", f"create {path.name} or remove it")
    return resolved
