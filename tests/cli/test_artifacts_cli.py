"""``satchel artifacts list|download`` on a run with real files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_experiments_cli import assert_user_error
from tests.conftest import run_cli

import satchel


def _run_with_files() -> str:
    client = satchel.Client()
    run_id = client.create_run("0").info.run_id
    client.log_text(run_id, "hello", "notes/readme.txt")
    client.log_dict(run_id, {"k": 1}, "config.json")
    return run_id


def test_list_and_download() -> None:
    run_id = _run_with_files()
    listed = json.loads(run_cli("artifacts", "list", "--run-id", run_id, "-o", "json").stdout)
    assert listed == [
        {"file_size": len(json.dumps({"k": 1}, indent=2)), "is_dir": False, "path": "config.json"},
        {"file_size": None, "is_dir": True, "path": "notes"},
    ]
    table = run_cli("artifacts", "list", "--run-id", run_id).stdout
    assert "notes/" in table and "config.json" in table
    inner = json.loads(
        run_cli(
            "artifacts", "list", "--run-id", run_id, "--artifact-path", "notes", "-o", "json"
        ).stdout
    )
    assert [a["path"] for a in inner] == ["notes/readme.txt"]

    proc = run_cli("artifacts", "download", run_id, "--dst-path", "out")
    assert proc.returncode == 0, proc.stderr
    local = Path(proc.stdout.strip())
    assert (local / "notes" / "readme.txt").read_text() == "hello"
    one = run_cli(
        "artifacts",
        "download",
        run_id,
        "--path",
        "config.json",
        "--dst-path",
        "one",
    )
    assert json.loads(Path(one.stdout.strip()).read_text()) == {"k": 1}


def test_bad_input() -> None:
    run_id = _run_with_files()
    assert_user_error(run_cli("artifacts", "list", "--run-id", "f" * 32))
    assert_user_error(
        run_cli(
            "artifacts",
            "download",
            "--run-id",
            run_id,
            "--artifact-path",
            "missing.txt",
            "--dst-path",
            "x",
        )
    )
    assert_user_error(
        run_cli(
            "artifacts",
            "download",
            "--run-id",
            run_id,
            "--artifact-path",
            "../../etc",
            "--dst-path",
            "x",
        )
    )
    assert run_cli("artifacts", "list").returncode == 2  # a run id is required
    assert run_cli("artifacts", "list", run_id, "--run-id", "f" * 32).returncode == 2


def test_help() -> None:
    for sub in ("list", "download"):
        proc = run_cli("artifacts", sub, "--help")
        assert proc.returncode == 0 and "--tracking-uri" in proc.stdout
