"""The unchanged ``mlflow`` client (pinned, own virtualenv) against ``satchel server``: every
tracking call users make, the tutorial scripts they start from, and Satchel reading the
same values back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import kv, run_cli
from tests.server.server_helpers import (
    mlflow_client_server,
    run_mlflow,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from mlflow_client_server(request.param, tmp_path_factory.mktemp("mlflow-server"))


def test_tutorial_quickstart_run_name_params_metrics(server: str, tmp_path: Path) -> None:
    out = run_mlflow(
        """
        import mlflow
        mlflow.set_experiment("Quickstart")
        with mlflow.start_run(run_name="Run Name #1") as run:
            mlflow.log_param("learning_rate", 0.01)
            mlflow.log_params({"epochs": 5, "batch_size": 32})
            mlflow.log_metric("accuracy", 0.9)
            mlflow.log_metrics({"loss": 0.3, "f1": 0.8})
            for step in range(3):
                mlflow.log_metric("val_loss", 1.0 / (step + 1), step=step)
        print(run.info.run_id)
        """,
        server,
        tmp_path,
    )
    run_id = out.stdout.split()[-1]
    shown = run_cli("runs", "show", run_id, "-o", "json", "--tracking-uri", server)
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["info"]["run_name"] == "Run Name #1" and run["info"]["status"] == "FINISHED"
    params = kv(run["data"]["params"])
    assert params == {"learning_rate": "0.01", "epochs": "5", "batch_size": "32"}
    metrics = kv(run["data"]["metrics"])
    assert metrics == {"accuracy": 0.9, "loss": 0.3, "f1": 0.8, "val_loss": pytest.approx(1 / 3)}
    listed = run_cli(
        "runs",
        "list",
        "--experiment-name",
        "Quickstart",
        "--filter",
        "metrics.accuracy > 0.5",
        "-o",
        "json",
        "--tracking-uri",
        server,
    )
    assert [r["info"]["run_id"] for r in json.loads(listed.stdout)] == [run_id]


def test_tutorial_elasticnet_tags_and_own_source(server: str, tmp_path: Path) -> None:
    out = run_mlflow(
        """
        import mlflow, numpy as np
        from sklearn.linear_model import ElasticNet
        from sklearn.datasets import load_diabetes
        X, y = load_diabetes(return_X_y=True)
        mlflow.set_experiment("Wine Regression")
        with mlflow.start_run(run_name="Sk_Elasticnet") as run:
            model = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(X, y)
            rmse = float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))
            mlflow.set_tags({"release.version": "2.2.0", "team": "ml"})
            mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.5})
            mlflow.log_metrics({"rmse": rmse, "r2": float(model.score(X, y))})
            mlflow.log_artifact(__file__)
        print(run.info.run_id)
        """,
        server,
        tmp_path,
    )
    run_id = out.stdout.split()[-1]
    shown = json.loads(
        run_cli("runs", "show", run_id, "-o", "json", "--tracking-uri", server).stdout
    )
    assert kv(shown["data"]["tags"])["release.version"] == "2.2.0"
    assert set(kv(shown["data"]["metrics"])) == {"rmse", "r2"}
    assert [a["path"] for a in shown["artifacts"]] == ["client_script.py"]
    got = run_cli(
        "artifacts", "download", run_id, "--path", "client_script.py", "--tracking-uri", server
    )
    assert "ElasticNet" in Path(got.stdout.strip()).read_text()


def test_tutorial_mlflow_client_explicit_ids(server: str, tmp_path: Path) -> None:
    out = run_mlflow(
        """
        from mlflow import MlflowClient
        client = MlflowClient()
        exp_id = client.create_experiment("Client API", tags={"owner": "me"})
        run = client.create_run(exp_id, run_name="explicit")
        client.log_param(run.info.run_id, "shape", (3, 3))
        client.log_metric(run.info.run_id, "m", 1.5, step=2)
        client.set_tag(run.info.run_id, "kind", "client")
        client.set_terminated(run.info.run_id)
        print(run.info.run_id)
        """,
        server,
        tmp_path,
    )
    run_id = out.stdout.split()[-1]
    shown = run_cli("runs", "show", run_id[:8], "--tracking-uri", server)
    assert shown.returncode == 0, shown.stderr
    assert "(3, 3)" in shown.stdout and "FINISHED" in shown.stdout and "client" in shown.stdout


def test_whole_tracking_api(server: str, tmp_path: Path) -> None:
    out = run_mlflow(
        """
        import json, mlflow, pandas as pd
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
        c = MlflowClient()
        result = {}
        exp = mlflow.set_experiment("everything")        # get-by-name 404, create, get
        assert mlflow.set_experiment("everything").experiment_id == exp.experiment_id
        other = c.create_experiment("other", tags={"a": "1"})
        c.rename_experiment(other, "other-renamed")
        c.set_experiment_tag(other, "b", "2")
        c.delete_experiment_tag(other, "a")
        c.delete_experiment(other)
        result["deleted_hidden"] = "other-renamed" not in [e.name for e in c.search_experiments()]
        c.restore_experiment(other)
        result["exp_tags"] = c.get_experiment(other).tags
        page = c.search_experiments(max_results=1)
        result["exp_paged"] = len(page) == 1 and page.token is not None
        with mlflow.start_run(run_name="parent") as parent:
            mlflow.log_param("p", 1)
            mlflow.log_params({"p": 1, "q": "x"})          # same value again: a no-op
            mlflow.log_metric("loss", 1.0)
            for step in range(30):
                mlflow.log_metric("hist", float(step), step=step)
            c.log_batch(parent.info.run_id, metrics=[], params=[], tags=[])
            mlflow.set_tags({"t1": "a", "t2": "b"})
            mlflow.set_tag("gone", "x")
            c.delete_tag(parent.info.run_id, "gone")
            mlflow.log_text("hello", "notes/hello.txt")
            mlflow.log_dict({"k": [1, 2]}, "cfg/config.json")
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, ax = plt.subplots()
            ax.plot([1, 2], [3, 4])
            mlflow.log_figure(fig, "plots/line.png")
            (open("a.txt", "w")).write("A")
            import os
            os.makedirs("d/sub", exist_ok=True)
            open("d/sub/b.txt", "w").write("B")
            mlflow.log_artifact("a.txt")
            mlflow.log_artifacts("d", "dir")
            ds = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="toy")
            mlflow.log_input(ds, context="training")
            with mlflow.start_run(run_name="child", nested=True) as child:
                mlflow.log_metric("c", 2.0)
            try:
                mlflow.log_param("p", 2)
            except MlflowException as exc:
                result["param_change"] = exc.error_code
        run = c.get_run(parent.info.run_id)
        result["status"] = run.info.status
        result["artifact_uri"] = run.info.artifact_uri
        result["params"] = run.data.params
        result["tags_ok"] = run.data.tags.get("t1") == "a" and "gone" not in run.data.tags
        result["inputs"] = [d.dataset.name for d in run.inputs.dataset_inputs]
        hist = c.get_metric_history(parent.info.run_id, "hist")
        result["history"] = [m.value for m in hist]
        child_run = c.get_run(child.info.run_id)
        result["child_parent"] = child_run.data.tags.get("mlflow.parentRunId")
        result["root_files"] = sorted(f.path for f in c.list_artifacts(parent.info.run_id))
        listed = c.list_artifacts(parent.info.run_id, "dir/sub")
        result["dir_files"] = sorted(f.path for f in listed)
        local = mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="dir")
        result["downloaded"] = open(os.path.join(local, "sub", "b.txt")).read()
        result["text"] = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/notes/hello.txt")
        result["dict"] = mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/cfg/config.json")
        df = mlflow.search_runs(filter_string="metrics.loss < 2", order_by=["metrics.loss"])
        result["df"] = [list(df["run_id"]), list(df["params.q"])]
        runs = c.search_runs([exp.experiment_id], "", order_by=["start_time DESC"], max_results=1)
        more = c.search_runs([exp.experiment_id], "", order_by=["start_time DESC"],
                             max_results=1, page_token=runs.token)
        result["paged"] = [r.info.run_name for r in runs] + [r.info.run_name for r in more]
        c.delete_run(child.info.run_id)
        result["after_delete"] = len(c.search_runs([exp.experiment_id]))
        c.restore_run(child.info.run_id)
        result["after_restore"] = len(c.search_runs([exp.experiment_id]))
        try:
            c.get_run("0" * 32)
        except MlflowException as exc:
            result["missing"] = exc.error_code
        print("RESULT " + json.dumps(result))
        """,
        server,
        tmp_path,
    )
    result = json.loads(out.stdout.split("RESULT ", 1)[1])
    assert result["deleted_hidden"] and result["exp_paged"]
    assert result["exp_tags"] == {"b": "2"}
    assert result["param_change"] == "INVALID_PARAMETER_VALUE"
    assert result["status"] == "FINISHED"
    assert result["artifact_uri"].startswith("mlflow-artifacts:/")
    assert result["params"] == {"p": "1", "q": "x"} and result["tags_ok"]
    assert result["inputs"] == ["toy"]
    assert result["history"] == [float(s) for s in range(30)]
    assert result["child_parent"]
    assert result["root_files"] == ["a.txt", "cfg", "dir", "notes", "plots"]
    assert result["dir_files"] == ["dir/sub/b.txt"]
    assert result["downloaded"] == "B" and result["text"] == "hello"
    assert result["dict"] == {"k": [1, 2]}
    assert result["df"][1] == ["x"]
    assert result["paged"] == ["child", "parent"]  # newest first
    assert (result["after_delete"], result["after_restore"]) == (1, 2)
    assert result["missing"] == "RESOURCE_DOES_NOT_EXIST"


def test_reserved_tags_refused_and_mlflow_system_tags_kept(server: str, tmp_path: Path) -> None:
    # the REST API applies the Client's reserved-tag rule on every route that sets tags,
    # while the mlflow client's own system tags (mlflow.*) keep working
    out = run_mlflow(
        """
        import mlflow
        from mlflow import MlflowClient
        from mlflow.entities import RunTag
        from mlflow.exceptions import MlflowException

        c = MlflowClient()
        exp = c.create_experiment("reserved-tags")
        mlflow.set_experiment(experiment_id=exp)
        with mlflow.start_run(run_name="sys-tags") as run:
            mlflow.set_tags({"mlflow.note.content": "notes", "team": "a"})
        refused = []
        attempts = {
            "set_tag": lambda: c.set_tag(run.info.run_id, "satchel.runner.pid", "1"),
            "log_batch": lambda: c.log_batch(
                run.info.run_id, tags=[RunTag("satchel.runner.pid", "1")]
            ),
            "create_run": lambda: c.create_run(exp, tags={"satchel.runner.pid": "1"}),
            "experiment_tag": lambda: c.set_experiment_tag(exp, "satchel.runner.x", "1"),
            "create_experiment": lambda: c.create_experiment(
                "other", tags={"satchel.runner.x": "1"}
            ),
        }
        for name, attempt in attempts.items():
            try:
                attempt()
            except MlflowException as exc:
                if exc.error_code == "INVALID_PARAMETER_VALUE" and "reserved" in exc.message:
                    refused.append(name)
        print(run.info.run_id, ",".join(refused))
        """,
        server,
        tmp_path,
    )
    run_id, refused = out.stdout.split()[-2:]
    assert refused.split(",") == [
        "set_tag", "log_batch", "create_run", "experiment_tag", "create_experiment"
    ]  # fmt: skip
    shown = run_cli("runs", "show", run_id, "-o", "json", "--tracking-uri", server)
    run = json.loads(shown.stdout)
    tags = kv(run["data"]["tags"])
    assert tags["mlflow.runName"] == "sys-tags" and tags["mlflow.note.content"] == "notes"
    assert tags["mlflow.user"] and tags["mlflow.source.name"] and tags["team"] == "a"
    assert not any(k.startswith("satchel.runner.") for k in tags)
    listed = run_cli("runs", "list", "--experiment-id", run["info"]["experiment_id"], "-o",
                     "json", "--tracking-uri", server)  # fmt: skip
    assert len(json.loads(listed.stdout)) == 1  # the refused create_run made no run
