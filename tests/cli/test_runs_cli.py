"""``satchel runs list|show|compare|delete|restore|reap`` on a real store, in a subprocess."""

from __future__ import annotations

import csv
import io
import json

import pytest
from tests.cli.test_experiments_cli import assert_user_error
from tests.conftest import kv, run_cli

import satchel
from satchel.tracking.entities import RunStatus


@pytest.fixture()
def three_runs() -> list[str]:
    """Three finished runs in experiment 'wine' with alpha/rmse; returns their ids."""
    client = satchel.Client()
    exp_id = client.create_experiment("wine")
    ids = []
    for i, (alpha, rmse) in enumerate([("0.1", 0.3), ("0.3", 0.45), ("0.5", 0.9)]):
        run_id = client.create_run(exp_id, run_name=f"net-{i}", start_time=1000 + i).info.run_id
        client.log_param(run_id, "alpha", alpha)
        client.log_param(run_id, "l1", "0.5")
        client.log_metric(run_id, "rmse", rmse)
        client.set_tag(run_id, "team", "vision" if i else "nlp")
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids


def test_list_filters_and_orders(three_runs: list[str]) -> None:
    proc = run_cli(
        "runs",
        "list",
        "--experiment-name",
        "wine",
        "--filter",
        "metrics.rmse < 0.5 and params.alpha != '0.5'",
        "--order-by",
        "metrics.rmse DESC",
        "-o",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert [r["info"]["run_id"] for r in listed] == [three_runs[1], three_runs[0]]
    first = listed[0]
    assert sorted(first) == ["data", "info", "inputs"]
    assert kv(first["data"]["params"]) == {"alpha": "0.3", "l1": "0.5"}
    assert kv(first["data"]["metrics"]) == {"rmse": 0.45}
    assert first["info"]["status"] == "FINISHED"


def test_list_table_csv_and_max_results(three_runs: list[str]) -> None:
    table = run_cli("runs", "list", "--experiment-name", "wine").stdout.splitlines()
    assert table[0].split()[:3] == ["run_id", "name", "status"]
    assert table[0].split()[-1] == "rmse"  # the metric's key heads its column
    assert "wine" in table[3].split()  # the experiment's name, not its id
    assert sum(run_id in "\n".join(table) for run_id in three_runs) == 3
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_cli(
                    "runs",
                    "list",
                    "--experiment-name",
                    "wine",
                    "-o",
                    "csv",
                    "--order-by",
                    "attributes.run_name",
                    "--max-results",
                    "2",
                ).stdout
            )
        )
    )
    assert [r["name"] for r in rows] == ["net-0", "net-1"]
    assert rows[0]["metrics.rmse"] == "0.3"


def test_list_defaults_to_all_active_experiments(three_runs: list[str]) -> None:
    satchel.Client().create_run("0", run_name="in-default")
    listed = json.loads(run_cli("runs", "list", "-o", "json").stdout)
    assert len(listed) == 4
    by_env = json.loads(
        run_cli("runs", "list", "-o", "json", env={"SATCHEL_EXPERIMENT_NAME": "wine"}).stdout
    )
    assert len(by_env) == 3


def test_long_values_are_truncated_in_tables() -> None:
    client = satchel.Client()
    client.create_run("0", run_name="n" * 100)
    line = run_cli("runs", "list").stdout.splitlines()[2]
    assert "n" * 100 not in line and "…" in line


def test_show_prints_everything(three_runs: list[str]) -> None:
    client = satchel.Client()
    client.log_text(three_runs[0], "x", "notes/a.txt")
    text = run_cli("runs", "show", three_runs[0])
    assert text.returncode == 0, text.stderr
    for expected in (
        three_runs[0],
        "net-0",
        "FINISHED",
        "Params:",
        "alpha",
        "0.1",
        "Metrics (latest):",
        "rmse",
        "Tags:",
        "team",
        "nlp",
        "Artifacts:",
        "notes/a.txt",
        "wine",
    ):
        assert expected in text.stdout, expected
    shown = json.loads(run_cli("runs", "show", three_runs[0], "-o", "json").stdout)
    assert shown["artifacts"] == [{"file_size": 1, "is_dir": False, "path": "notes/a.txt"}]
    assert kv(shown["data"]["metrics"]) == {"rmse": 0.3} and shown["info"]["run_name"] == "net-0"
    rows = list(
        csv.DictReader(io.StringIO(run_cli("runs", "show", three_runs[0], "-o", "csv").stdout))
    )
    assert {"section": "params", "key": "alpha", "value": "0.1"} in rows


def test_compare_marks_differences(three_runs: list[str]) -> None:
    proc = run_cli("runs", "compare", *three_runs[:2])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    alpha = next(line for line in lines if " alpha " in line)
    l1 = next(line for line in lines if " l1 " in line)
    assert alpha.startswith("*") and not l1.startswith("*")
    assert "0.1" in alpha and "0.3" in alpha
    data = json.loads(run_cli("runs", "compare", *three_runs, "-o", "json").stdout)
    assert [r["run_id"] for r in data["runs"]] == three_runs
    rows = {(r["kind"], r["key"]): r for r in data["rows"]}
    assert rows[("param", "alpha")]["differs"] is True
    assert rows[("param", "l1")]["differs"] is False
    assert rows[("metric", "rmse")]["values"] == [0.3, 0.45, 0.9]
    only = run_cli("runs", "compare", *three_runs, "--only-diff", "-o", "csv").stdout
    assert " l1" not in only and "alpha" in only


def test_delete_and_restore(three_runs: list[str]) -> None:
    assert run_cli("runs", "delete", three_runs[0]).returncode == 0
    active = json.loads(run_cli("runs", "list", "-o", "json").stdout)
    assert three_runs[0] not in {r["info"]["run_id"] for r in active}
    deleted = json.loads(run_cli("runs", "list", "--deleted", "-o", "json").stdout)
    assert [r["info"]["run_id"] for r in deleted] == [three_runs[0]]
    assert len(json.loads(run_cli("runs", "list", "--all", "-o", "json").stdout)) == 3
    assert run_cli("runs", "restore", three_runs[0]).returncode == 0
    assert len(json.loads(run_cli("runs", "list", "-o", "json").stdout)) == 3


def test_reap_ends_runs_of_dead_processes() -> None:
    client = satchel.Client()
    run_id = client.create_run("0").info.run_id
    client.heartbeat(run_id, owner="some-other-host:12345")
    client.heartbeat(run_id)
    assert run_cli("runs", "reap").stdout.strip() == "No dead runs."
    proc = run_cli("runs", "reap", "--stale-after", "0")
    assert run_id in proc.stdout and "FAILED" in proc.stdout
    assert client.get_run(run_id).info.status == RunStatus.FAILED


@pytest.mark.parametrize(
    "args, mentions",
    [
        (("runs", "list", "--filter", "metrics.rmse <"), "rmse"),
        (("runs", "list", "--filter", "metrics.rmse < 'abc' and"), ""),
        (("runs", "list", "--filter", "foo.bar = 1"), "foo"),
        (("runs", "list", "--order-by", "metrics.rmse SIDEWAYS"), ""),
        (("runs", "show", "0" * 32), "0" * 32),
        (("runs", "show", "not-a-run"), "not-a-run"),
        (("runs", "delete", "f" * 32), ""),
        (("runs", "list", "--experiment-id", "98765"), "98765"),
        (("runs", "list", "--experiment-name", "nope"), "nope"),
        (("runs", "compare", "0" * 32, "1" * 32), ""),
    ],
)
def test_bad_input_is_one_line_exit_1(args: tuple[str, ...], mentions: str) -> None:
    satchel.Client().search_experiments()  # the store exists: only the input is bad
    line = assert_user_error(run_cli(*args))
    assert line.startswith("Error: ") and mentions in line


def test_usage_errors() -> None:
    assert run_cli("runs", "compare", "a" * 32).returncode == 2
    assert run_cli("runs", "list", "--all", "--deleted").returncode == 2
    assert run_cli("runs", "list", "--max-results", "0").returncode == 2


def test_every_command_has_help() -> None:
    for sub in ("list", "show", "compare", "delete", "restore", "reap"):
        proc = run_cli("runs", sub, "--help")
        assert proc.returncode == 0 and "--tracking-uri" in proc.stdout, sub
        assert "PLACEHOLDER" not in proc.stdout


def test_describe_is_show_under_mlflows_name(three_runs: list[str]) -> None:
    described = run_cli("runs", "describe", three_runs[0], "-o", "json")
    assert described.returncode == 0, described.stderr
    assert described.stdout == run_cli("runs", "show", three_runs[0], "-o", "json").stdout


def test_list_shows_the_params_that_vary(three_runs: list[str]) -> None:
    table = run_cli("runs", "list", "--experiment-name", "wine").stdout.splitlines()
    header = table[0].split()
    assert "alpha" in header and "l1" not in header  # alpha varies, l1 is 0.5 everywhere
    assert header.index("alpha") < header.index("rmse")
    rows = list(
        csv.DictReader(
            io.StringIO(run_cli("runs", "list", "--experiment-name", "wine", "-o", "csv").stdout)
        )
    )
    assert sorted(r["params.alpha"] for r in rows) == ["0.1", "0.3", "0.5"]
    assert "params.l1" not in rows[0]


def test_list_columns_chooses_what_is_shown(three_runs: list[str]) -> None:
    out = run_cli(
        "runs", "list", "--experiment-name", "wine", "--columns", "name,params.l1,tags.team",
        "-o", "csv",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == ["name", "params.l1", "tags.team"]
    assert {(r["name"], r["params.l1"], r["tags.team"]) for r in rows} == {
        ("net-0", "0.5", "nlp"), ("net-1", "0.5", "vision"), ("net-2", "0.5", "vision"),
    }  # fmt: skip
    line = assert_user_error(run_cli("runs", "list", "--columns", "nmae"), code=2)
    assert "unknown column 'nmae'" in line and "did you mean 'name'?" in line


def test_list_and_compare_share_one_number_format() -> None:
    client = satchel.Client()
    ids = []
    for value in (0.123456789012, 0.3, 0.30000000000000004):
        run_id = client.create_run("0").info.run_id
        client.log_metric(run_id, "m", value)
        ids.append(run_id)
    listed = run_cli("runs", "list", "--columns", "run_id,metrics.m").stdout
    compared = run_cli("runs", "compare", *ids).stdout
    for text in (listed, compared):  # full values where two would otherwise look alike
        assert "0.30000000000000004" in text and "0.123456789012" in text
    pair = run_cli("runs", "compare", ids[0], ids[1]).stdout
    listed_pair = run_cli("runs", "list", "--filter", "metrics.m < 0.2").stdout
    assert "0.123457" in pair and "0.123457" in listed_pair  # the readable form in both
    assert "0.123456789012" not in pair + listed_pair


def test_secret_params_are_masked_unless_asked(three_runs: list[str]) -> None:
    client = satchel.Client()
    client.log_param(three_runs[0], "db_password", "hunter2")
    for args in (
        ("runs", "show", three_runs[0]),
        ("runs", "show", three_runs[0], "-o", "json"),
        ("runs", "show", three_runs[0], "-o", "csv"),
        ("runs", "list", "--columns", "params.db_password", "-o", "csv"),
        ("runs", "compare", *three_runs[:2]),
    ):
        out = run_cli(*args)
        assert out.returncode == 0, out.stderr
        assert "hunter2" not in out.stdout and "***" in out.stdout, args
    revealed = run_cli("runs", "show", three_runs[0], "--show-secrets", "-o", "json")
    params = json.loads(revealed.stdout)["data"]["params"]
    assert {"key": "db_password", "value": "hunter2"} in params
