"""Artifact previews when the artifacts live behind a server's ``mlflow-artifacts`` proxy, in
real Chromium: the UI served by ``satchel server`` itself, and ``satchel ui`` pointed at that
server (every file then comes through the proxy over HTTP)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.server_helpers import ServerProcess, call
from ui_harness import Watched, browser, png_bytes, running_ui, watched  # noqa: F401 - fixtures

from satchel.tracking.client import Client

pytestmark = pytest.mark.slow

CSV = "epoch,loss\n" + "".join(f"{i},{1 / (i + 1):.3f}\n" for i in range(12))
CONFIG = {"model": "elasticnet", "alpha": 0.5}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server holding two runs logged through its proxy. The second run's stored artifact
    URI is set to the proxy form (``mlflow-artifacts:/<exp>/<run>/artifacts``), as a
    database written by MLflow's server holds it; this server stores local paths itself."""
    home = tmp_path_factory.mktemp("proxied")
    store = home / "store"
    server = ServerProcess(
        "--backend-store-uri", str(store), "--artifacts-destination", str(home / "art"), cwd=home
    )
    client = Client(server.url)
    exp = client.create_experiment("proxied")
    runs = {}
    for name in ("logged", "mlflow-stored"):
        run = client.create_run(exp, run_name=name)
        rid = run.info.run_id
        assert run.info.artifact_uri == f"mlflow-artifacts:/{exp}/{rid}/artifacts"
        plot = home / "plot.png"
        plot.write_bytes(png_bytes())
        client.log_artifact(rid, str(plot), "plots")
        client.log_text(rid, CSV, "history.csv")
        client.log_text(rid, json.dumps(CONFIG), "config.json")
        runs[name] = rid
    stored = runs["mlflow-stored"]
    with sqlite3.connect(store / "satchel.db") as db:
        db.execute(
            "UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?",
            (f"mlflow-artifacts:/{exp}/{stored}/artifacts", stored),
        )
    yield {"url": server.url, "experiment_id": exp, "runs": runs, "home": home}
    assert server.stop() == 0


@pytest.fixture(scope="module")
def remote_ui(served: dict[str, Any]) -> Iterator[str]:
    """``satchel ui --tracking-uri <the server's URL>``: a UI reading everything over HTTP."""
    with running_ui(served["url"], cwd=served["home"]) as url:
        yield url


def _previews_work(page: Any, base: str, run_id: str) -> None:
    page.goto(f"{base.rstrip('/')}/runs/{run_id}")
    page.wait_for_selector("body[data-ready]")
    paths = set(page.locator(".artifact-link").evaluate_all("(a) => a.map((x) => x.dataset.path)"))
    assert paths == {"plots/plot.png", "history.csv", "config.json"}
    page.click('.artifact-link[data-path="history.csv"]')
    page.wait_for_selector(".csv-table")
    assert page.locator(".csv-table thead th").all_inner_texts() == ["epoch", "loss"]
    assert page.locator(".csv-table tbody tr").count() == 12
    page.click('.artifact-link[data-path="config.json"]')
    page.wait_for_selector(".preview-text")
    assert json.loads(page.locator(".preview-text").inner_text()) == CONFIG
    page.click('.artifact-link[data-path="plots/plot.png"]')
    page.wait_for_function("() => document.querySelector('.preview-image')?.naturalWidth === 64")
    download = page.locator(".preview-body a.download").get_attribute("href")
    with page.expect_download() as got:
        page.evaluate("(href) => { const a = document.createElement('a'); a.href = href; "
                      "document.body.append(a); a.click(); }", download)  # fmt: skip
    assert Path(got.value.path()).read_bytes() == png_bytes()


@pytest.mark.parametrize("run", ["logged", "mlflow-stored"])
@pytest.mark.parametrize("where", ["server", "remote ui"])
def test_previews_of_proxied_artifacts(
    served: dict[str, Any],
    remote_ui: str,
    watched: Watched,  # noqa: F811 - fixture
    run: str,
    where: str,
) -> None:
    base = served["url"] if where == "server" else remote_ui
    _previews_work(watched.page, base, served["runs"][run])
    assert not watched.errors and not watched.console_errors, watched.console_errors
    assert not watched.failed, watched.failed


def test_the_proxy_serves_a_run_stored_with_a_proxy_uri(served: dict[str, Any]) -> None:
    """The REST proxy resolves ``mlflow-artifacts:/...`` under its artifact root, as MLflow's
    server does, and still refuses paths that leave it."""
    exp, run_id = served["experiment_id"], served["runs"]["mlflow-stored"]
    base = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run_id}/artifacts"
    status, body = call(served["url"], "GET", f"{base}/config.json")
    assert status == 200 and (json.loads(body) if isinstance(body, bytes) else body) == CONFIG
    status, listing = call(served["url"], "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}")
    assert status == 200
    assert {f["path"] for f in listing["files"]} == {"plots", "history.csv", "config.json"}
    status, _ = call(served["url"], "GET", f"{base}/../../../store/satchel.db")
    assert status == 400
