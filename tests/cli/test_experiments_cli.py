"""``satchel experiments ...`` as a user runs it: a real subprocess on a real store."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
from tests.conftest import kv, run_cli

import satchel


def assert_user_error(proc: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_create_list_rename_delete_restore() -> None:
    created = run_cli("experiments", "create", "wine", "--tag", "team=A")
    assert created.returncode == 0, created.stderr
    exp_id = created.stdout.strip().rsplit(" ", 1)[-1]
    listed = json.loads(run_cli("experiments", "list", "-o", "json").stdout)
    assert {e["name"] for e in listed} == {"Default", "wine"}
    wine = next(e for e in listed if e["name"] == "wine")
    assert wine["experiment_id"] == exp_id and kv(wine["tags"]) == {"team": "A"}
    assert sorted(wine) == sorted(
        [
            "artifact_location",
            "creation_time",
            "experiment_id",
            "last_update_time",
            "lifecycle_stage",
            "name",
            "tags",
        ]
    )

    assert run_cli("experiments", "rename", "wine", "wine-v2").returncode == 0
    assert run_cli("experiments", "delete", exp_id).returncode == 0
    table = run_cli("experiments", "list").stdout
    assert "wine-v2" not in table and "Default" in table
    deleted = run_cli("experiments", "list", "--deleted", "-o", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(deleted)))
    assert [(r["id"], r["name"], r["stage"]) for r in rows] == [(exp_id, "wine-v2", "deleted")]
    assert run_cli("experiments", "restore", "wine-v2").returncode == 0
    assert satchel.Client().get_experiment(exp_id).lifecycle_stage == "active"


def test_list_table_is_aligned() -> None:
    run_cli("experiments", "create", "a-much-longer-experiment-name")
    lines = run_cli("experiments", "list").stdout.splitlines()
    header, rule = lines[0], lines[1]
    assert header.split()[:3] == ["id", "name", "stage"]
    # every row starts its second column where the header's does
    name_col = header.index("name")
    assert all(line[name_col - 2 : name_col] == "  " for line in lines[2:])
    assert set(rule.replace(" ", "")) == {"-"}


def test_tracking_uri_option_and_env(tmp_path) -> None:
    db = tmp_path / "other.db"
    assert (
        run_cli("experiments", "create", "x", "--tracking-uri", f"sqlite:///{db}").returncode == 0
    )
    via_env = run_cli("experiments", "list", "-o", "json", env={"SATCHEL_TRACKING_URI": str(db)})
    assert "x" in {e["name"] for e in json.loads(via_env.stdout)}
    assert not (tmp_path / "work" / "satchel").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("experiments", "create", "Default"),  # taken name
        ("experiments", "rename", "424242", "new"),  # unknown id
        ("experiments", "delete", "no-such-experiment"),
        ("experiments", "restore", "no-such-experiment"),
        ("experiments", "create", ""),  # empty name
        ("experiments", "create", "y", "--tag", "../up=1"),  # invalid key
        ("experiments", "list", "--tracking-uri", "ftp://host/db"),
    ],
)
def test_bad_input_is_one_line_exit_1(args: tuple[str, ...]) -> None:
    line = assert_user_error(run_cli(*args))
    assert line.startswith("Error: ")


def test_usage_errors_exit_2() -> None:
    proc = run_cli("experiments", "create", "x", "--tag", "no-equals-sign")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert run_cli("experiments", "list", "--output", "xml").returncode == 2


def test_every_command_has_help() -> None:
    for sub in ("", "create", "list", "rename", "delete", "restore"):
        proc = run_cli("experiments", *([sub] if sub else []), "--help")
        assert proc.returncode == 0
        assert "PLACEHOLDER" not in proc.stdout and len(proc.stdout.splitlines()) > 3
        if sub:
            assert "--tracking-uri" in proc.stdout


@pytest.mark.parametrize(
    "args", [["--experiment-name", "wine"], ["-n", "wine"], ["wine", "-n", "wine"]]
)
def test_create_takes_mlflows_experiment_name_option(args: list[str]) -> None:
    created = run_cli("experiments", "create", *args)
    assert created.returncode == 0, created.stderr
    listed = json.loads(run_cli("experiments", "search", "-o", "json").stdout)
    assert {e["name"] for e in listed} == {"Default", "wine"}


def test_create_needs_exactly_one_name() -> None:
    assert "no experiment name given" in assert_user_error(run_cli("experiments", "create"), code=2)
    assert "two names given" in assert_user_error(
        run_cli("experiments", "create", "a", "-n", "b"), code=2
    )
    assert "experiments list" in run_cli("experiments", "search", "--help").stdout
