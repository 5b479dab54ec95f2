"""Asynchronous runs: `satchel run --detach`, `satchel runs wait`, `satchel runs cancel`, and
``satchel.projects.run(..., synchronous=False)`` returning a SubmittedRun."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from runner_helpers import BIN, detached_sleeper, group_alive, project_copy, satchel_cli, wait_for

import satchel.projects
from satchel.errors import RunFailedError
from satchel.runner.control import read_control
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

pytestmark = pytest.mark.slow


def _client() -> Client:
    return Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")


@pytest.fixture(autouse=True)
def _our_python_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")


def test_detach_prints_run_id_and_wait_reports_finished(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "--detach", "--env-manager", "local", "-P", "alpha=0.1")
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    assert len(run_id) == 32
    waited = satchel_cli("runs", "wait", run_id, "--timeout", "60")
    assert waited.returncode == 0, waited.stderr
    run = _client().get_run(run_id)
    assert run.info.status is RunStatus.FINISHED
    assert run.data.params["alpha"] == "0.1"
    assert run.data.metrics["some_key"] == 3
    assert len(_client().search_runs(["0"])) == 1  # the detached runner resumed the run
    log = Path(_client().download_artifacts(run_id, "logs/console.log")).read_text()
    assert "hello world alpha=0.1" in log


def test_detached_failure_makes_wait_exit_1(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "-e", "fail", "--detach", "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    waited = satchel_cli("runs", "wait", run_id, "--timeout", "60")
    assert waited.returncode == 1
    assert _client().get_run(run_id).data.tags["satchel.exit_code"] == "3"


def test_cancel_stops_the_detached_run(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    pidfile = tmp_path / "pids"
    out = satchel_cli(
        "run",
        str(proj),
        "-e",
        "sleep",
        "-P",
        f"pidfile={pidfile}",
        "--detach",
        "--env-manager",
        "local",
    )
    run_id = out.stdout.strip()
    assert wait_for(pidfile.exists, 30)
    pgid = int(pidfile.read_text().split()[2])
    cancelled = satchel_cli("runs", "cancel", run_id[:8])  # a unique prefix will do
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"run {run_id} KILLED" in cancelled.stderr
    assert _client().get_run(run_id).info.status is RunStatus.KILLED
    assert wait_for(lambda: not group_alive(pgid), 15)
    assert satchel_cli("runs", "wait", run_id[:8]).returncode == 1
    missing = satchel_cli("runs", "wait", "abcdef0")
    assert missing.returncode == 1 and "no run with id or id prefix 'abcdef0'" in missing.stderr


def test_submitted_run_api_async(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    uri = str(Path.cwd() / "satchel" / "satchel.db")
    submitted = satchel.projects.run(
        str(proj), parameters={"steps": 2}, env_manager="local", synchronous=False, tracking_uri=uri
    )
    assert submitted.get_status() in (RunStatus.RUNNING, RunStatus.FINISHED)
    assert submitted.wait(timeout=60) is True
    assert submitted.get_status() is RunStatus.FINISHED
    submitted.cancel()  # after completion: no effect
    assert submitted.get_status() is RunStatus.FINISHED

    failing = satchel.projects.run(
        str(proj), entry_point="fail", env_manager="local", synchronous=False, tracking_uri=uri
    )
    assert failing.wait(timeout=60) is False
    assert failing.get_status() is RunStatus.FAILED


def test_submitted_run_api_cancel_one_leaves_another(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    uri = str(Path.cwd() / "satchel" / "satchel.db")
    first = satchel.projects.run(
        str(proj),
        entry_point="sleep",
        parameters={"pidfile": str(tmp_path / "a")},
        env_manager="local",
        synchronous=False,
        tracking_uri=uri,
    )
    second = satchel.projects.run(
        str(proj),
        entry_point="sleep",
        parameters={"pidfile": str(tmp_path / "b")},
        env_manager="local",
        synchronous=False,
        tracking_uri=uri,
    )
    assert wait_for(lambda: (tmp_path / "a").exists() and (tmp_path / "b").exists(), 30)
    first.cancel()
    assert first.get_status() is RunStatus.KILLED
    assert second.get_status() is RunStatus.RUNNING
    second.cancel()
    assert second.get_status() is RunStatus.KILLED


def test_submitted_run_api_sync(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    uri = str(Path.cwd() / "satchel" / "satchel.db")
    done = satchel.projects.run(str(proj), env_manager="local", tracking_uri=uri)
    assert done.wait() is True  # already finished: wait returns at once
    assert done.get_status() is RunStatus.FINISHED
    with pytest.raises(RunFailedError) as err:
        satchel.projects.run(str(proj), entry_point="fail", env_manager="local", tracking_uri=uri)
    assert err.value.returncode == 3
    assert sys.modules["satchel.projects"] is satchel.projects


def test_wait_timeout_exits_124_unlike_a_failed_run(tmp_path: Path) -> None:
    run_id, pidfile = detached_sleeper(tmp_path)
    assert wait_for(pidfile.exists, 30)
    waited = satchel_cli("runs", "wait", run_id, "--timeout", "0.3")
    assert waited.returncode == 124, waited.stderr
    (line,) = waited.stderr.strip().splitlines()
    assert f"run {run_id} still RUNNING after waiting 0.3s" in line
    assert _client().get_run(run_id).info.status is RunStatus.RUNNING  # untouched by the wait
    assert satchel_cli("runs", "cancel", run_id).returncode == 0
    # a KILLED run is a run that did not finish: 1, as FAILED, whatever the timeout
    assert satchel_cli("runs", "wait", run_id, "--timeout", "30").returncode == 1
    helped = satchel_cli("runs", "wait", "--help")
    assert "124" in helped.stdout and "FAILED or was KILLED" in helped.stdout


def test_detached_runner_gets_its_request_outside_argv(tmp_path: Path) -> None:
    secret = "HUNTER2-secret-value"
    run_id, pidfile = detached_sleeper(tmp_path, "-P", f"api_token={secret}")
    proj = tmp_path / "proj-basic"
    assert wait_for(pidfile.exists, 30)
    control = read_control(run_id)
    assert control is not None
    runner_pid = control.pid
    cmdline = Path(f"/proc/{runner_pid}/cmdline").read_bytes().split(b"\0")
    assert b"--request-file" in cmdline
    assert secret.encode() not in b" ".join(cmdline) and str(proj).encode() not in cmdline
    requests = Path(os.environ["SATCHEL_HOME"]) / "requests"
    assert list(requests.iterdir()) == []  # read once, then gone
    satchel_cli("runs", "cancel", run_id)


def test_request_file_is_owner_only_and_round_trips(tmp_path: Path) -> None:
    from satchel.runner.request import RunRequest, read_request, write_request

    request = RunRequest(
        "proj#sub", "train", parameters={"a": "1=2", "password": "x"}, allow_extra=True,
        docker_args={"gpus": "all", "privileged": True, "env": ["A=1"]}, run_id="r1",
    )  # fmt: skip
    path = tmp_path / "requests" / "r1.json"
    write_request(request, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_request(str(path)) == request and not path.exists()


def test_detached_run_of_a_directory_named_like_an_option(tmp_path: Path) -> None:
    """`satchel run --detach -- -proj`: the detached runner must not read the directory's
    name as an option (it gets its request through a file, not argv)."""
    proj = Path.cwd() / "-proj"
    project_copy(tmp_path).rename(proj)
    out = satchel_cli("run", "--detach", "--env-manager", "local", "--", "-proj")
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    waited = satchel_cli("runs", "wait", run_id, "--timeout", "60")
    assert waited.returncode == 0, waited.stderr
    assert _client().get_run(run_id).info.status is RunStatus.FINISHED
