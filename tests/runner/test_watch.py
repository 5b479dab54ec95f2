"""Stopping runs: Ctrl-C / SIGTERM → KILLED, exit 130, the whole process group gone; a
non-zero exit → FAILED with its code; a SIGKILLed runner → its project's group still dies
(the watcher) and the run does not stay RUNNING (the reaper)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runner_helpers import (
    cli_env,
    db_runs,
    group_alive,
    pid_alive,
    project_copy,
    satchel_cli,
    wait_for,
)

from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

pytestmark = pytest.mark.slow


def _start_sleeper(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    proj = project_copy(tmp_path)
    pidfile = tmp_path / "pids"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "satchel",
            "run",
            str(proj),
            "-e",
            "sleep",
            "-P",
            f"pidfile={pidfile}",
            "--env-manager",
            "local",
        ],
        env={**os.environ, **cli_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wait_for(pidfile.exists, 30), "the project never started"
    return proc, pidfile


def _the_run():
    client = Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")
    (run,) = client.search_runs(["0"])
    return client, run


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_signal_kills_group_and_marks_killed(tmp_path: Path, sig: int) -> None:
    proc, pidfile = _start_sleeper(tmp_path)
    leader, grandchild, pgid = map(int, pidfile.read_text().split())
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "KILLED" in err
    assert not pid_alive(leader) and not pid_alive(grandchild)
    assert wait_for(lambda: not group_alive(pgid), 10)
    _, run = _the_run()
    assert run.info.status is RunStatus.KILLED
    assert run.info.end_time is not None


def test_nonzero_exit_marks_failed_with_code(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "-e", "fail", "-P", "code=7", "--env-manager", "local")
    assert out.returncode == 1
    assert "failing on purpose" in out.stdout
    assert "FAILED" in out.stderr and "code 7" in out.stderr
    _, run = _the_run()
    assert run.info.status is RunStatus.FAILED
    assert run.data.tags["satchel.exit_code"] == "7"
    assert run.data.tags["satchel.failure.reason"] == "the command exited with code 7"


def test_sigkill_of_runner_kills_group_and_run_is_reaped(tmp_path: Path) -> None:
    proc, pidfile = _start_sleeper(tmp_path)
    leader, grandchild, pgid = map(int, pidfile.read_text().split())
    proc.kill()  # SIGKILL: the runner gets no chance to clean up
    proc.communicate(timeout=30)
    # the watcher notices the runner is gone and stops the project's whole group
    assert wait_for(lambda: not group_alive(pgid), 30)
    assert not pid_alive(leader) and not pid_alive(grandchild)
    db = Path.cwd() / "satchel" / "satchel.db"
    assert [r["status"] for r in db_runs(db)] == ["RUNNING"]  # nobody ended it (yet)
    out = satchel_cli("runs", "reap")
    assert out.returncode == 0, out.stderr
    _, run = _the_run()
    assert run.info.status is not RunStatus.RUNNING
    assert run.info.status is RunStatus.FAILED


_STUBBORN = """\
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[-1], "w").close()  # -P marker=PATH arrives as --marker PATH
time.sleep(300)
"""


def test_first_signal_says_it_is_stopping_and_second_forces(tmp_path: Path) -> None:
    proj = tmp_path / "stubborn"
    proj.mkdir()
    (proj / "stubborn.py").write_text(_STUBBORN)
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "satchel",
            "run",
            str(proj),
            "-e",
            "stubborn.py",
            "-P",
            f"marker={ready}",
            "--env-manager",
            "local",
        ],
        env={**os.environ, **cli_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wait_for(ready.exists, 30), "the project never started"
    assert proc.stderr is not None
    started = proc.stderr.readline()
    run_id = started.split()[2]
    assert started.startswith(f"satchel: run {run_id} started"), started
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    line = proc.stderr.readline()  # at once, not after the 10 s grace period
    assert time.monotonic() - t0 < 5
    assert line.strip() == (
        f"satchel: stopping run {run_id} (waiting up to 10s; press Ctrl-C again to force)"
    )
    assert proc.poll() is None  # the project ignores SIGTERM: still waiting
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=5)[1]
    assert time.monotonic() - t0 < 8  # the second signal forced it
    assert proc.returncode == 130, rest
    assert "stopping run" not in rest  # said once
    _, run = _the_run()
    assert run.info.status is RunStatus.KILLED
