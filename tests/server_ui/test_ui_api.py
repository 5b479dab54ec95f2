"""The UI's JSON twins and writes, in process (Starlette's TestClient, a real SQLite store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from ui_harness import STEPS, make_sweep, sweep_rmse

from satchel.server.routes import UI_ROUTES, Permission
from satchel.server.ui import create_app
from satchel.server.ui.web import CSRF_COOKIE, CSRF_HEADER
from satchel.tracking.client import Client

TOKEN = "t" * 43


@pytest.fixture
def app(tmp_path: Path) -> tuple[TestClient, dict[str, Any]]:
    uri = f"sqlite:///{tmp_path / 'store' / 'satchel.db'}"
    client = Client(uri)
    data = make_sweep(client, tmp_path)
    data["client"] = client
    web = TestClient(create_app(uri), base_url="http://127.0.0.1:5000")
    web.cookies.set(CSRF_COOKIE, TOKEN)
    return web, data


def post(web: TestClient, url: str, body: dict[str, Any]) -> Any:
    return web.post(url, json=body, headers={CSRF_HEADER: TOKEN})


def test_every_route_declares_a_permission() -> None:
    public = {r.path for r in UI_ROUTES if r.permission is Permission.PUBLIC}
    assert public == {"/ui-static/{name}", "/favicon.ico"}
    writes = [r for r in UI_ROUTES if r.methods == ("POST",)]
    assert writes and all(r.kind == "write" for r in writes)
    assert all(r.permission in (Permission.EDIT, Permission.MANAGE) for r in writes)


def test_runs_json_twin_filters_sorts_pages_and_nests(app: Any) -> None:
    web, data = app
    exp = data["experiment_id"]
    url = (
        f"/ui-api/experiments/{exp}/runs?filter=metrics.rmse+%3C+0.8&order=metrics.rmse+ASC"
        "&col=metrics.rmse&col=params.alpha&size=2"
    )
    page = web.get(url).json()
    values = [r["values"]["metrics.rmse"] for r in page["rows"]]
    assert values == sorted(values) and len(values) == 2 and page["next_offset"] == 2
    rest = web.get(url + "&offset=2").json()
    expected = sorted(sweep_rmse(a, r, STEPS - 1) for a in (0.1, 0.5, 1.0) for r in (0.1, 0.5, 0.9))
    got = values + [r["values"]["metrics.rmse"] for r in rest["rows"]]
    assert got == [v for v in expected if v < 0.8][: len(got)]
    everything = web.get(f"/ui-api/experiments/{exp}/runs").json()["rows"]
    assert everything[0]["name"] == "sweep" and everything[0]["children"] == 9
    assert [r["depth"] for r in everything] == [0] + [1] * 9
    html = web.get(f"/experiments/{exp}?col=metrics.rmse").text
    assert html.count('class="run-check"') == 10


def test_bad_filter_points_at_the_token(app: Any) -> None:
    web, data = app
    url = (
        f"/ui-api/experiments/{data['experiment_id']}/runs"
        "?filter=metrics.rmse+%3C+0.8+and+params.alpha+%3D%3D+%271%27"
    )
    response = web.get(url)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["source"] == "filter" and error["at"].startswith("=")
    assert error["before"] == "metrics.rmse < 0.8 and params.alpha ="
    page = web.get(url.replace("/ui-api/experiments/", "/experiments/").replace("/runs?", "?"))
    assert 'class="error-token"' in page.text


def test_writes_need_the_csrf_header_and_same_origin(app: Any) -> None:
    web, data = app
    assert web.post("/ui-api/experiments", json={"name": "x"}).status_code == 403
    bad = web.post(
        "/ui-api/experiments",
        json={"name": "x"},
        headers={CSRF_HEADER: TOKEN, "Origin": "http://evil.example"},
    )
    assert bad.status_code == 403
    form = web.post("/ui-api/experiments", data={"name": "x"}, headers={CSRF_HEADER: TOKEN})
    assert form.status_code == 400
    assert data["client"].get_experiment_by_name("x") is None
    made = post(web, "/ui-api/experiments", {"name": "x"}).json()
    assert data["client"].get_experiment(made["experiment_id"]).name == "x"


def test_experiment_and_run_writes(app: Any) -> None:
    web, data = app
    client, exp, other = data["client"], data["experiment_id"], data["other_id"]
    assert post(web, f"/ui-api/experiments/{exp}/rename", {"name": "renamed"}).status_code == 200
    assert client.get_experiment(exp).name == "renamed"
    assert (
        post(web, f"/ui-api/experiments/{exp}/rename", {"name": "wine-archive"}).status_code == 409
    )
    run_id = data["runs"]["en-a0.1-l0.1"]
    assert (
        post(web, "/ui-api/runs/move", {"run_ids": [run_id], "experiment_id": other}).status_code
        == 200
    )
    assert client.get_run(run_id).info.experiment_id == other
    missing = post(web, "/ui-api/runs/move", {"run_ids": [run_id], "experiment_id": "999"})
    assert missing.status_code == 404
    assert post(web, "/ui-api/runs/delete", {"run_ids": [run_id]}).status_code == 200
    assert client.get_run(run_id).info.lifecycle_stage.value == "deleted"
    deleted = web.get(f"/ui-api/experiments/{other}/runs?view=deleted").json()["rows"]
    assert [r["run_id"] for r in deleted] == [run_id]
    assert post(web, "/ui-api/runs/restore", {"run_ids": [run_id]}).status_code == 200
    post(web, f"/ui-api/runs/{run_id}/tags", {"key": "team", "value": "<b>x</b>"})
    post(web, f"/ui-api/runs/{run_id}/description", {"text": "**bold** <script>x</script>"})
    detail = web.get(f"/ui-api/runs/{run_id}").json()
    assert detail["user_tags"] == {"team": "<b>x</b>"}
    page = web.get(f"/runs/{run_id}").text
    assert "<strong>bold</strong>" in page and "<script>x</script>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    post(web, f"/ui-api/runs/{run_id}/tags/delete", {"key": "team"})
    assert "team" not in client.get_run(run_id).data.tags
    assert post(web, f"/ui-api/experiments/{other}/delete", {}).status_code == 200
    gone = web.get("/ui-api/experiments?deleted=1").json()["experiments"]
    assert [e["experiment_id"] for e in gone] == [other]
    assert post(web, f"/ui-api/experiments/{other}/restore", {}).status_code == 200
    found = web.get("/ui-api/experiments?q=archive").json()["experiments"]
    assert [e["name"] for e in found] == ["wine-archive"]


def test_run_twin_previews_and_raw_artifacts(app: Any) -> None:
    web, data = app
    run_id = data["runs"]["en-a0.5-l0.5"]
    detail = web.get(f"/ui-api/runs/{run_id}").json()
    rmse = next(m for m in detail["metric_summaries"] if m["key"] == "rmse")
    assert rmse["count"] == STEPS and rmse["min"] == sweep_rmse(0.5, 0.5, STEPS - 1)
    assert rmse["max"] == sweep_rmse(0.5, 0.5, 0)
    tree = web.get(f"/ui-api/runs/{run_id}/artifacts").json()["artifacts"]
    assert {a["path"] for a in tree} == {"plots", "plots/plot.png", "predictions.csv"}
    csv_preview = web.get(f"/ui-api/runs/{run_id}/preview?path=predictions.csv").json()
    assert (
        csv_preview["header"] == ["row", "predicted", "actual"] and len(csv_preview["rows"]) == 25
    )
    raw = web.get(f"/runs/{run_id}/artifact?path=plots/plot.png")
    assert raw.headers["content-type"] == "image/png"
    assert raw.headers["content-security-policy"].startswith("sandbox")
    down = web.get(f"/runs/{run_id}/artifact?path=predictions.csv&download=1")
    assert down.headers["content-disposition"].startswith("attachment")
    assert down.headers["content-type"].startswith("text/plain")
    for bad in ("../../satchel.db", "/etc/passwd", "plots/../../x"):
        assert web.get(f"/runs/{run_id}/artifact", params={"path": bad}).status_code == 400
    assert web.get(f"/runs/{run_id}/artifact?path=nope.txt").status_code == 404


def test_compare_twin_marks_differences(app: Any) -> None:
    web, data = app
    ids = [data["runs"]["en-a0.1-l0.1"], data["runs"]["en-a0.1-l0.5"]]
    found = web.get("/ui-api/compare?runs=" + ",".join(ids)).json()
    rows = {(r["kind"], r["key"]): r for r in found["rows"]}
    assert not rows[("param", "alpha")]["differs"] and rows[("param", "l1_ratio")]["differs"]
    html = web.get("/compare?runs=" + ",".join(ids)).text
    assert 'class="row-param differs" data-key="l1_ratio"' in html


def test_csv_download_has_every_row_and_chosen_columns(app: Any) -> None:
    web, data = app
    text = web.get(
        f"/experiments/{data['experiment_id']}/runs.csv?col=params.alpha&col=metrics.rmse"
    ).text
    lines = text.strip().splitlines()
    assert lines[0].endswith("params.alpha,metrics.rmse") and len(lines) == 11


def test_metric_history_downsamples_keeping_spikes_and_refetches_zoomed(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'store' / 'satchel.db'}"
    client = Client(uri)
    run_id = client.create_run("0").info.run_id
    from satchel.tracking.entities import Metric

    history = [Metric("loss", 1.0 + (i % 7) * 0.01, 1_000_000 + i, i) for i in range(20_000)]
    history[12_345] = Metric("loss", 99.0, 1_000_000 + 12_345, 12_345)
    history[54] = Metric("loss", -5.0, 1_000_000 + 54, 54)
    for start in range(0, len(history), 1000):
        client.log_batch(run_id, metrics=history[start : start + 1000])
    web = TestClient(create_app(uri))
    whole = web.get(f"/ui-api/metric-history?run={run_id}&key=loss&points=300").json()["series"][0]
    assert whole["sampled"] and len(whole["steps"]) <= 300
    assert max(whole["values"]) == 99.0 and min(whole["values"]) == -5.0
    assert whole["steps"][-1] == 19_999 and 12_345 in whole["steps"]
    zoomed = web.get(
        f"/ui-api/metric-history?run={run_id}&key=loss&points=300&lo=12300&hi=12399"
    ).json()
    detail = zoomed["series"][0]
    assert not detail["sampled"] and detail["steps"] == list(range(12_300, 12_400))
    bad = web.get(f"/ui-api/metric-history?run={run_id}&key=loss&points=1")
    assert bad.status_code == 400


def test_run_page_shows_source_diff_environment_and_console(app: Any) -> None:
    web, data = app
    page = web.get(f"/runs/{data['runs']['en-a0.1-l0.1']}").text
    assert '<span class="add">+alpha = float(sys.argv[1])</span>' in page
    assert '<span class="del">-alpha = 0.5</span>' in page
    assert "scikit-learn==1.5.2" in page and "Resolved 2 packages" in page
    assert "epoch 1 rmse=0.9" in page and "\x1b" not in page  # terminal escapes removed


def test_several_experiments_together(app: Any) -> None:
    web, data = app
    both = f"{data['experiment_id']},{data['other_id']}"
    client = data["client"]
    client.move_run(data["runs"]["en-a0.1-l0.1"], data["other_id"])
    rows = web.get(f"/ui-api/experiments/{both}/runs").json()["rows"]
    assert {r["experiment_id"] for r in rows} == {data["experiment_id"], data["other_id"]}
    assert len(rows) == 10
    html = web.get(f"/experiments/{both}").text
    assert "<th>Experiment</th>" in html and "wine-archive" in html


def test_chart_settings_come_from_the_page_url(app: Any) -> None:
    web, data = app
    run = data["runs"]["en-a0.5-l0.5"]
    html = web.get(f"/runs/{run}?metric=mae&metric=rmse&metric=nope&x=wall&smoothing=0.6&log=1")
    assert html.status_code == 200
    text = html.text
    assert 'value="mae" checked' in text and 'value="rmse" checked' in text
    assert 'value="r2" >' in text  # not chosen
    assert '<option value="wall" selected>' in text and 'value="0.6"' in text
    assert 'id="chart-log" checked' in text
    # the chart's first request is preloaded with the chosen metrics, in app.js's order
    assert f"metric-history?run={run}&amp;key=mae&amp;key=rmse&amp;points=1000" in text
    plain = web.get(f"/runs/{run}").text
    assert 'value="mae" checked' in plain and '<option value="step" selected>' in plain
    for bad in ("x=sideways", "smoothing=1.5", "smoothing=abc"):
        answer = web.get(f"/runs/{run}?{bad}")
        assert answer.status_code == 400 and bad.split("=")[1] in answer.text, bad
    compare = web.get(f"/compare?runs={run},{data['runs']['en-a1.0-l0.9']}&metric=r2&log=1").text
    assert 'value="r2" checked' in compare and 'value="mae" >' in compare
