"""Tracking URI resolution: explicit > SATCHEL_TRACKING_URI > ./satchel/satchel.db."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli
from satchel.errors import InvalidValueError, StoreUnavailableError
from satchel.tracking.uri import artifact_root_for, resolve_tracking_uri


def test_default_is_satchel_dir_in_cwd() -> None:
    expected = "sqlite:///" + os.path.join(os.getcwd(), "satchel", "satchel.db")
    assert resolve_tracking_uri() == expected
    assert resolve_tracking_uri().startswith("sqlite:////")
    assert artifact_root_for(None) == os.path.join(os.getcwd(), "satchel", "artifacts")


def test_env_var_then_explicit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SATCHEL_TRACKING_URI", f"sqlite:///{tmp_path}/env.db")
    assert resolve_tracking_uri() == f"sqlite:///{tmp_path}/env.db"
    assert resolve_tracking_uri(f"sqlite:///{tmp_path}/x.db") == f"sqlite:///{tmp_path}/x.db"


def test_relative_and_plain_paths_become_absolute(tmp_path: Path) -> None:
    cwd = os.getcwd()
    assert resolve_tracking_uri("sqlite:///runs.db") == f"sqlite:///{cwd}/runs.db"
    assert resolve_tracking_uri("sqlite:///sub/runs.db") == f"sqlite:///{cwd}/sub/runs.db"
    assert resolve_tracking_uri("runs.db") == f"sqlite:///{cwd}/runs.db"
    assert resolve_tracking_uri(str(tmp_path)) == f"sqlite:///{tmp_path}/satchel.db"
    assert resolve_tracking_uri(f"file://{tmp_path}") == f"sqlite:///{tmp_path}/satchel.db"
    assert artifact_root_for("sqlite:///sub/runs.db") == f"{cwd}/sub/artifacts"


def test_unknown_scheme_names_supported_ones() -> None:
    with pytest.raises(InvalidValueError) as err:
        resolve_tracking_uri("ftp://host/db")
    assert "sqlite:///" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("uri", ["postgresql://u:p@h:5432/db", "postgres://u:p@h:5432/db"])
def test_postgres_uris_resolve_to_one_spelling(uri: str) -> None:
    assert resolve_tracking_uri(uri) == "postgresql://u:p@h:5432/db"


@pytest.mark.parametrize(
    "uri, resolved",
    [
        ("http://localhost:5000", "http://localhost:5000"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("HTTPS://x.invalid/prefix/", "https://x.invalid/prefix"),
    ],
)
def test_server_uris_kept_without_trailing_slash(uri: str, resolved: str) -> None:
    assert resolve_tracking_uri(uri) == resolved


def test_server_uri_without_host() -> None:
    with pytest.raises(InvalidValueError, match="no host"):
        resolve_tracking_uri("http:///x")


def test_sqlite_uri_without_path() -> None:
    with pytest.raises(InvalidValueError, match="no database path"):
        resolve_tracking_uri("sqlite://")


def test_plain_path_rule_db_file_or_store_directory(tmp_path: Path) -> None:
    cwd = os.getcwd()
    # no .db suffix and nothing there: a store directory, not a file named like the path
    assert resolve_tracking_uri("mystore") == f"sqlite:///{cwd}/mystore/satchel.db"
    assert artifact_root_for("mystore") == f"{cwd}/mystore/artifacts"
    assert resolve_tracking_uri("sub/runs.db") == f"sqlite:///{cwd}/sub/runs.db"
    existing = tmp_path / "legacy-store"
    sqlite3.connect(existing).execute("CREATE TABLE t (x)")  # an existing SQLite file, any name
    assert resolve_tracking_uri(str(existing)) == f"sqlite:///{existing}"
    # sqlite:/// URIs are unchanged: the path is the database file
    assert resolve_tracking_uri("sqlite:///mystore") == f"sqlite:///{cwd}/mystore"


def test_get_store_without_create_does_not_create(tmp_path: Path) -> None:
    from satchel.tracking.store import get_store

    target = tmp_path / "nothing-here"
    with pytest.raises(StoreUnavailableError) as err:
        get_store(str(target), create=False)
    assert str(err.value) == (
        f"no tracking store at {target}/satchel.db (run something first, or check --tracking-uri)"
    )
    assert not target.exists()
    get_store(str(target)).search_experiments()  # writers create it
    assert (target / "satchel.db").is_file()
    assert get_store(str(target), create=False) is get_store(str(target))


def test_an_existing_file_that_is_not_a_store_is_left_alone(tmp_path: Path) -> None:
    """`runs list --tracking-uri empty.txt` must not turn the user's file into a store."""
    empty = Path.cwd() / "empty.txt"
    empty.write_bytes(b"")
    notes = Path.cwd() / "notes"
    notes.write_text("my notes\n")
    for path, before in ((empty, b""), (notes, b"my notes\n")):
        out = run_cli("runs", "list", "--tracking-uri", path.name)
        assert out.returncode == 1, out.stderr
        (line,) = out.stderr.strip().splitlines()
        assert "is an existing file that is not a Satchel store" in line
        assert path.read_bytes() == before
