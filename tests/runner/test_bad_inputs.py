"""Every bad input — broken MLproject files and parameters (the PROJECTS corpus in
tests/resources/bad_specs/cases.yaml) and bad URIs / versions / options of our own — gives
one line on stderr, a non-zero exit, NO run record (no database even) and no temp dir left."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from runner_helpers import RESOURCES, cli_env, db_runs, git_repo, project_copy, satchel_cli

from conftest import on_small_tmpfs, without_root_file_access

pytestmark = pytest.mark.slow

BAD_SPECS = RESOURCES / "bad_specs"
CASES = (
    yaml.safe_load((BAD_SPECS / "cases.yaml").read_text())
    if (BAD_SPECS / "cases.yaml").exists()
    else {}
)


def _check_refused(out, tmpdir: Path, fragment: str | None = None) -> None:
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode != 0, out.stdout + out.stderr
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr and "Internal error" not in out.stderr
    if fragment:
        assert fragment in lines[0], lines[0]
    db = Path.cwd() / "satchel" / "satchel.db"
    assert not db.exists() or db_runs(db) == []
    assert not (Path.cwd() / "satchel").exists()
    assert os.listdir(tmpdir) == [], "a temporary directory was left behind"


@pytest.fixture()
def tmpdir_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    fresh = tmp_path / "tmp"
    fresh.mkdir()
    return fresh, {"TMPDIR": str(fresh)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_corpus(case: str, tmp_path: Path, tmpdir_env) -> None:
    spec = CASES[case]
    proj = tmp_path / "outside-git" / case  # a copy outside any git repository
    shutil.copytree(BAD_SPECS / case, proj)
    uri = str(proj) + (f"#{spec['subdir']}" if spec.get("subdir") else "")
    args = ["run", uri, "-e", spec.get("entry_point", "main"), "--env-manager", "local"]
    for param in spec.get("params") or []:
        args += ["-P", param]
    if spec.get("version"):
        args += ["-v", spec["version"]]
    tmpdir, env = tmpdir_env
    _check_refused(satchel_cli(*args, env=env), tmpdir, spec.get("error"))


def _own_cases(tmp_path: Path) -> dict[str, list[str]]:
    proj = project_copy(tmp_path)
    repo = git_repo(tmp_path)
    zipped = tmp_path / "broken.zip"
    zipped.write_bytes(b"this is not a zip archive")
    return {
        "missing_path": ["run", str(tmp_path / "nope")],
        "typo_git_url": ["run", "https://127.0.0.1:9/org/repo.git"],
        "file_url_missing": ["run", f"file://{tmp_path}/nope"],
        "unknown_branch": ["run", f"file://{repo}", "-v", "no-such-branch"],
        "unknown_commit": ["run", f"file://{repo}", "-v", "0" * 40],
        "version_on_plain_dir": ["run", str(proj), "-v", "main"],
        "missing_subdir": ["run", f"file://{repo}#fake", "-v", "main"],
        "dotdot_subdir": [
            "run",
            f"{proj}#../..",
        ],
        "subdir_of_local_dir": ["run", f"{proj}#nothing-here"],
        "file_not_dir": ["run", str(proj / "log_it.py")],
        "broken_zip": ["run", str(zipped)],
        "version_dash": ["run", f"file://{repo}", "-v", "--upload-pack=evil"],
        "unknown_entry_point": ["run", str(proj), "-e", "nope"],
        "missing_required_param": ["run", str(proj), "-e", "sleep"],
        "bad_float": ["run", str(proj), "-P", "alpha=abc"],
        "bad_int": ["run", str(proj), "-P", "steps=1.5"],
        "repeated_param": ["run", str(proj), "-P", "alpha=1", "-P", "alpha=2"],
        "param_without_equals": ["run", str(proj), "-P", "alpha"],
        "bad_extra_key": ["run", str(proj), "-P", "a b=1"],
        "unknown_env_manager": ["run", str(proj), "--env-manager", "conda"],
        "docker_manager_for_python": ["run", str(proj), "--env-manager", "docker"],
        "unknown_backend": ["run", str(proj), "-b", "kubernetes"],
        "both_experiments": ["run", str(proj), "--experiment-name", "a", "--experiment-id", "1"],
        "missing_script": ["run", str(proj), "-e", "nothere.py"],
    }


OWN = [
    "missing_path",
    "typo_git_url",
    "file_url_missing",
    "unknown_branch",
    "unknown_commit",
    "version_on_plain_dir",
    "missing_subdir",
    "dotdot_subdir",
    "subdir_of_local_dir",
    "file_not_dir",
    "broken_zip",
    "version_dash",
    "unknown_entry_point",
    "missing_required_param",
    "bad_float",
    "bad_int",
    "repeated_param",
    "param_without_equals",
    "bad_extra_key",
    "unknown_env_manager",
    "docker_manager_for_python",
    "unknown_backend",
    "both_experiments",
    "missing_script",
]


@pytest.mark.parametrize("case", OWN)
def test_bad_uri_version_or_option(case: str, tmp_path: Path, tmpdir_env) -> None:
    args = _own_cases(tmp_path)[case]
    if "--env-manager" not in args:
        args = [*args, "--env-manager", "local"] if case != "docker_manager_for_python" else args
    tmpdir, env = tmpdir_env
    _check_refused(satchel_cli(*args, env=env, timeout=60), tmpdir)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) + len(OWN) >= 30


# -- the machine: unreadable project files, an unwritable or full SATCHEL_HOME ------------
# The tests run as root, whom `chmod` does not stop: the CLI runs without the capabilities
# that let root ignore file modes (conftest.without_root_file_access), and a full disk is a
# real tmpfs of a few KiB in a private mount namespace (conftest.on_small_tmpfs).
def _satchel(prefix_argv, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = prefix_argv([sys.executable, "-m", "satchel", "run", *args, "--env-manager", "local"])
    return subprocess.run(
        argv, env={**os.environ, **cli_env(), **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("what", ["file", "directory", "tracked file", "project directory"])
def test_unreadable_project_files_are_refused_before_any_run(
    what: str, tmp_path: Path, tmpdir_env
) -> None:
    proj = git_repo(tmp_path) if what == "tracked file" else project_copy(tmp_path)
    target = {"directory": proj / "data", "project directory": proj}.get(what, proj / "log_it.py")
    if what == "directory":
        target.mkdir()
        (target / "inside.txt").write_text("secret")
    target.chmod(0)
    tmpdir, env = tmpdir_env
    out = _satchel(without_root_file_access, str(proj), env=env)
    _check_refused(out, tmpdir, f"cannot read {target.name}")


def test_an_unwritable_satchel_home_is_refused_before_any_run(tmp_path: Path, tmpdir_env) -> None:
    home = tmp_path / "read-only-home"
    home.mkdir(mode=0o555)
    tmpdir, env = tmpdir_env
    out = _satchel(
        without_root_file_access,
        str(project_copy(tmp_path)),
        env={**env, "SATCHEL_HOME": str(home)},
    )
    _check_refused(out, tmpdir, f"SATCHEL_HOME {home} is not writable: Permission denied")


def test_a_full_satchel_home_is_refused_before_any_run(tmp_path: Path, tmpdir_env) -> None:
    home = tmp_path / "full-home"
    home.mkdir()

    def filled(argv: list[str]) -> list[str]:
        fill = ["sh", "-c", 'cat /dev/zero > "$0/fill" 2>/dev/null; exec "$@"', str(home)]
        return on_small_tmpfs(home, "64k", [*fill, *argv])

    tmpdir, env = tmpdir_env
    out = _satchel(filled, str(project_copy(tmp_path)), env={**env, "SATCHEL_HOME": str(home)})
    _check_refused(out, tmpdir, "is not writable: No space left on device")
