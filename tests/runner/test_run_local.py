"""`satchel run` end to end, as a user runs it: the real CLI in a subprocess, a real SQLite
store, real git repositories over file:// (section 6 of the reference, local runs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner_helpers import db_runs, git, git_repo, project_copy, satchel_cli

from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

pytestmark = pytest.mark.slow


def _store(cwd: Path) -> Client:
    return Client(f"sqlite:///{cwd / 'satchel' / 'satchel.db'}")


def _only_run(cwd: Path):
    client = _store(cwd)
    runs = client.search_runs(["0"])
    assert len(runs) == 1, "exactly one run: the project resumed the runner's run"
    return client, runs[0]


def test_local_dir_run_records_everything(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli(
        "run",
        str(proj),
        "-P",
        "alpha=1e-05",
        "-P",
        "extra=x y",
        "--env-manager",
        "local",
        "--run-name",
        "first",
    )
    assert out.returncode == 0, out.stderr
    assert "hello world alpha=1e-05 extra=['--extra', 'x y']" in out.stdout
    assert "satchel: run " in out.stderr and " FINISHED in " in out.stderr
    client, run = _only_run(Path.cwd())
    assert run.info.status is RunStatus.FINISHED
    # typed, normalised, never shell-quoted; the script logged alpha too without conflict
    assert run.data.params == {"alpha": "1e-05", "name": "world", "steps": "3", "extra": "x y"}
    assert run.data.metrics["some_key"] == 3
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [
        1.0,
        0.5,
        1 / 3,
    ]
    tags = run.data.tags
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.source.name"] == str(proj.resolve())
    assert tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.project.backend"] == "local"
    assert tags["mlflow.project.env"] == "local"
    assert tags["mlflow.runName"] == "first"
    assert tags["mlflow.user"]
    assert tags["satchel.host"]
    assert tags["satchel.command"] == (
        "python log_it.py --alpha 1e-05 --name world --steps 3 --extra 'x y'"
    )
    # the console output is an artifact too
    log = Path(client.download_artifacts(run.info.run_id, "logs/console.log"))
    assert "hello world" in log.read_text()


def test_outputs_land_in_the_project_dir_and_run_in_place(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "-e", "env", "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.split("ENV ", 1)[1].splitlines()[0])
    assert info["cwd"] == str(proj.resolve())
    assert info["SATCHEL_TRACKING_URI"] == f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}"
    assert info["SATCHEL_ENV_MANAGER"] == "local" and info["SATCHEL_BACKEND"] == "local"
    assert info["PYTHONUNBUFFERED"] == "1"
    first = Path(info["PYTHONPATH"].split(":")[0])
    assert sorted(p.name for p in first.iterdir()) == ["satchel"]
    # the command leads its own session and process group, apart from ours
    assert info["pgid"] == info["sid"] != os.getpgid(0)
    _, run = _only_run(Path.cwd())
    assert info["SATCHEL_RUN_ID"] == run.info.run_id
    assert info["SATCHEL_EXPERIMENT_ID"] == "0"


def test_git_file_url_subdir_branch_and_commit(tmp_path: Path) -> None:
    repo = git_repo(tmp_path, subdir="sub.dir/proj")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "sub.dir" / "proj" / "marker.txt").write_text("on feature\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    feature_sha = git(repo, "rev-parse", "HEAD")
    main_sha = git(repo, "rev-parse", "main")
    git(repo, "checkout", "-q", "main")
    bare = tmp_path / "served.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    url = f"file://{bare}#sub.dir/proj"

    cases = (
        ("feature", feature_sha, "feature"),
        (main_sha, main_sha, None),
        (None, main_sha, "main"),
    )
    for version, sha, branch in cases:
        name = f"v-{(version or 'default')[:7]}"
        args = ["-v", version] if version else []
        out = satchel_cli("run", url, *args, "--env-manager", "local", "--experiment-name", name)
        assert out.returncode == 0, out.stderr
        client = _store(Path.cwd())
        exp = client.get_experiment_by_name(name)
        (run,) = client.search_runs([exp.experiment_id])
        assert run.info.status is RunStatus.FINISHED
        tags = run.data.tags
        assert tags["mlflow.source.git.commit"] == sha
        assert "file:" in tags["mlflow.source.name"]
        if branch:
            assert tags["mlflow.source.git.branch"] == branch
        assert tags["mlflow.source.git.repoURL"].endswith(str(bare))
        assert tags["mlflow.source.name"] == url
        assert run.data.metrics["some_key"] == 3
        assert (version == "feature") == ("marker" in out.stdout + _ls(client, run))
    # the user's working copy was never touched
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert not (repo / "sub.dir" / "proj" / "marker.txt").exists()


def _ls(client: Client, run) -> str:
    snapshot = Path(client.download_artifacts(run.info.run_id, "source/snapshot"))
    return " ".join(sorted(p.name for p in snapshot.iterdir()))


def test_local_repo_with_version_uses_a_separate_checkout(tmp_path: Path) -> None:
    repo = git_repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD")
    (repo / "log_it.py").write_text("raise SystemExit('the working copy must not run')\n")
    git(repo, "commit", "-q", "-am", "broken")
    out = satchel_cli("run", str(repo), "-v", first, "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    _, run = _only_run(Path.cwd())
    assert run.data.tags["mlflow.source.git.commit"] == first
    assert git(repo, "status", "--porcelain") == ""
    assert "working copy" in (repo / "log_it.py").read_text()


def test_script_entry_point_without_mlproject(tmp_path: Path) -> None:
    proj = project_copy(tmp_path, "noparams")
    out = satchel_cli("run", str(proj), "-e", "hello.py", "-P", "k=v", "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    assert "hello from a script ['--k', 'v']" in out.stdout
    _, run = _only_run(Path.cwd())
    assert run.data.metrics == {"m": 1.0}
    assert run.data.tags["mlflow.project.entryPoint"] == "hello.py"


def test_dry_run_creates_nothing(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    before = sorted(p.name for p in Path.cwd().iterdir())
    out = satchel_cli(
        "run",
        str(proj),
        "--dry-run",
        "-P",
        "alpha=2",
        "-P",
        "api_token=hunter2",
        "--env-manager",
        "local",
    )
    assert out.returncode == 0, out.stderr
    assert "entry point:  main" in out.stdout
    assert "environment:  local" in out.stdout
    assert "alpha = 2.0" in out.stdout
    assert "python log_it.py --alpha 2.0" in out.stdout
    assert "hunter2" not in out.stdout + out.stderr
    assert sorted(p.name for p in Path.cwd().iterdir()) == before
    assert db_runs(Path.cwd() / "satchel" / "satchel.db") == []


def test_experiment_by_name_then_id_and_env_var(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "--experiment-name", "team", "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    exp_id = _store(Path.cwd()).get_experiment_by_name("team").experiment_id
    out = satchel_cli(
        "run", str(proj), "--env-manager", "local", env={"SATCHEL_EXPERIMENT_ID": exp_id}
    )
    assert out.returncode == 0, out.stderr
    assert len(_store(Path.cwd()).search_runs([exp_id])) == 2
    both = satchel_cli("run", str(proj), "--experiment-name", "a", "--experiment-id", exp_id)
    assert both.returncode == 2 and "only one of" in both.stderr


def test_tracking_uri_option(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    db = tmp_path / "elsewhere.db"
    out = satchel_cli(
        "run", str(proj), "--env-manager", "local", "--tracking-uri", f"sqlite:///{db}"
    )
    assert out.returncode == 0, out.stderr
    assert not (Path.cwd() / "satchel").exists()
    assert [r["status"] for r in db_runs(db)] == ["FINISHED"]


def test_env_failure_after_the_run_exists_marks_it_failed(tmp_path: Path) -> None:
    proj = tmp_path / "badenv"
    proj.mkdir()
    (proj / "MLproject").write_text(
        "name: badenv\npython_env: python_env.yaml\n"
        "entry_points:\n  main:\n    command: \"python -c 'print(1)'\"\n"
    )
    (proj / "python_env.yaml").write_text("dependencies:\n  - satchel-no-such-package-xyz==1.0\n")
    out = satchel_cli("run", str(proj), "--env-manager", "uv", timeout=300)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert "FAILED" in last and "satchel-no-such-package-xyz" in last
    client, run = _only_run(Path.cwd())
    assert run.info.status is RunStatus.FAILED
    assert "satchel-no-such-package-xyz" in run.data.tags["satchel.failure.reason"]
    log = Path(client.download_artifacts(run.info.run_id, "env/build.log", tmp_path / "dl"))
    assert log.read_text().strip()


def test_a_misspelt_parameter_is_refused_unless_allowed(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    refused = satchel_cli("run", str(project), "-P", "alpah=0.3")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "-P alpah is not a parameter of entry point 'main' " in refused.stderr
    assert "did you mean 'alpha'?" in refused.stderr
    assert not (Path.cwd() / "satchel").exists()  # refused before any run exists
    done = satchel_cli("run", str(project), "-P", "alpah=0.3", "--allow-extra")
    assert done.returncode == 0, done.stderr
    assert "extra=['--alpah', '0.3']" in done.stdout  # passed on, as MLflow does
