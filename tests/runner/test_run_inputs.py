"""`path` params naming another run's artifact (runs:/RUN_ID/path, or the run's artifact URI):
fetched into the per-run cache before the command starts, logged as given, hashed by content
into the run key; a bad reference is one line and leaves no run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from repro_helpers import runs_by_start, store
from runner_helpers import PROJECTS, satchel_cli

from satchel.errors import ParameterError
from satchel.runner.inputs import parse_run_artifact

pytestmark = pytest.mark.slow
LOCAL = {"SATCHEL_ENV_MANAGER": "local"}


def producer(tmp_path: Path) -> str:
    """A finished run whose artifacts hold data/input.txt (its source snapshot)."""
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    assert satchel_cli("run", str(project), env=LOCAL).returncode == 0
    return store().search_runs(["0"])[0].info.run_id


def test_a_runs_uri_path_param_is_fetched_and_logged_as_given(tmp_path: Path) -> None:
    source = producer(tmp_path)
    uri = f"runs:/{source}/source/snapshot/data/input.txt"
    out = satchel_cli("run", str(tmp_path / "proj"), "-P", f"data={uri}", env=LOCAL)
    assert out.returncode == 0, out.stderr
    consumer = runs_by_start(store())[-1]
    assert consumer.data.params["data"] == uri
    cached = Path(
        os.environ["SATCHEL_HOME"], "run-inputs", source, "source/snapshot/data/input.txt"
    )
    assert cached.read_text() == "one\ntwo\nthree\n"
    assert f"--data {cached}" in consumer.data.tags["satchel.command"]
    # the same bytes as the project's own data/input.txt: the same run key as the producer
    assert (
        consumer.data.tags["satchel.run_key"]
        == store().get_run(source).data.tags["satchel.run_key"]
    )


def test_the_artifact_uri_form_names_the_same_artifact() -> None:
    run_id = "0123456789abcdef0123456789abcdef"
    assert parse_run_artifact(f"mlflow-artifacts:/1/{run_id}/artifacts/a/b.csv") == (
        run_id,
        "a/b.csv",
    )
    assert parse_run_artifact(f"runs:/{run_id}/a/b.csv") == (run_id, "a/b.csv")
    with pytest.raises(ParameterError):
        parse_run_artifact(f"runs:/{run_id}/")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("runs:/ffffffffffffffffffffffffffffffff/x.csv", "no run ffffffffffffffffffffffffffffffff"),
        ("runs:/{source}/no/such.csv", "artifact 'no/such.csv' not found"),
        ("runs:/{source}/../../etc/passwd", "contains '..'"),
    ],
)
def test_a_bad_run_reference_is_one_line_and_leaves_no_run(
    tmp_path: Path, value: str, message: str
) -> None:
    source = producer(tmp_path)
    out = satchel_cli(
        "run", str(tmp_path / "proj"), "-P", f"data={value.format(source=source)}", env=LOCAL
    )
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("Error: parameter 'data': ") and message in line
    assert len(store().search_runs(["0"])) == 1
