"""Stopping runs: Ctrl-C / SIGTERM → KILLED, exit 130, the whole process group gone; a
non-zero exit → FAILED with its code; a SIGKILLed runner → its project's group still dies
(the watcher) and the run does not stay RUNNING (the reaper)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from runner_helpers import (
    WaitingHandle,
    cli_env,
    db_runs,
    group_alive,
    pid_alive,
    project_copy,
    satchel_cli,
    signal_main_thread,
    wait_for,
)

from conftest import on_small_tmpfs
from satchel.envs.base import PreparedEnv
from satchel.runner import lifecycle
from satchel.runner.backends.base import LaunchSpec
from satchel.runner.backends.local import LocalLauncher
from satchel.runner.watch import start_without_stop_signals
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
    """Through the real CLI: one line at the first Ctrl-C, KILLED and exit 130 at the second.
    (That the second one forces the stop, rather than the grace period running out, is proven
    without a clock below, with a grace period of an hour.)"""
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
    line = proc.stderr.readline()
    assert line.strip() == (
        f"satchel: stopping run {run_id} (waiting up to 10s; press Ctrl-C again to force)"
    )
    assert proc.poll() is None  # said while the project (ignoring SIGTERM) still runs
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, rest
    assert "stopping run" not in rest  # said once
    _, run = _the_run()
    assert run.info.status is RunStatus.KILLED


def test_the_second_signal_forces_the_stop_within_the_grace_period(tmp_path: Path) -> None:
    """``watch`` with a grace period of an hour: the test ends only because the second
    signal forced the stop. Signals come when the run is ready for them, not after sleeps."""
    proj = tmp_path / "stubborn"
    proj.mkdir()
    (proj / "stubborn.py").write_text(_STUBBORN.replace("300", "40"))
    ready = tmp_path / "ready"
    project, _ = lifecycle.load_spec(proj, "stubborn.py")
    spec = LaunchSpec(
        run_id="r" * 32,
        command=f"{sys.executable} stubborn.py {ready}",
        workdir=proj,
        env={},
        project=project,
        prepared=PreparedEnv("local"),
        log_path=tmp_path / "console.log",
        tracking_uri="sqlite:////nowhere.db",
        client_path=tmp_path,
    )
    handle = WaitingHandle(LocalLauncher().launch(spec))
    said = threading.Event()
    alive_when_said: list[bool] = []

    def on_stop(_line: str) -> None:
        alive_when_said.append(handle.poll() is None)
        said.set()

    def signals() -> None:
        # each signal only once watch() is ready for it: a Stop raised anywhere else in
        # this (pytest's) main thread is a KeyboardInterrupt that would end the session
        assert wait_for(ready.exists, 120) and handle.waiting.wait(120)
        signal_main_thread(signal.SIGINT)
        assert said.wait(120)
        signal_main_thread(signal.SIGINT)

    with lifecycle.stop_signals():
        start_without_stop_signals(threading.Thread(target=signals, daemon=True))
        code, stopped = lifecycle.watch(handle, grace=3600, on_stop=on_stop)
    assert stopped and code == -signal.SIGKILL  # SIGTERM was ignored: the second one forced
    assert alive_when_said == [True]
    assert not handle.group_alive()


# -- output that cannot be kept, and children that escape the group ---------------------
_SPEW = """\
import sys
from pathlib import Path
for _ in range(64):  # 4 MiB: far more than the 256 KiB disk and the 64 KiB pipe
    sys.stdout.write("x" * 65535 + "\\n")
sys.stdout.flush()
Path(sys.argv[-1]).write_text("the project ran to its end")  # -P out=PATH: --out PATH
"""


def test_a_full_disk_mid_run_fails_the_run_with_the_reason(tmp_path: Path) -> None:
    """ENOSPC for real: the run's artifact directory is a 256 KiB tmpfs, mounted in a private
    mount namespace (``unshare -m``, the tests run as root) so nothing leaks out of the test.
    The store's database stays on the real disk, so the run's end can be read afterwards."""
    proj = tmp_path / "spew"
    proj.mkdir()
    (proj / "spew.py").write_text(_SPEW)
    done = tmp_path / "done"
    artifacts = Path.cwd() / "satchel" / "artifacts"
    artifacts.mkdir(parents=True)
    argv = [sys.executable, "-m", "satchel", "run", str(proj), "-e", "spew.py"]
    argv += ["-P", f"out={done}", "--env-manager", "local"]
    out = subprocess.run(
        on_small_tmpfs(artifacts, "256k", argv),
        env={**os.environ, **cli_env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    assert done.read_text() == "the project ran to its end"  # never blocked on its pipe
    assert len(out.stdout) > 4_000_000  # and its output still reached the console
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2, out.stderr  # "started", then one line saying how it ended
    assert "FAILED" in lines[1] and "No space left on device" in lines[1]
    _, run = _the_run()
    assert run.info.status is RunStatus.FAILED
    assert "No space left on device" in run.data.tags["satchel.failure.reason"]


def test_a_child_that_escapes_the_group_does_not_stretch_the_run(tmp_path: Path) -> None:
    """``setsid`` takes a child out of the run's process group (and session): the run ends
    when the entry point ends, and the escaped child is left alone (documented in
    satchel.runner.backends.local)."""
    proj = tmp_path / "escape"
    proj.mkdir()
    pidfile = tmp_path / "escaped.pid"
    (proj / "MLproject").write_text(
        "name: escape\nentry_points:\n  main:\n    parameters: {pidfile: string}\n"
        '    command: "setsid sleep 300 & echo $! > {pidfile}; echo started; exit 0"\n'
    )
    out = satchel_cli("run", str(proj), "-P", f"pidfile={pidfile}", "--env-manager", "local")
    escaped = int(pidfile.read_text())
    try:
        assert out.returncode == 0, out.stderr
        assert pid_alive(escaped)  # the run ended while the escaped child still runs
        assert os.getsid(escaped) != os.getsid(0)
        _, run = _the_run()
        assert run.info.status is RunStatus.FINISHED
    finally:
        os.kill(escaped, signal.SIGKILL)
