"""`satchel runs rerun`: a run comes back from its record alone — same `source/` artifacts
byte for byte, same env key, same metrics — for a dirty local git project whose working copy
is gone, and for a git URL at a tag whose repository is gone (the git cache serves it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from repro_helpers import pushed_repo, runs_by_start, store, tree
from runner_helpers import PROJECTS, git, satchel_cli

from satchel.tracking.client import Client
from satchel.tracking.entities import Run

pytestmark = pytest.mark.slow


def source_tree(client: Client, run: Run, dest: Path) -> dict[str, bytes]:
    return tree(Path(client.download_artifacts(run.info.run_id, "source", dest)))


def plain_run(tmp_path: Path, *, keep: bool) -> tuple[Client, Run]:
    """A finished run of the `repro` project outside git (only its snapshot holds the code);
    the project directory is deleted afterwards unless ``keep``."""
    project = tmp_path / "plain"
    shutil.copytree(PROJECTS / "repro", project)
    assert satchel_cli("run", str(project), "--env-manager", "local").returncode == 0
    client = store()
    (first,) = client.search_runs(["0"])
    if not keep:
        shutil.rmtree(project)
    return client, first


def make_dirty(work: Path) -> None:
    with (work / "train.py").open("a") as fh:  # a modified tracked file
        fh.write("print('uncommitted line')\n")
    (work / "notes.txt").write_text("a new untracked file\n")
    (work / "old.txt").unlink()  # a deleted tracked file
    (work / "blob.bin").write_bytes(b"\x00\xffchanged binary\x80\x81")  # a binary file
    (work / "staged.py").write_text("STAGED = 1\n")
    git(work, "add", "staged.py")


def assert_reproduced(client: Client, first: Run, again: Run, tmp_path: Path) -> None:
    assert again.info.status.value == "FINISHED"
    assert again.data.tags["satchel.rerun_of"] == first.info.run_id
    assert again.data.tags.get("satchel.env.key") == first.data.tags.get("satchel.env.key")
    assert again.data.metrics == first.data.metrics
    assert again.data.tags["satchel.run_key"] == first.data.tags["satchel.run_key"]
    original = source_tree(client, first, tmp_path / "a")
    assert original  # something was captured
    assert source_tree(client, again, tmp_path / "b") == original


def test_rerun_of_a_dirty_project_after_its_working_copy_is_deleted(tmp_path: Path) -> None:
    work, _origin = pushed_repo(tmp_path)
    make_dirty(work)
    first_out = satchel_cli("run", str(work), "-P", "scale=2")
    assert first_out.returncode == 0, first_out.stderr
    client = store()
    (first,) = client.search_runs(["0"])
    assert first.data.tags["satchel.source.dirty"] == "true"
    assert "satchel.env.key" in first.data.tags
    shutil.rmtree(work)

    out = satchel_cli("runs", "rerun", first.info.run_id[:10])
    assert out.returncode == 0, out.stderr
    assert "uncommitted line" in out.stdout
    _first, again = runs_by_start(client)
    assert again.data.params == first.data.params | {"data": again.data.params["data"]}
    assert_reproduced(client, first, again, tmp_path)
    patch = (tmp_path / "b" / "source" / "diff.patch").read_bytes()
    assert b"GIT binary patch" in patch and b"deleted file" in patch

    shown = satchel_cli("runs", "show", again.info.run_id)
    assert f"rerun_of      {first.info.run_id}" in shown.stdout


def test_rerun_of_a_git_url_at_a_tag_comes_from_the_git_cache(tmp_path: Path) -> None:
    work, origin = pushed_repo(tmp_path)
    git(work, "tag", "v1")
    git(work, "push", "-q", "origin", "v1")
    with (work / "train.py").open("a") as fh:  # moves on after the tag: the rerun must not
        fh.write("print('after the tag')\n")
    git(work, "commit", "-q", "-am", "later")
    git(work, "push", "-q", "origin", "main")
    first_out = satchel_cli("run", origin.as_uri(), "--version", "v1")
    assert first_out.returncode == 0, first_out.stderr
    client = store()
    (first,) = client.search_runs(["0"])
    shutil.rmtree(origin)  # the repository is gone: only the cached mirror is left
    shutil.rmtree(work)

    out = satchel_cli("runs", "rerun", first.info.run_id)
    assert out.returncode == 0, out.stderr
    assert "after the tag" not in out.stdout
    _first, again = runs_by_start(client)
    commit = "mlflow.source.git.commit"
    assert again.data.tags[commit] == first.data.tags[commit]
    assert_reproduced(client, first, again, tmp_path)


def test_rerun_dry_run_shows_what_would_run_and_creates_nothing(tmp_path: Path) -> None:
    work, _origin = pushed_repo(tmp_path)
    assert satchel_cli("run", str(work), "--env-manager", "local").returncode == 0
    client = store()
    (first,) = client.search_runs(["0"])

    out = satchel_cli("runs", "rerun", first.info.run_id, "--dry-run", "-P", "scale=3")
    assert out.returncode == 0, out.stderr
    assert f"rerun of:     {first.info.run_id}" in out.stdout
    assert "scale = 3.0" in out.stdout and "--scale 3.0" in out.stdout
    assert len(client.search_runs(["0"])) == 1


def test_rerun_says_in_one_line_when_the_code_cannot_be_restored(tmp_path: Path) -> None:
    client, first = plain_run(tmp_path, keep=False)
    snapshot = Path(first.info.artifact_uri.removeprefix("file://")) / "source" / "snapshot"
    shutil.rmtree(snapshot)

    out = satchel_cli("runs", "rerun", first.info.run_id)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"Error: cannot restore the code of run {first.info.run_id}: no git and no snapshot"
    ]
    assert len(client.search_runs(["0"])) == 1  # no run was created


def test_rerun_of_a_project_without_git_runs_its_snapshot(tmp_path: Path) -> None:
    client, first = plain_run(tmp_path, keep=False)

    out = satchel_cli("runs", "rerun", first.info.run_id)
    assert out.returncode == 0, out.stderr
    _first, again = runs_by_start(client)
    assert_reproduced(client, first, again, tmp_path)


def test_rerun_detached_and_backend_passed_through(tmp_path: Path) -> None:
    client, first = plain_run(tmp_path, keep=True)

    bad = satchel_cli("runs", "rerun", first.info.run_id, "--backend", "nowhere")
    assert bad.returncode == 2 and "unsupported backend 'nowhere'" in bad.stderr
    assert len(client.search_runs(["0"])) == 1  # the backend is checked before any run

    out = satchel_cli("runs", "rerun", first.info.run_id, "--detach", "-P", "label=bg")
    assert out.returncode == 0, out.stderr
    new_id = out.stdout.strip().splitlines()[-1]
    assert satchel_cli("runs", "wait", new_id, "--timeout", "60").returncode == 0
    again = client.get_run(new_id)
    assert again.data.tags["satchel.rerun_of"] == first.info.run_id
    assert again.data.params["label"] == "bg"
    assert again.data.metrics == first.data.metrics
