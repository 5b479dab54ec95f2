"""Fetching git repositories (file:// and a git daemon): versions, subdirs, cache, cleanup."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import pytest
from tests.conftest import GitDaemon, commit_all, git, make_git_repo, write_files

from satchel import process
from satchel.errors import FetchError
from satchel.projects.fetch import fetch_project


@pytest.fixture()
def tmpdir_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Route temp dirs into a directory the test can check for leftovers."""
    tmp = tmp_path / "systmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def _publish(work: Path, bare: Path) -> None:
    git("clone", "--quiet", "--bare", str(work), str(bare))


@pytest.fixture()
def origin(tmp_path: Path) -> dict:
    """A bare repo with two commits on `trunk` (default), a branch `dev` and a tag `v1`."""
    work = tmp_path / "work-repo"
    first = make_git_repo(work, {"MLproject": "", "examples/v1.2/train.py": "one"}, "trunk")
    git("tag", "v1", cwd=work)
    write_files(work, {"examples/v1.2/train.py": "two"})
    second = commit_all(work)
    git("checkout", "--quiet", "-b", "dev", cwd=work)
    write_files(work, {"examples/v1.2/train.py": "dev"})
    dev = commit_all(work)
    git("checkout", "--quiet", "trunk", cwd=work)
    bare = tmp_path / "origin.git"
    _publish(work, bare)
    return {
        "work": work,
        "bare": bare,
        "url": f"file://{bare}",
        "first": first,
        "second": second,
        "dev": dev,
    }


def _train(fetched) -> str:
    return (fetched.root / "examples" / "v1.2" / "train.py").read_text()


def test_default_branch_is_checked_out(origin: dict) -> None:
    with fetch_project(origin["url"]) as fetched:
        assert _train(fetched) == "two"
        src = fetched.source
        assert (src.type, src.commit, src.branch) == ("git", origin["second"], "trunk")
        assert src.name == origin["url"] and src.repo_url == origin["url"]
        assert src.dirty is False


@pytest.mark.parametrize(
    ("version", "content", "branch"),
    [("dev", "dev", "dev"), ("v1", "one", None), ("first", "one", None), ("short", "one", None)],
)
def test_versions(origin: dict, version: str, content: str, branch: str | None) -> None:
    ref = {"first": origin["first"], "short": origin["first"][:8]}.get(version, version)
    with fetch_project(origin["url"], ref) as fetched:
        assert _train(fetched) == content
        assert fetched.source.branch == branch


def test_unknown_version(origin: dict, tmpdir_watch: Path) -> None:
    with pytest.raises(FetchError) as err:
        fetch_project(origin["url"], "nope")
    expected = f"Unable to checkout version 'nope' of git repository {origin['url']!r}"
    assert expected in str(err.value)
    assert list(tmpdir_watch.iterdir()) == []


def test_subdir_with_dots_and_missing_subdir(origin: dict, tmpdir_watch: Path) -> None:
    with fetch_project(origin["url"] + "#examples/v1.2") as fetched:
        assert (fetched.root / "train.py").read_text() == "two"
        assert fetched.source.subdir == "examples/v1.2"
        assert fetched.source.name == origin["url"] + "#examples/v1.2"
    with pytest.raises(FetchError, match="Could not find subdirectory 'fake'"):
        fetch_project(origin["url"] + "#fake")
    assert list(tmpdir_watch.iterdir()) == []


def test_symlink_escape_in_repo_is_refused(tmp_path: Path, tmpdir_watch: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "up").symlink_to("..")
    make_git_repo(work, {"MLproject": ""})
    _publish(work, tmp_path / "sym.git")
    with pytest.raises(FetchError, match="points outside the project"):
        fetch_project(f"file://{tmp_path / 'sym.git'}#up")
    assert list(tmpdir_watch.iterdir()) == []


def test_checkout_is_removed_by_cleanup(origin: dict, tmpdir_watch: Path) -> None:
    fetched = fetch_project(origin["url"])
    assert tmpdir_watch in fetched.root.parents
    fetched.cleanup()
    assert list(tmpdir_watch.iterdir()) == []


def test_unreachable_repository(tmpdir_watch: Path) -> None:
    for uri in (
        "git://127.0.0.1:1/nope.git",
        "ssh://git@127.0.0.1:1/nope.git",
        "https://127.0.0.1:1/org/nope.git",
    ):
        with pytest.raises(FetchError) as err:
            fetch_project(uri)
        message = str(err.value)
        assert "Could not reach git repository" in message
        assert "no local directory of that name" in message and "\n" not in message
    assert list(tmpdir_watch.iterdir()) == []


def test_git_daemon_clone(origin: dict, git_daemon: GitDaemon) -> None:
    _publish(origin["work"], git_daemon.base / "daemon-origin.git")
    url = git_daemon.url("daemon-origin.git")
    with fetch_project(url + "#examples/v1.2", "dev") as fetched:
        assert (fetched.root / "train.py").read_text() == "dev"
        assert fetched.source.commit == origin["dev"] and fetched.source.repo_url == url


def test_second_run_at_same_commit_needs_no_network(
    origin: dict, private_git_daemon: GitDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(origin["work"], private_git_daemon.base / "r.git")
    url = private_git_daemon.url("r.git")
    with fetch_project(url, origin["first"]) as fetched:
        assert _train(fetched) == "one"
    with fetch_project(url) as fetched:  # default branch, fetched while online
        assert _train(fetched) == "two"
    private_git_daemon.stop()
    calls: list[tuple[str, ...]] = []
    real_run = process.run

    def spy(argv, **kwargs):  # records, then runs the real command
        calls.append(tuple(str(a) for a in argv))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(process, "run", spy)
    started = time.perf_counter()
    with fetch_project(url, origin["first"]) as fetched:
        assert _train(fetched) == "one"
    assert time.perf_counter() - started < 2
    assert calls and not [c for c in calls if {"fetch", "ls-remote", "clone"} & set(c)]
    with fetch_project(url, "v1") as fetched:  # tags are cached too
        assert _train(fetched) == "one"
    with fetch_project(url) as fetched:  # offline: the default branch as last fetched
        assert _train(fetched) == "two" and fetched.source.branch == "trunk"


def test_moved_branch_is_fetched_again(origin: dict) -> None:
    with fetch_project(origin["url"], "trunk") as fetched:
        assert _train(fetched) == "two"
    write_files(origin["work"], {"examples/v1.2/train.py": "three"})
    third = commit_all(origin["work"])
    git("push", "--quiet", str(origin["bare"]), "trunk", cwd=origin["work"])
    with fetch_project(origin["url"], "trunk") as fetched:
        assert _train(fetched) == "three" and fetched.source.commit == third
    with fetch_project(origin["url"]) as fetched:
        assert fetched.source.commit == third


def test_concurrent_fetches_share_one_mirror(origin: dict) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with fetch_project(origin["url"], "dev") as fetched:
                results.append(_train(fetched))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == ["dev"] * 6


def test_submodules_are_checked_out(tmp_path: Path) -> None:
    sub_work = tmp_path / "sub-work"
    make_git_repo(sub_work, {"lib.py": "LIB = 1\n"})
    _publish(sub_work, tmp_path / "sub.git")
    sup = tmp_path / "super"
    make_git_repo(sup, {"MLproject": ""})
    git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "--quiet",
        f"file://{tmp_path / 'sub.git'}",
        "vendor/sub",
        cwd=sup,
    )
    commit_all(sup, "add submodule")
    _publish(sup, tmp_path / "super.git")
    with fetch_project(f"file://{tmp_path / 'super.git'}") as fetched:
        assert (fetched.root / "vendor" / "sub" / "lib.py").read_text() == "LIB = 1\n"


def test_bad_version_strings(origin: dict) -> None:
    for bad in ("", "  ", "--upload-pack=touch /tmp/x"):
        with pytest.raises(FetchError, match="Bad version"):
            fetch_project(origin["url"], bad)
