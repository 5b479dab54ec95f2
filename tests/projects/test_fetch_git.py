"""Fetching git repositories (file:// and a git daemon): versions, subdirs, cache, cleanup."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from tests.conftest import GitDaemon, commit_all, git, make_git_repo, write_files

from satchel import process
from satchel.errors import FetchError
from satchel.home import satchel_home
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
    # no mirror and no lock file left for `gc` to miss
    assert list((satchel_home() / "git").iterdir()) == []


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


# -- credentials in the URL: used for the fetch, recorded nowhere ---------------------------
TOKEN = "s3cr3t-T0KEN"


@pytest.fixture()
def auth_http_repo(tmp_path: Path):
    """A dumb-HTTP git server on 127.0.0.1 that answers only with basic auth bob:TOKEN."""
    import base64
    import http.server
    from functools import partial

    served = tmp_path / "http"
    work = tmp_path / "auth-work"
    make_git_repo(
        work,
        {"MLproject": "entry_points:\n  main:\n    command: python -c 'print(42)'\n"},
        "main",
    )
    _publish(work, served / "repo.git")
    git("update-server-info", cwd=served / "repo.git")
    expected = "Basic " + base64.b64encode(f"bob:{TOKEN}".encode()).decode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Handler, directory=str(served))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}/repo.git"
    server.shutdown()
    server.server_close()


def _files_containing(root: Path, needle: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and needle.encode() in path.read_bytes():
            found.append(path)
    return found


def test_url_credentials_are_used_for_the_fetch_only(
    auth_http_repo: str, tmp_path: Path, tmpdir_watch: Path
) -> None:
    from satchel.home import satchel_home

    with pytest.raises(FetchError) as refused:  # the server really wants the credentials
        fetch_project(f"http://{auth_http_repo}")
    assert TOKEN not in str(refused.value)
    url = f"http://bob:{TOKEN}@{auth_http_repo}"
    with fetch_project(url) as fetched:
        assert (fetched.root / "MLproject").is_file()
        source = fetched.source
        assert (source.uri, source.name) == (f"http://{auth_http_repo}",) * 2
        assert source.repo_url == f"http://{auth_http_repo}"
    with pytest.raises(FetchError) as err:
        fetch_project(url, "no-such-version")
    assert TOKEN not in str(err.value) and "bob" not in str(err.value)
    assert _files_containing(satchel_home(), TOKEN) == []  # the mirror's config included
    assert _files_containing(satchel_home(), "bob") == []


def test_satchel_run_records_no_credentials(auth_http_repo: str, tmp_path: Path) -> None:
    import json
    import sqlite3

    from conftest import run_cli

    url = f"http://bob:{TOKEN}@{auth_http_repo}"
    out = run_cli("run", url, "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    assert "42" in out.stdout and TOKEN not in out.stderr + out.stdout
    store = Path.cwd() / "satchel"
    with sqlite3.connect(store / "satchel.db") as db:
        tags = dict(db.execute("SELECT key, value FROM tags").fetchall())
    for key in ("mlflow.source.git.repoURL", "mlflow.source.name", "satchel.source.uri"):
        assert tags[key] == f"http://{auth_http_repo}", key
    (source_json,) = store.rglob("source.json")
    assert TOKEN not in json.dumps(json.loads(source_json.read_text()))
    assert _files_containing(store, TOKEN) == []
    assert _files_containing(Path(os.environ["SATCHEL_HOME"]), TOKEN) == []
    failed = run_cli("run", url, "-v", "nope", "--env-manager", "local")
    assert failed.returncode == 1 and TOKEN not in failed.stderr
