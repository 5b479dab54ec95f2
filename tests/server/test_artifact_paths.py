"""A path-traversal corpus against every artifact route: nothing outside a run's artifact
directory is ever read, written, listed or deleted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server.server_helpers import call

from satchel.server.app import create_app
from satchel.server.context import ServerContext
from satchel.server.serve import BackgroundServer
from satchel.tracking.store.sqlite import SqliteStore

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
SECRET = b"top secret outside the artifact root"

# each entry is appended to "<exp>/<run>/artifacts/" or used on its own (as a whole path)
ESCAPES = [
    "../../../../secret.txt",
    "..%2F..%2F..%2F..%2Fsecret.txt",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "%252e%252e%252f%252e%252e%252fsecret.txt",
    "..%252F..%252Fsecret.txt",
    "..\\..\\..\\..\\secret.txt",
    "..%5c..%5c..%5csecret.txt",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "C:\\Windows\\win.ini",
    "a/../../../../../secret.txt",
    "ok.txt#/../../../../secret.txt",
    "ok.txt%23/../../../secret.txt",
    "ok.txt;/../../../../secret.txt",
    "link-out/secret.txt",
    "link-file",
    "sub/%00.txt",
]
WHOLE = ["../secret.txt", "..%2Fsecret.txt", "/etc/passwd", "0", "0/..", "%2e%2e"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    root = tmp_path / "root" / "artifacts"
    store = SqliteStore(str(tmp_path / "root" / "satchel.db"), str(root))
    run = store.create_run("0", "u", 1)
    run_dir = root / "0" / run.info.run_id / "artifacts"
    run_dir.mkdir(parents=True)
    (run_dir / "ok.txt").write_text("fine")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "root" / "secret.txt").write_bytes(SECRET)
    os.symlink(tmp_path, run_dir / "link-out")  # a symlink inside the root pointing out
    os.symlink(tmp_path / "secret.txt", run_dir / "link-file")
    context = ServerContext(store, str(root), "sqlite:///unused")
    with BackgroundServer(create_app(context=context)) as url:
        yield url, f"0/{run.info.run_id}/artifacts", tmp_path
    store.close()


def _snapshot(base: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(base.rglob("*")):
        if path.is_file() and not path.is_symlink() and "satchel.db" not in path.name:
            out[str(path.relative_to(base))] = path.read_bytes()
    return out


def _paths(prefix: str) -> list[str]:
    return [f"{prefix}/{e}" for e in ESCAPES] + WHOLE


def test_no_route_escapes_the_run_artifacts(served: tuple[str, str, Path]) -> None:
    url, prefix, base = served
    before = _snapshot(base)
    for path in _paths(prefix):
        for method in ("GET", "PUT", "DELETE"):
            status, body = call(url, method, f"{PROXY}/{path}", raw=b"pwned")
            assert status >= 400, (method, path, status)
            assert SECRET not in (body if isinstance(body, bytes) else str(body).encode())
        status, body = call(url, "GET", f"{PROXY}?path={path}")
        assert status >= 400 or not body, (path, body)
        run_id = prefix.split("/")[1]
        listed = f"/api/2.0/mlflow/artifacts/list?run_id={run_id}&path={path}"
        status, body = call(url, "GET", listed)
        assert (
            status >= 400
            or "files" not in body
            or all("secret" not in f["path"] for f in body["files"])
        ), (path, body)
    assert _snapshot(base) == before  # nothing written, nothing deleted, anywhere
    assert (base / "secret.txt").read_bytes() == SECRET


def test_legitimate_paths_still_work(served: tuple[str, str, Path]) -> None:
    url, prefix, _ = served
    assert call(url, "PUT", f"{PROXY}/{prefix}/dir/new.txt", raw=b"hello") == (200, b"")
    assert call(url, "GET", f"{PROXY}/{prefix}/dir/new.txt") == (200, b"hello")
    _status, listing = call(url, "GET", f"{PROXY}?path={prefix}/dir")
    assert listing == {"files": [{"path": "new.txt", "is_dir": False, "file_size": 5}]}
    assert call(url, "DELETE", f"{PROXY}/{prefix}/dir/new.txt")[0] == 200
    assert call(url, "GET", f"{PROXY}/{prefix}/dir/new.txt")[0] == 404
