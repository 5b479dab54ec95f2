"""``satchel runs diff``: what differs between two runs, from what each recorded.

    code     a unified diff between the two ``source/snapshot`` trees, commits named
             (the environment's declaration files are the env's business, not code)
    env      packages added, removed or at another version (``env/requirements.lock``),
             the declaration files that changed, the env key and Python
    params   the runner's params that differ
    metrics  latest values that differ, with the change
    command  the rendered command, when it differs by more than the params above

Read-only: artifacts are copied into a temp dir that is removed before returning.
"""

from __future__ import annotations

import difflib
import re
import shlex
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from satchel.errors import NotFoundError
from satchel.tracking.client import Client
from satchel.tracking.entities import Run

__all__ = ["RunDiff", "diff_runs", "lock_packages"]


@dataclass(frozen=True)
class RunDiff:
    run_a: str
    run_b: str
    commits: tuple[str | None, str | None]
    code: list[str] = field(default_factory=list)  # unified diff lines
    code_files: list[str] = field(default_factory=list)  # files that differ
    env_files: list[str] = field(default_factory=list)  # env declaration files that differ
    packages: dict[str, list[str]] = field(default_factory=dict)  # added/removed/changed
    env: dict[str, list[str | None]] = field(default_factory=dict)  # key, python: [a, b]
    params: dict[str, list[str | None]] = field(default_factory=dict)
    metrics: dict[str, list[float | None]] = field(default_factory=dict)
    command: list[str | None] = field(default_factory=list)  # [a, b] when they differ

    @property
    def same(self) -> bool:
        return not (self.code_files or self.env_files or self.packages or self.env or self.params)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff_runs(client: Client, run_a: str, run_b: str) -> RunDiff:
    a, b = client.get_run(run_a), client.get_run(run_b)
    with tempfile.TemporaryDirectory(prefix="satchel-diff-") as tmp:
        files_a = _snapshot(client, a, Path(tmp, "a"))
        files_b = _snapshot(client, b, Path(tmp, "b"))
        declared = _env_files(files_a) | _env_files(files_b)
        env_a = {p: files_a.pop(p) for p in declared if p in files_a}
        env_b = {p: files_b.pop(p) for p in declared if p in files_b}
        code, changed = _code_diff(files_a, files_b, a, b)
        locks = (_lock(client, a, Path(tmp, "la")), _lock(client, b, Path(tmp, "lb")))
    return RunDiff(
        run_a=a.info.run_id,
        run_b=b.info.run_id,
        commits=(_commit(a), _commit(b)),
        code=code,
        code_files=changed,
        env_files=[p for p in sorted({*env_a, *env_b}) if env_a.get(p) != env_b.get(p)],
        packages=_package_changes(*locks),
        env=_differing({k: (a.data.tags.get(k), b.data.tags.get(k)) for k in _ENV_TAGS}),
        params=_secret_masked(_differing(_pairs(a.data.params, b.data.params))),
        metrics=_differing(_pairs(a.data.metrics, b.data.metrics)),
        command=_command_change(a, b),
    )


_ENV_TAGS = ("mlflow.project.env", "satchel.env.key", "satchel.env.python")


def _commit(run: Run) -> str | None:
    return run.data.tags.get("mlflow.source.git.commit")


def _pairs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (a.get(k), b.get(k)) for k in sorted({*a, *b})}


def _differing(pairs: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {k: [va, vb] for k, (va, vb) in pairs.items() if va != vb}


def _secret_masked(params: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """A secret that changed is listed, its values are not."""
    from satchel.tracking.secrets import MASK, is_secret_name

    return {k: [MASK, MASK] if is_secret_name(k) else v for k, v in params.items()}


def _snapshot(client: Client, run: Run, dest: Path) -> dict[str, bytes]:
    try:
        root = Path(client.download_artifacts(run.info.run_id, "source/snapshot", dest))
    except NotFoundError:
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


_ENV_FILES = {"python_env.yaml", "conda.yaml", "requirements.txt", "uv.lock"}


def _env_files(files: dict[str, bytes]) -> set[str]:
    """The files that declare the environment: the usual names, and what MLproject names."""
    found = {p for p in files if p in _ENV_FILES}
    spec = files.get("MLproject")
    if spec:
        for key in ("python_env", "conda_env"):
            named = re.search(rf"^{key}:\s*['\"]?([^'\"\s#]+)", spec.decode(errors="replace"), re.M)
            if named and named.group(1) in files:
                found.add(named.group(1))
    return found


def _code_diff(
    a: dict[str, bytes], b: dict[str, bytes], run_a: Run, run_b: Run
) -> tuple[list[str], list[str]]:
    label_a = f"{run_a.info.run_id[:8]}@{(_commit(run_a) or 'no-git')[:12]}"
    label_b = f"{run_b.info.run_id[:8]}@{(_commit(run_b) or 'no-git')[:12]}"
    lines: list[str] = []
    changed = [p for p in sorted({*a, *b}) if a.get(p) != b.get(p)]
    for path in changed:
        old, new = a.get(path), b.get(path)
        try:
            old_text = (old or b"").decode().splitlines(keepends=True)
            new_text = (new or b"").decode().splitlines(keepends=True)
        except UnicodeDecodeError:
            lines.append(f"Binary file {path} differs\n")
            continue
        lines.extend(
            difflib.unified_diff(
                old_text,
                new_text,
                f"{label_a}/{path}" if old is not None else "/dev/null",
                f"{label_b}/{path}" if new is not None else "/dev/null",
            )
        )
    return [ln if ln.endswith("\n") else ln + "\n" for ln in lines], changed


def _lock(client: Client, run: Run, dest: Path) -> str:
    try:
        return Path(
            client.download_artifacts(run.info.run_id, "env/requirements.lock", dest)
        ).read_text()
    except NotFoundError:
        return ""


def lock_packages(lock_text: str) -> dict[str, str]:
    """``name==1.0`` / ``name @ url`` lines → {name: pin}."""
    found = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"\s*(?:==|@|\[|;|>|<|~|!)", line, maxsplit=1)[0].strip().lower()
        found[re.sub(r"[-_.]+", "-", name)] = line
    return found


def _package_changes(lock_a: str, lock_b: str) -> dict[str, list[str]]:
    a, b = lock_packages(lock_a), lock_packages(lock_b)
    changes = {
        "added": [b[n] for n in sorted(set(b) - set(a))],
        "removed": [a[n] for n in sorted(set(a) - set(b))],
        "changed": [f"{a[n]} -> {b[n]}" for n in sorted(set(a) & set(b)) if a[n] != b[n]],
    }
    return {k: v for k, v in changes.items() if v}


def _command_change(a: Run, b: Run) -> list[str | None]:
    """[a, b] when the commands differ by more than the params' values."""
    cmd_a, cmd_b = a.data.tags.get("satchel.command"), b.data.tags.get("satchel.command")
    if cmd_a == cmd_b:
        return []
    if _template(cmd_a, a.data.params) == _template(cmd_b, b.data.params):
        return []
    return [cmd_a, cmd_b]


def _template(command: str | None, params: dict[str, str]) -> str | None:
    """The command with each param's value (as rendered) put back as ``{name}``."""
    if command is None:
        return None
    for key, value in sorted(params.items(), key=lambda kv: -len(kv[1])):
        if value:
            for form in dict.fromkeys((shlex.quote(value), value)):
                command = command.replace(form, "{" + key + "}")
    return command
