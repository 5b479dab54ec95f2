"""The run key: one content hash over everything that decides what a run computes.

    code         every file of the project the source snapshot holds (path + bytes)
    env          the environment's content key (the resolved lock, Python, platform)
    entry point  its name
    params       the typed values; a ``path`` parameter by the content of what it names
                 (a file, or every file under a directory), wherever it lives

Two runs with the same key ran the same code on the same inputs in the same environment:
``--skip-if-done`` reuses a FINISHED one instead of running again. Where a file lives does
not count (a rerun in a restored copy has the key of its original); one changed byte does.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from satchel.envs.base import PreparedEnv
    from satchel.runner.plan import Plan

__all__ = ["RUN_KEY_TAG", "cached_env_key", "content_digest", "run_key", "run_key_for_env"]

RUN_KEY_TAG = "satchel.run_key"
_CHUNK = 1 << 20


def _feed_file(digest: Any, path: Path) -> None:
    if path.is_symlink():  # the link itself is the code; its target may be anywhere
        digest.update(b"L" + os.fsencode(os.readlink(path)))
        return
    digest.update(b"F")
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)


def _feed_tree(digest: Any, root: Path, files: list[str]) -> None:
    for rel in sorted(files):
        digest.update(os.fsencode(rel) + b"\0")
        path = root / rel
        if path.is_file() or path.is_symlink():
            _feed_file(digest, path)
        digest.update(b"\0")


def content_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of every (relative path, bytes) under a directory."""
    digest = hashlib.sha256()
    if path.is_dir():
        files = [
            (Path(here) / name).relative_to(path).as_posix()
            for here, _dirs, names in os.walk(path)
            for name in names
        ]
        digest.update(b"D")
        _feed_tree(digest, path, files)
    else:
        _feed_file(digest, path)
    return digest.hexdigest()


def _code_digest(plan: Plan) -> str:
    from satchel.projects.source import source_files

    files, _untracked = source_files(plan.fetched)
    digest = hashlib.sha256()
    _feed_tree(digest, Path(plan.fetched.root), files)
    return digest.hexdigest()


def _param_values(plan: Plan) -> dict[str, str]:
    specs = plan.entry_point.parameters
    values = {}
    for name, shown in plan.resolved.for_logging().items():
        spec = specs.get(name)
        if spec is not None and spec.type == "path":
            values[name] = "content:" + content_digest(Path(plan.resolved.declared[name]))
        else:
            values[name] = shown
    return values


def run_key_for_env(plan: Plan, env_key: str) -> str:
    """The run key of ``plan`` in the environment whose key is ``env_key``."""
    facts = {
        "code": _code_digest(plan),
        "env": env_key,
        "entry_point": plan.entry_point.name,
        "params": _param_values(plan),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _env_part(manager: str, key: str | None) -> str:
    # "local" has no key of its own: the interpreter running Satchel is the environment
    return key if key else f"{manager}:python-{platform.python_version()}"


def run_key(plan: Plan, prepared: PreparedEnv) -> str:
    """The key of a run whose environment is ready."""
    return run_key_for_env(plan, _env_part(prepared.manager, prepared.key))


def cached_env_key(plan: Plan) -> str | None:
    """The env key ``plan`` would get, if its environment is built already (else None):
    cheap, builds nothing, so ``--skip-if-done`` can decide before anything runs."""
    from satchel.envs import get_manager

    if plan.env_manager == "local":
        return _env_part("local", None)
    if plan.env_manager == "docker":  # the image id needs the engine: not cheap
        return None
    return get_manager(plan.env_manager).cached_key(plan.project)
