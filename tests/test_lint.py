"""The code stays ruff-clean, ruff-formatted and mypy-clean (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


def _tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_ruff_check() -> None:
    done = _tool("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-4000:]


def test_ruff_format() -> None:
    done = _tool("ruff", "format", "--no-cache", "--check", ".")
    assert done.returncode == 0, done.stdout[-4000:]


@pytest.mark.slow
def test_mypy() -> None:
    done = _tool("mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout[-4000:]
