"""What a model needs installed: pinned requirements, python_env.yaml, the run's lock.

Outside ``satchel run`` the packages a flavour names are pinned at the versions installed
now (``scikit-learn==1.9.1``). Under ``satchel run`` the run's environment was resolved and
its lock logged as ``env/requirements.lock``: the model's requirements are that lock, so the
model's environment is exactly the one it was trained in.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["RUN_LOCK_ARTIFACT", "pinned", "python_env", "run_lock"]

RUN_LOCK_ARTIFACT = "env/requirements.lock"


def pinned(packages: list[str]) -> list[str]:
    """``name==installed version`` for each installed package (missing ones are skipped)."""
    out = []
    for name in packages:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def python_env() -> dict[str, Any]:
    """MLflow's python_env.yaml: this Python, the build tools, ``-r requirements.txt``."""
    return {
        "python": platform.python_version(),
        "build_dependencies": ["pip", "setuptools", "wheel"],
        "dependencies": ["-r requirements.txt"],
    }


def run_lock(client: Any, run_id: str) -> list[str] | None:
    """The resolved lock of the ``satchel run`` that owns ``run_id``, if it logged one."""
    import tempfile

    try:
        names = {f.path for f in client.list_artifacts(run_id, "env")}
    except Exception:  # a store without artifacts here: no lock, pin what is installed
        return None
    if RUN_LOCK_ARTIFACT not in names:
        return None
    with tempfile.TemporaryDirectory(prefix="satchel-lock-") as tmp:
        path = Path(client.download_artifacts(run_id, RUN_LOCK_ARTIFACT, tmp))
        lines = path.read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
