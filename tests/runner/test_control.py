"""The runner's control file (``satchel.runner.control``): `runs cancel` and `runs wait` act on
the process that really is the run's runner, never on a pid that a tag names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_helpers import (
    BIN,
    detached_sleeper,
    group_alive,
    pid_alive,
    project_copy,
    satchel_cli,
    wait_for,
)
from tests.server.server_helpers import call

import satchel
from satchel.errors import InvalidValueError
from satchel.runner.control import (
    control_path,
    process_identity,
    read_control,
    verified_runner_pid,
    write_control,
)
from satchel.server.app import create_app
from satchel.server.context import ServerContext
from satchel.server.serve import BackgroundServer
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus, RunTag
from satchel.tracking.liveness import hostname
from satchel.tracking.store.sqlite import SqliteStore


def _db() -> Path:
    return Path.cwd() / "satchel" / "satchel.db"


def _client() -> Client:
    return Client(f"sqlite:///{_db()}")


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process of this user: what a forged tag would point a cancel at."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _forged_run(pid: int) -> str:
    """A RUNNING run whose tags claim ``pid`` runs it (written straight into the store, as an
    older Satchel or a hostile writer could have)."""
    store = SqliteStore(str(_db()), str(Path.cwd() / "satchel" / "artifacts"))
    try:
        tags = [RunTag("satchel.runner.pid", str(pid)), RunTag("satchel.host", hostname())]
        run = store.create_run("0", "someone", 1, tags, None)
        return run.info.run_id
    finally:
        store.close()


def test_cancel_never_signals_the_process_a_forged_tag_names(
    bystander: subprocess.Popen[bytes],
) -> None:
    run_id = _forged_run(bystander.pid)
    out = satchel_cli("runs", "cancel", run_id)
    assert out.returncode == 0, out.stderr
    assert bystander.poll() is None and pid_alive(bystander.pid)
    assert _client().get_run(run_id).info.status is RunStatus.KILLED  # recorded, nothing hit


def test_wait_does_not_fail_a_run_whose_forged_pid_is_dead() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_id = _forged_run(dead.pid)
    waited = satchel_cli("runs", "wait", run_id, "--timeout", "0.5")
    assert waited.returncode == 124, waited.stderr
    assert _client().get_run(run_id).info.status is RunStatus.RUNNING


def test_a_control_file_naming_another_process_start_is_not_obeyed(
    bystander: subprocess.Popen[bytes],
) -> None:
    """A recycled pid: the file names the pid, but the process under it started later."""
    run_id = _forged_run(bystander.pid)
    path = write_control(run_id, bystander.pid)
    data = json.loads(path.read_text())
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert verified_runner_pid(run_id) == bystander.pid
    data["started"] = "another boot:12345"
    path.write_text(json.dumps(data))
    assert verified_runner_pid(run_id) is None
    assert satchel_cli("runs", "cancel", run_id).returncode == 0
    assert bystander.poll() is None
    assert not path.exists()  # the stale record is cleaned up with the cancellation


def test_a_control_file_others_can_write_is_ignored(bystander: subprocess.Popen[bytes]) -> None:
    path = write_control("a" * 32, bystander.pid)
    assert read_control("a" * 32) is not None
    path.chmod(0o666)
    assert read_control("a" * 32) is None
    path.unlink()
    link_target = write_control("b" * 32, bystander.pid)
    path.symlink_to(link_target)  # a symlink is never followed
    assert read_control("a" * 32) is None


def test_process_identity_tells_processes_apart(bystander: subprocess.Popen[bytes]) -> None:
    mine = process_identity(os.getpid())
    theirs = process_identity(bystander.pid)
    assert mine and theirs and mine != theirs
    assert process_identity(os.getpid()) == mine  # stable for one process
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert process_identity(dead.pid) is None


@pytest.mark.slow
def test_cancel_of_a_detached_run_stops_its_verified_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    run_id, pidfile = detached_sleeper(tmp_path)
    assert wait_for(pidfile.exists, 30)
    control = read_control(run_id)
    assert control is not None and control_path(run_id).stat().st_mode & 0o777 == 0o600
    runner = control.pid
    cmdline = Path(f"/proc/{runner}/cmdline").read_bytes().split(b"\0")
    assert b"satchel" in cmdline and b"--request-file" in cmdline
    assert "satchel.runner.pid" not in _client().get_run(run_id).data.tags
    pgid = int(pidfile.read_text().split()[2])
    cancelled = satchel_cli("runs", "cancel", run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert _client().get_run(run_id).info.status is RunStatus.KILLED
    assert wait_for(lambda: not group_alive(pgid), 15)
    assert wait_for(lambda: not pid_alive(runner), 15)
    assert wait_for(lambda: not control_path(run_id).exists(), 15)  # the runner removed it


@pytest.mark.slow
def test_a_synchronous_run_holds_its_control_file_only_while_it_runs(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    (run,) = _client().search_runs(["0"])
    assert run.info.status is RunStatus.FINISHED
    assert not control_path(run.info.run_id).exists()
    assert not any(key.startswith("satchel.runner.") for key in run.data.tags)


def test_clients_cannot_write_runner_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    from satchel.tracking import uri

    monkeypatch.setattr(uri, "_current", None)  # process state: restored after the test
    client = _client()
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidValueError, match=r"'satchel\.runner\.pid' is reserved"):
        client.set_tag(run_id, "satchel.runner.pid", "1")
    with pytest.raises(InvalidValueError, match="reserved"):
        client.log_batch(run_id, tags=[RunTag("satchel.runner.anything", "x")])
    with pytest.raises(InvalidValueError, match="reserved"):
        client.create_run("0", tags={"satchel.runner.pid": "1"})
    satchel.set_tracking_uri(f"sqlite:///{_db()}")
    with satchel.start_run(run_id=run_id), pytest.raises(InvalidValueError, match="reserved"):
        satchel.set_tag("satchel.runner.pid", "1")
    assert not any(k.startswith("satchel.runner.") for k in client.get_run(run_id).data.tags)
    assert len(client.search_runs(["0"])) == 1
    client.set_tag(run_id, "satchel.runnerish", "fine")  # only the reserved prefix is refused


def test_server_refuses_runner_tags(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), str(tmp_path / "artifacts"))
    context = ServerContext(store, str(tmp_path / "artifacts"), f"sqlite:///{tmp_path}/s.db")
    api = "/api/2.0/mlflow/runs"
    try:
        with BackgroundServer(create_app(context=context)) as url:
            status, body = call(url, "POST", f"{api}/create", {"experiment_id": "0"})
            run_id = body["run"]["info"]["run_id"]
            forged = {"key": "satchel.runner.pid", "value": "1"}
            for path, payload in (
                ("set-tag", {"run_id": run_id, **forged}),
                ("log-batch", {"run_id": run_id, "tags": [forged]}),
                ("create", {"experiment_id": "0", "tags": [forged]}),
            ):
                status, body = call(url, "POST", f"{api}/{path}", payload)
                assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), path
                assert "reserved" in body["message"]
            tags = store.get_run(run_id).data.tags
            assert "satchel.runner.pid" not in tags
            assert len(store.search_runs(["0"], None, max_results=10)) == 1
    finally:
        store.close()
