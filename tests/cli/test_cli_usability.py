"""CLI usability fixes: read-only commands never create a store, run-id prefixes, readable
tables, and clear errors where results used to be silently empty. Real store, real CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.cli.test_experiments_cli import assert_user_error
from tests.conftest import kv, run_cli

import satchel
from satchel.cli._output import readable, table
from satchel.tracking.store import clear_store_cache
from satchel.tracking.uri import sqlite_path

READ_ONLY = [
    ("runs", "list"),
    ("runs", "show", "a" * 32),
    ("runs", "compare", "a" * 32, "b" * 32),
    ("experiments", "list"),
    ("artifacts", "list", "a" * 32),
    ("artifacts", "download", "a" * 32),
]


@pytest.mark.parametrize("args", READ_ONLY)
def test_read_only_commands_never_create_a_store(args: tuple[str, ...], tmp_path: Path) -> None:
    store_dir = tmp_path / "fresh"
    line = assert_user_error(run_cli(*args, "--tracking-uri", str(store_dir)))
    assert line == (
        f"Error: no tracking store at {store_dir}/satchel.db "
        "(run something first, or check --tracking-uri)"
    )
    assert not store_dir.exists()


def test_plain_path_is_a_store_directory(tmp_path: Path) -> None:
    target = tmp_path / "team-store"
    assert run_cli("experiments", "create", "wine", "--tracking-uri", str(target)).returncode == 0
    assert (target / "satchel.db").is_file()
    listed = run_cli("experiments", "list", "--tracking-uri", str(target), "-o", "json")
    assert [e["name"] for e in json.loads(listed.stdout)] == ["Default", "wine"]
    db_file = tmp_path / "runs.db"
    assert run_cli("experiments", "create", "x", "--tracking-uri", str(db_file)).returncode == 0
    assert db_file.is_file()


@pytest.fixture()
def two_runs() -> list[str]:
    client = satchel.Client()
    exp_id = client.create_experiment("wine")
    ids = []
    for i, alpha in enumerate([0.1 + 0.2, 0.5]):
        run = client.create_run(exp_id, run_name=f"r{i}")
        client.log_param(run.info.run_id, "alpha", alpha)
        client.log_metric(run.info.run_id, "score", 0.8999999999999999 + i)
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    Path("a.txt").write_text("hello")
    client.log_artifact(ids[0], "a.txt", "docs")
    return ids


def test_unique_prefix_works_everywhere(two_runs: list[str], tmp_path: Path) -> None:
    first, second = two_runs
    shown = run_cli("runs", "show", first[:7], "-o", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["info"]["run_id"] == first
    compared = run_cli("runs", "compare", first[:8], second[:8], "-o", "json")
    assert [r["run_id"] for r in json.loads(compared.stdout)["runs"]] == [first, second]
    listed = run_cli("artifacts", "list", first[:6], "--path", "docs", "-o", "json")
    assert [a["path"] for a in json.loads(listed.stdout)] == ["docs/a.txt"]
    out = run_cli("artifacts", "download", first[:6], "--dst-path", str(tmp_path / "dl"))
    assert (
        out.returncode == 0
        and (tmp_path / "dl" / "artifacts" / "docs" / "a.txt").read_text() == "hello"
    )
    assert run_cli("runs", "delete", first[:6]).stdout.strip() == f"Deleted run {first}"
    assert run_cli("runs", "restore", first[:6]).stdout.strip() == f"Restored run {first}"
    # shorter than 6 characters is not treated as a prefix
    assert "not found" in assert_user_error(run_cli("runs", "show", first[:5]))


def test_ambiguous_prefix_lists_candidates(two_runs: list[str]) -> None:
    clear_store_cache()
    db = sqlite3.connect(sqlite_path(satchel.Client().tracking_uri))
    db.execute("PRAGMA foreign_keys=OFF")
    renamed = []
    for run_id in two_runs:  # give both runs the same first 6 characters
        new = "abcdef" + run_id[6:]
        for tbl in ("runs", "tags", "params", "metrics", "latest_metrics"):
            db.execute(f"UPDATE {tbl} SET run_uuid = ? WHERE run_uuid = ?", (new, run_id))
        renamed.append(new)
    db.commit()
    db.close()
    line = assert_user_error(run_cli("runs", "show", "abcdef"))
    assert "ambiguous" in line and all(r in line for r in renamed)
    assert "no run with id or id prefix 'fedcba'" in assert_user_error(
        run_cli("runs", "show", "fedcba")
    )


def test_delete_checks_every_id_first(two_runs: list[str]) -> None:
    line = assert_user_error(run_cli("runs", "delete", two_runs[0], "f" * 32))
    assert "f" * 32 in line
    assert satchel.Client().get_run(two_runs[0]).info.lifecycle_stage == "active"


def test_tables_are_readable_and_machine_outputs_exact(two_runs: list[str]) -> None:
    listed = run_cli("runs", "list", "--experiment-name", "wine").stdout
    assert "0.9" in listed.split() and "0.8999999999999999" not in listed
    assert "wine" in listed.split()
    csv_out = run_cli("runs", "list", "--experiment-name", "wine", "-o", "csv").stdout
    assert "metrics.score" in csv_out and "0.8999999999999999" in csv_out
    shown = run_cli("runs", "show", two_runs[0]).stdout
    assert "0.3" in shown.split() and "0.30000000000000004" not in shown
    shown_json = json.loads(run_cli("runs", "show", two_runs[0], "-o", "json").stdout)
    assert kv(shown_json["data"]["params"])["alpha"] == "0.30000000000000004"


def test_readable_numbers_and_headers_cut_in_the_middle() -> None:
    assert readable(0.8999999999999999) == "0.9" and readable(1234567.0) == "1234567.0"
    assert readable("0.30000000000000004") == "0.3" and readable("2.2.2") == "2.2.2"
    assert readable("12345678901234567") == "12345678901234567"  # ints (ids) stay whole
    headers = ["metrics.val_loss", "metrics.val_acc", "metrics.train_loss_per_epoch"]
    out = table([["0.1", "0.2", "0.3"]], headers, max_cell=10).splitlines()[0].split()
    assert out == ["val_loss", "val_acc", "trai…epoch"], out


def test_deleted_experiment_is_reported(two_runs: list[str]) -> None:
    assert run_cli("experiments", "delete", "wine").returncode == 0
    line = assert_user_error(run_cli("runs", "list", "--experiment-name", "wine"))
    assert "is deleted" in line and "satchel experiments restore wine" in line
    deleted = run_cli("runs", "list", "--experiment-name", "wine", "--deleted", "-o", "json")
    assert len(json.loads(deleted.stdout)) == 2


def test_bad_status_filter_and_missing_artifact(two_runs: list[str]) -> None:
    line = assert_user_error(run_cli("runs", "list", "--filter", "attributes.status = 'DONE'"))
    assert "FINISHED" in line and "KILLED" in line
    line = assert_user_error(run_cli("artifacts", "list", two_runs[0], "--path", "nope"))
    assert line == (
        f"Error: no artifact 'nope' in run {two_runs[0]} "
        f"(see what exists with `satchel artifacts list {two_runs[0]}`)"
    )
    assert "nope" in assert_user_error(
        run_cli("artifacts", "list", two_runs[0], "--path", "docs/nope")
    )
    empty = run_cli("artifacts", "list", two_runs[1])
    assert empty.returncode == 0 and "No artifacts." in empty.stderr


def test_experiments_list_is_ordered_by_id() -> None:
    client = satchel.Client()
    for name in ["b", "a", "c", "d", "e", "f", "g", "h", "i", "j", "k"]:
        client.create_experiment(name)
    listed = json.loads(run_cli("experiments", "list", "-o", "json").stdout)
    assert [int(e["experiment_id"]) for e in listed] == list(range(12))


@pytest.mark.parametrize(
    "args",
    [
        ("run", "PROJ", "--env-manager", "local", "-P", "s=a\udcffb"),
        ("experiments", "create", "ex\udcff"),
        ("runs", "show", "\udcff"),
    ],
)
def test_arguments_that_are_not_utf8_are_one_line_and_leave_no_run(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: p\nentry_points:\n  main:\n    command: 'python -c pass'\n"
    )
    out = run_cli(*(str(project) if a == "PROJ" else a for a in args))  # \udcff -> byte 0xff
    line = assert_user_error(out, code=2)
    assert "is not valid UTF-8" in line and "\\xff" in line
    assert not (Path.cwd() / "satchel").exists()  # no store, so no run of any status
