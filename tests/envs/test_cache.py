"""The two-level cache with real uv builds: hit, miss, refresh, sharing, locks, kills, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from envs_helpers import make_project, run_in

from satchel.envs.cache import EnvCache
from satchel.envs.uv import UvManager
from satchel.errors import EnvironmentBuildError
from satchel.home import satchel_home

pytestmark = pytest.mark.slow
SIX = {"python_env.yaml": "dependencies: [six==1.16.0]\n"}


def _six_project(tmp_path: Path, name: str = "p"):
    return make_project(tmp_path / name, SIX, kind="python_env", env_file="python_env.yaml")


def _env_dirs() -> list[Path]:
    root = satchel_home() / "envs"
    return [p for p in root.iterdir() if len(p.name) == 24] if root.is_dir() else []


def test_miss_then_hit_without_any_subprocess(tmp_path: Path, monkeypatch) -> None:
    project = _six_project(tmp_path)
    first = UvManager().prepare(project, report=lambda _: None)
    assert not first.cache_hit and first.extra_tags["satchel.env.cache"] == "miss"
    assert first.build_log is not None and first.build_log.is_file()
    assert first.lock_file is not None and "six==1.16.0" in first.lock_file.read_text()

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"warm start ran a subprocess: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    # how fast the warm path is: bench/, never a wall-clock threshold here
    second = UvManager().prepare(project, report=lambda _: None)
    monkeypatch.undo()
    assert second.cache_hit and second.key == first.key and second.build_log is None
    assert second.extra_tags["satchel.env.cache"] == "hit"
    assert run_in(second.python, "import six; print(six.__version__)") == "1.16.0"


def test_refresh_re_resolves_level_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _six_project(tmp_path)
    first = UvManager().prepare(project, report=lambda _: None)
    record = first.lock_file.with_suffix(".json")
    os.utime(record, (0, 0))
    monkeypatch.setenv("SATCHEL_PROGRESS", "1")  # progress lines are off a terminal
    lines: list[str] = []
    again = UvManager().prepare(project, refresh=True, report=lines.append)
    assert record.stat().st_mtime > 0, "the lock record was not rewritten"
    assert any("resolving" in line for line in lines)
    assert again.key == first.key and again.cache_hit  # same resolution → same env


def test_two_declarations_resolving_alike_share_one_env(tmp_path: Path) -> None:
    a = _six_project(tmp_path, "a")
    b = make_project(tmp_path / "b", {"requirements.txt": "six==1.16.0  # same thing\n"})
    env_a = UvManager().prepare(a, report=lambda _: None)
    env_b = UvManager().prepare(b, report=lambda _: None)
    assert env_a.key == env_b.key and env_b.cache_hit and env_b.build_log is None
    assert len(_env_dirs()) == 1
    assert set(EnvCache().entries()[0].projects) == {"demo"}


def test_level_two_rebuild_reuses_the_recorded_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _six_project(tmp_path)
    first = UvManager().prepare(project, report=lambda _: None)
    first.release()  # the lease would keep `remove` from deleting it
    EnvCache().remove(first.key)
    monkeypatch.setenv("SATCHEL_PROGRESS", "1")  # progress lines are off a terminal
    lines: list[str] = []
    again = UvManager().prepare(project, report=lines.append)
    assert again.key == first.key and not again.cache_hit
    assert not any("resolving" in line for line in lines), lines


_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from satchel.envs.uv import UvManager
    from satchel.projects.spec import EnvDecl, Project
    root = Path(sys.argv[1])
    project = Project(root=root, name="p", spec_path=None,
                      env=EnvDecl("python_env", root / "python_env.yaml"))
    manager = UvManager()
    if len(sys.argv) > 2:  # the SIGKILL test: stall after populating, before the rename
        real = manager._populate
        def stalled(tmp, *args):
            real(tmp, *args)
            Path(sys.argv[2]).write_text(str(tmp))
            time.sleep(60)
        manager._populate = stalled
    env = manager.prepare(project, report=lambda _: None)
    print(env.key, env.cache_hit)
""")


def _child(root: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_needing_the_same_new_env_build_it_once(tmp_path: Path) -> None:
    project = _six_project(tmp_path)
    procs = [_child(project.root) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    results = [out.split() for out, _ in outs]
    assert results[0][0] == results[1][0]
    assert sorted(r[1] for r in results) == ["False", "True"]  # one built, one waited and reused
    assert len(list((satchel_home() / "envs" / "logs").glob("*.log"))) == 1
    assert len(_env_dirs()) == 1


def test_sigkill_during_a_build_then_a_clean_rebuild(tmp_path: Path) -> None:
    project = _six_project(tmp_path)
    flag = tmp_path / "populated"
    proc = _child(project.root, str(flag))
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert flag.exists(), proc.stderr.read() if proc.poll() is not None else "never populated"
    tmp_dir = Path(flag.read_text())
    assert tmp_dir.is_dir() and ".tmp-" in tmp_dir.name
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _env_dirs() == []  # nothing usable left behind

    env = UvManager().prepare(project, report=lambda _: None)
    assert not env.cache_hit and not tmp_dir.exists()  # the stale temp dir was swept
    assert run_in(env.python, "import six; print(six.__version__)") == "1.16.0"


def test_failed_build_leaves_nothing_and_names_the_package(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {"python_env.yaml": "dependencies: [six, nonexistent-pkg-satchel-xyz]\n"},
        kind="python_env",
        env_file="python_env.yaml",
    )
    with pytest.raises(EnvironmentBuildError) as err:
        UvManager().prepare(project, report=lambda _: None)
    message = str(err.value)
    assert "nonexistent-pkg-satchel-xyz" in message and "\n" not in message
    assert err.value.log_path and "nonexistent" in Path(err.value.log_path).read_text()
    assert _env_dirs() == []
    assert list((satchel_home() / "envs" / "locks").glob("*.json")) == []


def test_unhealthy_env_is_rebuilt(tmp_path: Path) -> None:
    project = _six_project(tmp_path)
    first = UvManager().prepare(project, report=lambda _: None)
    (first.root / "bin" / "python").unlink()  # e.g. the base interpreter was uninstalled
    again = UvManager().prepare(project, report=lambda _: None)
    assert not again.cache_hit and again.key == first.key
    assert (
        json.loads((again.root / ".satchel-ready").read_text())["python"]
        == again.extra_tags["satchel.env.python"]
    )
    assert run_in(again.python, "import six; print('ok')") == "ok"


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line mentions ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if text.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


_STUCK_BUILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from satchel.envs.uv import UvManager
    from satchel.projects.spec import EnvDecl, Project
    root = Path(sys.argv[1])
    project = Project(root=root, name="stuck", spec_path=None,
                      env=EnvDecl("python_env", root / "python_env.yaml"))
    UvManager().prepare(project, report=lambda _: None)
""")


def test_a_sigkilled_build_leaves_no_uv_running_and_its_temp_dir_goes_next_start(
    tmp_path: Path, trickling_server
) -> None:
    """A real uv, installing from a real index on 127.0.0.1 that trickles and never
    finishes, is running inside the build's temp dir when its Satchel gets SIGKILL."""
    stuck = make_project(
        tmp_path / "stuck",
        {"python_env.yaml": "dependencies: [satchel-never-served==1.0]\n"},
        kind="python_env",
        env_file="python_env.yaml",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_INDEX")}
    env.pop("UV_FIND_LINKS", None)
    env["UV_DEFAULT_INDEX"] = f"{trickling_server.url}/simple"
    proc = subprocess.Popen([sys.executable, "-c", _STUCK_BUILD, str(stuck.root)], env=env)
    assert trickling_server.requests.wait(60), "uv never reached the index"
    envs = satchel_home() / "envs"
    assert list(envs.glob("*.tmp-*")), "the build had no temp dir yet"
    assert _processes_mentioning(str(envs)), "no uv running"
    proc.kill()
    proc.wait()
    # the group watcher stops uv (and what uv started) once its Satchel is gone
    assert wait_for_none(lambda: _processes_mentioning(str(envs)), 30)

    other = UvManager().prepare(_six_project(tmp_path), report=lambda _: None)
    assert not other.cache_hit
    assert list(envs.glob("*.tmp-*")) == []  # the dead build's temp dir went at this start


def wait_for_none(probe, timeout: float) -> bool:
    """Poll ``probe`` until it returns nothing (a condition wait, not a sleep-and-hope)."""
    deadline = time.monotonic() + timeout
    while probe() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not probe()
