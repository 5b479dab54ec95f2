"""Under ``satchel run`` a logged model's requirements are the run's resolved lock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow

TRAIN = """
import numpy as np, satchel
from sklearn.linear_model import LogisticRegression
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.2]])
model = LogisticRegression().fit(X, [0, 1, 0, 1])
info = satchel.sklearn.log_model(model, name="model", input_example=X[:2])
print("MODEL", info.model_uri)
"""


def test_a_model_logged_under_satchel_run_pins_the_runs_lock(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    (project / "python_env.yaml").write_text(
        f"python: '{python}'\ndependencies:\n  - scikit-learn\n  - skops\n"
    )
    (project / "MLproject").write_text(
        "name: lockdemo\npython_env: python_env.yaml\n"
        "entry_points:\n  main:\n    command: python train.py\n"
    )
    store = tmp_path / "store"
    done = run_cli("run", str(project), "--tracking-uri", str(store), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = next(ln for ln in done.stdout.splitlines() if ln.startswith("MODEL")).split("/")[1]
    artifacts = next(store.glob(f"artifacts/*/{run_id}/artifacts"))
    lock = (artifacts / "env" / "requirements.lock").read_text().split()
    requirements = (artifacts / "model" / "requirements.txt").read_text().split()
    assert requirements == lock
    assert any(r.startswith("scikit-learn==") for r in requirements)
    assert any(r.startswith("threadpoolctl==") for r in requirements)  # transitive: the lock
