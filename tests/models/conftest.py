"""Fixtures of the model tests: one scikit-learn environment per session, built by uv."""

from __future__ import annotations

from pathlib import Path

import pytest
from models_helpers import ML_PACKAGES, build_venv

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def uv_settings(config: pytest.Config) -> dict[str, str]:
    """The root conftest's uv index settings (the autouse fixture sets them per test only)."""
    root = config.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    return dict(root._uv_index_settings()) if root is not None else {}


@pytest.fixture(scope="session")
def ml_python(
    tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: str, pytestconfig: pytest.Config
) -> Path:
    env = {**uv_settings(pytestconfig), "UV_CACHE_DIR": uv_cache_dir}
    return build_venv(tmp_path_factory.mktemp("ml-venv") / "venv", ML_PACKAGES, env)
