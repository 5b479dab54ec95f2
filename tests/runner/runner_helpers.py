"""Shared helpers of the runner tests: real projects, real git repos, the real CLI."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from conftest import RESOURCES, run_cli

PROJECTS = RESOURCES / "projects"
BIN = str(Path(sys.executable).parent)


def project_copy(tmp_path: Path, name: str = "basic") -> Path:
    dest = tmp_path / f"proj-{name}"
    shutil.copytree(PROJECTS / name, dest)
    return dest


def cli_env(**extra: str) -> dict[str, str]:
    """The test interpreter's bin first on PATH, like an activated venv: `python` is ours."""
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.update(extra)
    return env


def satchel_cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    env = cli_env(**kw.pop("env", {}))
    return run_cli(*args, env=env, timeout=timeout, **kw)


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def git_repo(tmp_path: Path, name: str = "basic", subdir: str = "") -> Path:
    """A git repo holding the project (under ``subdir`` if given), one commit on main."""
    repo = tmp_path / f"repo-{name}"
    target = repo / subdir if subdir else repo
    shutil.copytree(PROJECTS / name, target)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def db_runs(db: Path) -> list[dict]:
    """Rows of the runs table, read with plain sqlite3 (not through the code under test)."""
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM runs")]
    finally:
        con.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def group_alive(pgid: int) -> bool:
    """Any process (not a zombie awaiting its reaper) left in process group ``pgid``?"""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def detached_sleeper(tmp_path: Path, *extra: str) -> tuple[str, Path]:
    """`satchel run --detach` of the basic project's ``sleep`` entry point; (run id, the
    pidfile it writes once the project runs)."""
    proj = project_copy(tmp_path)
    pidfile = tmp_path / "pids"
    out = satchel_cli(
        "run", str(proj), "-e", "sleep", "-P", f"pidfile={pidfile}", *extra, "--detach",
        "--env-manager", "local",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip(), pidfile


class WaitingHandle:
    """A launcher handle that says when ``watch()`` is blocked in its ``wait()``: a test
    signals its own process only then (a Stop raised anywhere else in pytest's main thread
    is a KeyboardInterrupt that ends the session)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.waiting = threading.Event()

    def wait(self) -> int:
        self.waiting.set()
        return self.handle.wait()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def signal_main_thread(sig: int) -> None:
    """Signal this process as a Ctrl-C would reach the runner: to its main thread. A signal
    sent to the process may be taken by any thread not blocking it (some library's), and
    then the main thread sleeping in waitpid is never interrupted."""
    ident = threading.main_thread().ident
    assert ident is not None
    signal.pthread_kill(ident, sig)
