"""Helpers of the reproduction tests (rerun, skip-if-done, runs diff, the multistep example):
the `repro` project in a real git repository, a local wheel index, the store of the test."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import zipfile
from pathlib import Path

from runner_helpers import PROJECTS, git

from satchel.tracking.client import Client
from satchel.tracking.entities import Run


def store() -> Client:
    """The default store of a CLI run from the test's working directory."""
    return Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")


def runs_by_start(client: Client, experiment_id: str = "0") -> list[Run]:
    return sorted(client.search_runs([experiment_id]), key=lambda r: r.info.start_time)


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def pushed_repo(tmp_path: Path) -> tuple[Path, Path]:
    """(a working copy of the `repro` project, its bare origin holding the commit)."""
    work = tmp_path / "clone"
    shutil.copytree(PROJECTS / "repro", work)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(work, "remote", "add", "origin", origin.as_uri())
    git(work, "push", "-q", "origin", "main")
    return work, origin


def make_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel of ``name`` at ``version`` (a real, installable one)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def wheel_index(tmp_path: Path, name: str, versions: list[str]) -> dict[str, str]:
    """Env vars that let uv install ``name`` at ``versions`` from a local folder."""
    folder = tmp_path / "wheels"
    for version in versions:
        make_wheel(folder, name, version)
    links = [p for p in (os.environ.get("UV_FIND_LINKS", ""), str(folder)) if p]
    return {"UV_FIND_LINKS": ",".join(links)}


def require(project: Path, pin: str) -> None:
    """Declare ``pin`` as the project's one dependency (python_env.yaml)."""
    (project / "python_env.yaml").write_text(f"dependencies: [{pin}]\n")
