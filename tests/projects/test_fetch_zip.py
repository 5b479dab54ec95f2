"""Zip archives: local, file:// and http; safe extraction (no zip-slip)."""

from __future__ import annotations

import http.server
import os
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from satchel.errors import FetchError
from satchel.projects.fetch import fetch_project


@pytest.fixture()
def systmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmp = tmp_path / "systmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


@pytest.fixture()
def http_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _zip(path: Path, entries: dict[str, bytes], exec_names: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            mode = 0o755 if name in exec_names else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, data)
    return path


PROJECT = {"proj/MLproject": b"name: z\n", "proj/sub/train.py": b"print(1)\n", "proj/run.sh": b"#"}


def test_local_and_file_uri_zip(tmp_path: Path, systmp: Path) -> None:
    archive = _zip(tmp_path / "p.zip", PROJECT, exec_names=("proj/run.sh",))
    for uri in (str(archive), f"file://{archive}"):
        fetched = fetch_project(uri)
        assert fetched.root.name == "proj"  # the single top-level dir is the root
        assert (fetched.root / "sub" / "train.py").read_bytes() == b"print(1)\n"
        assert (fetched.root / "run.sh").stat().st_mode & 0o111
        assert fetched.source.type == "zip" and fetched.source.name == uri
        fetched.cleanup()
    assert list(systmp.iterdir()) == []


def test_zip_without_single_top_dir_and_subdir(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "flat.zip", {"MLproject": b"", "a/b.py": b"x"})
    with fetch_project(str(archive)) as fetched:
        assert (fetched.root / "MLproject").exists()
    with fetch_project(f"{archive}#a") as fetched:
        assert (fetched.root / "b.py").read_bytes() == b"x"


def test_http_zip(http_dir: tuple[Path, str], systmp: Path) -> None:
    served, base = http_dir
    _zip(served / "p.zip", PROJECT)
    with fetch_project(f"{base}/p.zip#sub") as fetched:
        assert (fetched.root / "train.py").read_bytes() == b"print(1)\n"
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_project(f"{base}/missing.zip")
    assert list(systmp.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../evil.py", "proj/../../evil.py", "/abs/evil.py", "proj\\..\\evil.py", "C:/x.py"]
)
def test_zip_slip_entries_are_refused(tmp_path: Path, systmp: Path, name: str) -> None:
    archive = _zip(tmp_path / "slip.zip", {"proj/MLproject": b"", name: b"pwned"})
    with pytest.raises(FetchError, match="Unsafe entry"):
        fetch_project(str(archive))
    assert list(systmp.iterdir()) == []
    assert not (tmp_path / "evil.py").exists() and not Path("/abs/evil.py").exists()


def test_symlink_entries_are_refused(tmp_path: Path, systmp: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("proj/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(FetchError, match="a symlink"):
        fetch_project(str(archive))
    assert list(systmp.iterdir()) == []


def test_not_a_zip_and_missing_zip(tmp_path: Path, systmp: Path) -> None:
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(FetchError, match="is not a valid zip archive"):
        fetch_project(str(tmp_path / "fake.zip"))
    with pytest.raises(FetchError, match="No such zip archive"):
        fetch_project(str(tmp_path / "missing.zip"))
    with pytest.raises(FetchError, match="not supported for zip"):
        fetch_project(str(tmp_path / "fake.zip"), "v1")
    assert list(systmp.iterdir()) == []


# A zip whose single top-level folder (with a dot in its name) is the project.
DOTTED = {
    "sub.dir/MLproject": b"name: dotted\nentry_points:\n  main:\n    command: python hi.py\n",
    "sub.dir/hi.py": b"print('hi from sub.dir')\n",
    "sub.dir/inner/x.txt": b"x",
}


def test_subdir_naming_the_single_top_folder(tmp_path: Path, systmp: Path) -> None:
    archive = _zip(tmp_path / "p.zip", DOTTED)
    for uri in (
        str(archive),
        f"{archive}#sub.dir",
        f"{archive}#./sub.dir/",
        f"{archive}#sub.dir/.",
    ):
        with fetch_project(uri) as fetched:
            assert fetched.root.name == "sub.dir", uri
            assert (fetched.root / "hi.py").is_file()
    # still found inside the single top folder, as `p.zip` alone enters it
    with fetch_project(f"{archive}#inner") as fetched:
        assert (fetched.root / "x.txt").read_bytes() == b"x"
    with fetch_project(f"{archive}#sub.dir/inner") as fetched:
        assert (fetched.root / "x.txt").read_bytes() == b"x"
    with pytest.raises(FetchError, match="Could not find subdirectory 'nope'"):
        fetch_project(f"{archive}#nope")
    with pytest.raises(FetchError, match=r"'\.\.' is not allowed"):
        fetch_project(f"{archive}#sub.dir/../..")
    assert list(systmp.iterdir()) == []


def test_root_first_when_the_top_folder_has_a_same_named_child(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "p.zip", {"a/MLproject": b"", "a/a/b.py": b"inner"})
    with fetch_project(f"{archive}#a") as fetched:  # the archive root's a/, not a/a/
        assert (fetched.root / "MLproject").exists()
    with fetch_project(f"{archive}#a/a") as fetched:
        assert (fetched.root / "b.py").read_bytes() == b"inner"


def test_satchel_run_of_zip_subdir_naming_the_top_folder(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "p.zip", DOTTED)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    outs = [
        subprocess.run(
            [sys.executable, "-m", "satchel", "run", uri, "--env-manager", "local"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        for uri in (str(archive), f"{archive}#sub.dir")
    ]
    for out in outs:
        assert out.returncode == 0, out.stderr
        assert "hi from sub.dir" in out.stdout


@pytest.mark.parametrize(
    "entries",
    [
        {"proj/a": b"file", "proj/a/b": b"inside"},
        {"proj/a/b": b"inside", "proj/a": b"file"},
    ],
)
def test_colliding_entries_are_one_line_before_extraction(
    tmp_path: Path, systmp: Path, entries: dict[str, bytes]
) -> None:
    archive = _zip(tmp_path / "collide.zip", entries)
    with pytest.raises(FetchError, match=r"has both a file 'proj/a' and the entry 'proj/a/b'"):
        fetch_project(str(archive))
    assert list(systmp.iterdir()) == []


def test_cli_refuses_a_colliding_zip_with_one_line_and_no_run(tmp_path: Path) -> None:
    from conftest import run_cli

    archive = _zip(
        tmp_path / "collide.zip", {"proj/MLproject": b"", "proj/a": b"", "proj/a/b": b""}
    )
    out = run_cli("run", str(archive), "--env-manager", "local")
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert "has both a file" in out.stderr and not (Path.cwd() / "satchel").exists()


def test_a_zip_that_trickles_is_timed_out_as_a_whole(
    trickling_server, systmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real server on 127.0.0.1 sending one byte every 0.2 s: no single read times out,
    so only a deadline on the whole download (shortened here to 1 s) ends it."""
    from satchel.projects import fetch_zip

    monkeypatch.setattr(fetch_zip, "DOWNLOAD_SECONDS", 1.0)
    with pytest.raises(FetchError, match=r"not complete after 1s"):
        fetch_project(f"{trickling_server.url}/project.zip")
    assert trickling_server.requests.is_set()
    assert os.listdir(systmp) == []  # the partial download is gone
