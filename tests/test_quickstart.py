"""README's first command — install Satchel and run the example end to end — really works.

The command is read from README.md, so the quickstart cannot rot without failing here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import satchel
from conftest import REPO

_IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", "__pycache__", ".*_cache", ".hypothesis", ".venvs", "results", "*.egg-info"
)


def _ignore(directory: str, names: list[str]) -> set[str]:
    """What a fresh clone would not have: caches, venvs, and a tracking store at the root."""
    ignored = set(_IGNORED(directory, names))
    if Path(directory) == REPO:
        ignored.add("satchel")  # the default store ./satchel/, not the package in src/
    return ignored


def quickstart_commands() -> tuple[str, str]:
    """The two commands of README's first code block: (install-and-run, test suite)."""
    block = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block, "README.md must open with a bash block"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 2, lines
    return lines[0], lines[1]


def test_readme_test_command_is_what_ci_runs() -> None:
    _, test_command = quickstart_commands()
    ci = (REPO / ".ci" / "run").read_text()
    assert test_command.split()[-1] in ci


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_quickstart_installs_and_runs_the_example(tmp_path: Path) -> None:
    checkout = tmp_path / "satchel-checkout"
    shutil.copytree(REPO, checkout, ignore=_ignore, symlinks=True)
    install_and_run, _ = quickstart_commands()

    done = subprocess.run(
        ["bash", "-c", install_and_run],
        cwd=checkout,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=840,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    client = satchel.Client(f"sqlite:///{checkout / 'satchel' / 'satchel.db'}")
    (run,) = client.search_runs(["0"])
    assert run.info.status == "FINISHED"
    assert {"rmse", "r2"} <= set(run.data.metrics)
    assert run.data.params["alpha"] == "0.3"
    assert run.data.tags["mlflow.project.env"] == "uv"
    assert run.info.run_id[:8] in done.stdout  # `satchel runs list` shows the run
