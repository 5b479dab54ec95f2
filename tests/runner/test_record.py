"""The record step and ``ended_on_error``: once a run exists, every exit path ends it (none
stays RUNNING), and what cannot be recorded is refused before the run exists.

Every test drives the real lifecycle against a real SQLite store and real processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runner_helpers import db_runs, project_copy

from satchel.errors import SatchelError
from satchel.runner import lifecycle
from satchel.runner.request import RunRequest
from satchel.runner.submitted import submit
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus


def _request(tmp_path: Path, **kw: object) -> RunRequest:
    root = project_copy(tmp_path)
    uri = f"sqlite:///{tmp_path / 'runs.db'}"
    return RunRequest(str(root), env_manager="local", tracking_uri=uri, echo=False, **kw)  # type: ignore[arg-type]


def test_a_param_too_long_to_log_is_refused_before_any_run(tmp_path: Path) -> None:
    request = _request(tmp_path, entry_point="args", parameters={"a": "x" * 7000})
    with pytest.raises(SatchelError, match="7000 characters"):
        lifecycle.execute(request)
    assert db_runs(tmp_path / "runs.db") == []


def test_a_long_command_does_not_make_the_run_impossible(tmp_path: Path) -> None:
    # each value fits a param (<= 6000) but the command is longer than a tag may be (8000)
    params = {"a": "x" * 5000, "b": "y" * 5000}
    outcome = lifecycle.execute(_request(tmp_path, entry_point="args", parameters=params))
    assert outcome.status is RunStatus.FINISHED
    run = Client(f"sqlite:///{tmp_path / 'runs.db'}").get_run(outcome.run_id)
    assert run.data.params == params
    assert len(run.data.tags["satchel.command"]) <= 8000


def test_ctrl_c_right_after_the_run_exists_ends_it_killed(tmp_path: Path) -> None:
    def report(line: str) -> None:  # the first progress line comes before env and launch
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lifecycle.execute(_request(tmp_path), report=report)
    (row,) = db_runs(tmp_path / "runs.db")
    assert row["status"] == "KILLED"


def test_a_detached_runner_that_cannot_start_ends_the_run(tmp_path: Path) -> None:
    request = _request(tmp_path)
    client = Client(str(request.tracking_uri))
    run = client.create_run("0")
    gone = RunRequest(
        str(tmp_path / "moved-away"),
        env_manager="local",
        tracking_uri=request.tracking_uri,
        run_id=run.info.run_id,
        echo=False,
    )
    with pytest.raises(SatchelError):
        lifecycle.execute(gone)
    ended = client.get_run(run.info.run_id)
    assert ended.info.status is RunStatus.FAILED
    assert "detached runner could not start" in ended.data.tags["satchel.failure.reason"]


def test_submit_that_cannot_start_its_runner_ends_the_run(tmp_path: Path) -> None:
    home = Path(os.environ["SATCHEL_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "logs").write_text("a file where the runner logs' folder should be")
    with pytest.raises(OSError):
        submit(_request(tmp_path))
    (row,) = db_runs(tmp_path / "runs.db")
    assert row["status"] == "FAILED"
