"""satchel.Client against a real SQLite store in the test's directory."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import satchel
from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.tracking.entities import LifecycleStage, Metric, Param, RunStatus, RunTag, ViewType


@pytest.fixture()
def client(tmp_path: Path) -> satchel.Client:
    return satchel.Client(f"sqlite:///{tmp_path / 'store' / 'satchel.db'}")


def test_default_store_is_satchel_dir_in_cwd(tmp_path: Path) -> None:
    client = satchel.Client()
    client.create_experiment("here")
    assert client.tracking_uri.endswith("/work/satchel/satchel.db")
    assert (tmp_path / "work" / "satchel" / "satchel.db").is_file()


def test_env_var_chooses_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    satchel.Client().create_experiment("from-env")
    assert (tmp_path / "env.db").is_file()


def test_experiment_lifecycle(client: satchel.Client) -> None:
    exp_id = client.create_experiment("wine", tags={"team": "A", "n": 3})
    exp = client.get_experiment(exp_id)
    assert (exp.name, exp.tags) == ("wine", {"team": "A", "n": "3"})
    assert client.get_experiment_by_name("wine") == exp
    assert client.get_experiment_by_name("nope") is None
    with pytest.raises(AlreadyExistsError):
        client.create_experiment("wine")
    client.rename_experiment(exp_id, "wine2")
    assert client.get_experiment(exp_id).name == "wine2"
    client.set_experiment_tag(exp_id, "k", 1.5)
    assert client.get_experiment(exp_id).tags["k"] == "1.5"
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == LifecycleStage.DELETED
    active = {e.name for e in client.search_experiments()}
    deleted = {e.name for e in client.search_experiments(ViewType.DELETED_ONLY)}
    assert ("wine2" not in active, "wine2" in deleted) == (True, True)
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE


def test_unknown_ids_are_one_line_not_found(client: satchel.Client) -> None:
    for call in (
        lambda: client.get_experiment("9999"),
        lambda: client.get_run("0" * 32),
        lambda: client.log_param("0" * 32, "a", 1),
        lambda: client.set_terminated("0" * 32),
    ):
        with pytest.raises(NotFoundError) as err:
            call()
        assert "\n" not in str(err.value)


def test_run_params_metrics_tags(client: satchel.Client) -> None:
    exp_id = client.create_experiment("e")
    run = client.create_run(exp_id, tags={"team": "x"}, run_name="r1")
    run_id = run.info.run_id
    assert len(run_id) == 32 and run.info.status == RunStatus.RUNNING
    assert run.info.run_name == "r1" and run.data.tags["team"] == "x"
    assert client.log_param(run_id, "alpha", 0.5) == 0.5
    client.log_param(run_id, "depth", None)
    client.log_param(run_id, "alpha", "0.5")  # same value again: fine
    with pytest.raises(InvalidValueError) as err:
        client.log_param(run_id, "alpha", 0.7)
    assert "0.5" in str(err.value) and "0.7" in str(err.value)
    client.log_metric(run_id, "loss", 1.0, step=0)
    client.log_metric(run_id, "loss", 0.5, step=1, timestamp=123)
    client.log_metric(run_id, "nan", float("nan"))
    client.log_metric(run_id, "inf", float("-inf"))
    client.set_tag(run_id, "t", 1)
    client.set_tag(run_id, "gone", "x")
    client.delete_tag(run_id, "gone")
    data = client.get_run(run_id).data
    assert data.params == {"alpha": "0.5", "depth": "None"}
    assert data.metrics["loss"] == 0.5 and math.isnan(data.metrics["nan"])
    assert data.metrics["inf"] == float("-inf")
    assert data.tags["t"] == "1" and "gone" not in data.tags
    history = client.get_metric_history(run_id, "loss")
    assert [(m.value, m.step) for m in history] == [(1.0, 0), (0.5, 1)]
    assert history[1].timestamp == 123


@pytest.mark.parametrize("bad", ["0.5", None, True, [1]])
def test_metric_values_must_be_numbers(client: satchel.Client, bad: object) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidValueError, match="not a number"):
        client.log_metric(run_id, "m", bad)


@pytest.mark.parametrize("key", ["", "../x", "/abs", "a" * 300, "bad\nkey"])
def test_invalid_keys_are_refused(client: satchel.Client, key: str) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidValueError):
        client.log_param(run_id, key, 1)
    with pytest.raises(InvalidValueError):
        client.log_metric(run_id, key, 1)


def test_log_batch_and_terminate(client: satchel.Client) -> None:
    run_id = client.create_run("0", start_time=1000).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 1000 + i, i) for i in range(100)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "v")],
    )
    assert len(client.get_metric_history(run_id, "m")) == 100
    client.set_terminated(run_id, "failed", end_time=5000)
    info = client.get_run(run_id).info
    assert (info.status, info.start_time, info.end_time) == (RunStatus.FAILED, 1000, 5000)
    with pytest.raises(InvalidValueError, match="status"):
        client.set_terminated(run_id, "DONE")
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"


def test_delete_restore_and_search(client: satchel.Client) -> None:
    exp_id = client.create_experiment("s")
    ids = []
    for i, alpha in enumerate(["0.1", "0.3", "0.5"]):
        run_id = client.create_run(exp_id, run_name=f"net-{i}").info.run_id
        client.log_param(run_id, "alpha", alpha)
        client.log_metric(run_id, "rmse", 0.2 * (i + 1))
        ids.append(run_id)
    found = client.search_runs([exp_id], "metrics.rmse < 0.5", order_by=["metrics.rmse DESC"])
    assert [r.info.run_id for r in found] == [ids[1], ids[0]]
    assert [r.info.run_id for r in client.search_runs(exp_id, "params.alpha = '0.5'")] == [ids[2]]
    client.delete_run(ids[0])
    assert {r.info.run_id for r in client.search_runs([exp_id])} == set(ids[1:])
    deleted = client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [ids[0]]
    client.restore_run(ids[0])
    page = client.search_runs([exp_id], max_results=2, order_by=["attributes.run_name"])
    rest = client.search_runs(
        [exp_id], max_results=2, order_by=["attributes.run_name"], page_token=page.token
    )
    assert [r.info.run_name for r in [*page, *rest]] == ["net-0", "net-1", "net-2"]


def test_artifacts_roundtrip(client: satchel.Client, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    (tmp_path / "model.txt").write_text("weights")
    (tmp_path / "plots" / "sub").mkdir(parents=True)
    (tmp_path / "plots" / "sub" / "a.png").write_bytes(b"png")
    client.log_artifact(run_id, tmp_path / "model.txt", artifact_path="model")
    client.log_artifacts(run_id, tmp_path / "plots", artifact_path="plots")
    client.log_text(run_id, "free text", "notes/readme.txt")
    client.log_dict(run_id, {"k": [1, 2]}, "config.json")
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert top == {("model", True), ("plots", True), ("notes", True), ("config.json", False)}
    assert [f.path for f in client.list_artifacts(run_id, "plots/sub")] == ["plots/sub/a.png"]
    local = Path(client.download_artifacts(run_id, "config.json", tmp_path / "dl"))
    assert json.loads(local.read_text()) == {"k": [1, 2]}
    everything = Path(client.download_artifacts(run_id))
    assert (everything / "notes" / "readme.txt").read_text() == "free text"
    assert (everything / "plots" / "sub" / "a.png").read_bytes() == b"png"
    with pytest.raises(InvalidValueError):
        client.log_artifact(run_id, tmp_path / "missing.txt")
    with pytest.raises(InvalidValueError):
        client.log_text(run_id, "x", "../escape.txt")
