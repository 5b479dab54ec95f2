"""An environment a running run uses cannot be deleted: `satchel envs gc` / `rm` skip it while
the runner holds its lease, and delete it once the runner is gone — however it went."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from envs_helpers import make_project

from conftest import run_cli
from satchel.envs.cache import EnvCache
from satchel.envs.uv import UvManager
from satchel.home import satchel_home

pytestmark = pytest.mark.slow
SIX = {"python_env.yaml": "dependencies: [six==1.16.0]\n"}

# A runner stand-in: prepares the env (taking the lease, as `satchel run` does) and keeps the
# PreparedEnv alive until killed.
_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from satchel.envs.uv import UvManager
    from satchel.projects.spec import EnvDecl, Project
    root = Path(sys.argv[1])
    project = Project(root=root, name="p", spec_path=None,
                      env=EnvDecl("python_env", root / "python_env.yaml"))
    prepared = UvManager().prepare(project, report=lambda _: None)
    print(prepared.key, flush=True)
    time.sleep(300)
""")


def _wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _holder(project_root: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(project_root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    key = proc.stdout.readline().strip()
    assert len(key) == 24, key
    return proc, key


def test_gc_and_rm_skip_an_env_another_process_holds(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", SIX, kind="python_env", env_file="python_env.yaml")
    UvManager().prepare(project, report=lambda _: None).release()  # built; nobody holds it
    proc, key = _holder(project.root)
    try:
        gc = run_cli("envs", "gc", "--older-than", "0d")
        assert gc.returncode == 0, gc.stderr
        assert f"skipped {key}: in use by a running run" in gc.stdout
        assert (satchel_home() / "envs" / key / "bin" / "python").exists()
        rm = run_cli("envs", "rm", key[:10])
        assert rm.returncode == 1, (rm.stdout, rm.stderr)
        assert "in use by a running run" in rm.stderr and rm.stderr.count("\n") == 1
        assert [e.key for e in EnvCache().entries()] == [key]
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup code runs: the kernel drops the lease
        proc.wait()
    rm = run_cli("envs", "rm", key[:10])
    assert rm.returncode == 0 and f"removed {key}" in rm.stdout, rm.stderr
    assert EnvCache().entries() == []
    # rm took its lock files with it: nothing named after the env is left behind
    assert not list((satchel_home() / "envs" / ".locks").glob(f"*{key}*"))


def test_a_lease_in_this_process_is_released_with_the_prepared_env(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", SIX, kind="python_env", env_file="python_env.yaml")
    prepared = UvManager().prepare(project, report=lambda _: None)
    assert prepared.lease is not None and prepared.lease.held
    skipped = EnvCache().gc(0)
    assert skipped.skipped == ((prepared.key, "in use by a running run"),)
    key = prepared.key
    del prepared  # the runner is done with it: the file closes, the lease ends
    report = EnvCache().gc(0)
    assert report.skipped == () and (f"env {key}", report.freed[0][1]) in report.freed
    assert EnvCache().entries() == []


def test_prepare_rebuilds_an_env_gc_removed_before_the_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease is taken after the warm check; a gc in between must be noticed, not trusted."""
    project = make_project(tmp_path / "p", SIX, kind="python_env", env_file="python_env.yaml")
    first = UvManager().prepare(project, report=lambda _: None)
    first.release()
    cache = EnvCache()
    real_lease = cache.lease
    removed: list[str] = []

    def gc_sneaks_in(key: str):
        if not removed:  # as if a gc ran between the readiness check and the lease
            removed.append(key)
            cache.remove(key)
        return real_lease(key)

    # the real cache, real builds: only the moment of the (real) removal is staged
    monkeypatch.setattr("satchel.envs.venv_manager.EnvCache", lambda: cache)
    monkeypatch.setattr(cache, "lease", gc_sneaks_in)
    again = UvManager().prepare(project, report=lambda _: None)
    assert removed == [first.key] and again.key == first.key and not again.cache_hit
    assert again.lease is not None and again.lease.held
    assert (again.root / "bin" / "python").exists()


SLEEPY_MAIN = """\
import os, sys, time
from pathlib import Path
Path(os.environ["LEASE_TEST_DIR"], "started").write_text(sys.prefix)
deadline = time.monotonic() + 60
while not Path(os.environ["LEASE_TEST_DIR"], "go").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
import six
print("SIX-OK", six.__version__)
"""
MLPROJECT = (
    "name: sleepy\npython_env: python_env.yaml\n"
    "entry_points:\n  main:\n    command: python main.py\n"
)


def test_gc_during_a_detached_run_leaves_its_env_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's report: `satchel run . --detach`, then `envs gc --older-than 0d` removed the
    env and the run died with ModuleNotFoundError."""
    root = tmp_path / "proj"
    make_project(
        root,
        {
            "MLproject": MLPROJECT,
            "main.py": SLEEPY_MAIN,
            "python_env.yaml": "dependencies: [six==1.16.0]\n",
        },
    )
    signals = tmp_path / "signals"
    signals.mkdir()
    monkeypatch.setenv("LEASE_TEST_DIR", str(signals))  # reaches the project via the runner
    out = run_cli("run", str(root), "--detach")
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    _wait_until(lambda: (signals / "started").exists(), timeout=120)
    key = Path((signals / "started").read_text()).name

    gc = run_cli("envs", "gc", "--older-than", "0d")
    assert f"skipped {key}: in use by a running run" in gc.stdout, gc.stdout
    (signals / "go").touch()
    waited = run_cli("runs", "wait", run_id, "--timeout", "120")
    assert waited.returncode == 0, (waited.stdout, waited.stderr)

    # the runner has exited: its lease is gone, so the env can go too
    gc = run_cli("envs", "gc", "--older-than", "0d")
    assert f"removed env {key}" in gc.stdout, gc.stdout
    assert EnvCache().entries() == []
