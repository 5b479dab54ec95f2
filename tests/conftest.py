"""Fixtures shared by every test.

The autouse ``_isolated`` fixture makes it impossible for a test to read or write the real
home directory or a user's tracking store: HOME, the XDG cache, SATCHEL_HOME and the working
directory all point into the test's tmp_path, and no SATCHEL_* variable leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    # Shared across the session so uv downloads each wheel once; CI may point it elsewhere.
    return os.environ.get("UV_CACHE_DIR") or str(tmp_path_factory.mktemp("uv-cache"))


@pytest.fixture(autouse=True)
def _isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uv_cache_dir: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("SATCHEL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("SATCHEL_HOME", str(tmp_path / "satchel-home"))
    monkeypatch.setenv("UV_CACHE_DIR", uv_cache_dir)
    # git inside tests: no user config exists in the fake home
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real ``satchel`` CLI in a subprocess (as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "satchel", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
