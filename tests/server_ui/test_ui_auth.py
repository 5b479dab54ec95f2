"""The web UI behind `satchel server --auth`, over real HTTP: the UI's routes pass the same
authorizer as the REST API. A signed-out browser is challenged (401 + Basic), a user sees
only the experiments and runs they may read (listings filtered, others' pages 403), the
running-owners and run-id-prefix routes do not reveal others' runs, and names stay escaped.
One walk in real Chromium signs in through the browser's own Basic prompt."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.server_helpers import ServerProcess, call
from ui_harness import Watched, browser, watched  # noqa: F401 - fixtures

from satchel.server.auth.store import AuthStore, Level
from satchel.tracking.store.sqlite import SqliteStore

pytestmark = pytest.mark.slow

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def basic(user: str) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{user}:{user}-password".encode()).decode()
    }


@pytest.fixture
def team(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Alice reads "alice-exp" (and one named with markup); Bob owns "bob-exp"; both have
    a RUNNING run with an owner; nobody else reads anything (the default level is NONE)."""
    db = tmp_path / "store" / "satchel.db"
    store = SqliteStore(str(db), str(tmp_path / "store" / "artifacts"))
    auth = AuthStore(store)
    ids: dict[str, Any] = {}
    for name in ("alice-exp", XSS, "bob-exp"):
        ids[name] = store.create_experiment(name)
    for user, exps in (("alice", ("alice-exp", XSS)), ("bob", ("bob-exp",))):
        auth.create_user(user, f"{user}-password")
        for exp in exps:
            auth.grant("user:" + user, int(ids[exp]), Level.READ)
        run = store.create_run(ids[exps[0]], user, 0, run_name=f"{user}-run")
        store.heartbeat(run.info.run_id, f"{user}-host:1")
        ids[f"{user}-run"] = run.info.run_id
    store.close()
    server = ServerProcess("--backend-store-uri", f"sqlite:///{db}", "--auth", cwd=tmp_path)
    try:
        yield {"url": server.url, **ids}
    finally:
        assert server.stop() == 0


def test_signed_out_browser_is_challenged_and_assets_stay_public(team: dict[str, Any]) -> None:
    url = team["url"]
    for path in ("/", f"/experiments/{team['alice-exp']}", "/ui-api/experiments"):
        status, body = call(url, "GET", path)
        assert status == 401, path
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", f"/runs/{team['alice-run']}")
    response = conn.getresponse()
    html = response.read().decode()
    assert response.status == 401
    assert response.getheader("WWW-Authenticate", "").startswith('Basic realm="Satchel"')
    assert response.getheader("content-type", "").startswith("text/html")
    assert "alice-run" not in html and team["alice-run"] not in html
    conn.close()
    status, body = call(url, "GET", "/ui-static/app.js")
    assert status == 200 and b"function" in body
    status, _ = call(url, "GET", "/api/2.0/mlflow/experiments/get?experiment_id=0")
    assert status == 401  # the REST API challenges the same way


def test_a_user_sees_only_what_they_may_read(team: dict[str, Any]) -> None:
    url, alice = team["url"], basic("alice")
    status, body = call(url, "GET", "/ui-api/experiments", headers=alice)
    assert status == 200
    assert sorted(e["name"] for e in body["experiments"]) == sorted(["alice-exp", XSS])

    status, html = call(url, "GET", f"/experiments/{team['alice-exp']}", headers=alice)
    page = html.decode()
    assert status == 200 and "alice-run" in page
    assert "bob-exp" not in page  # sidebar and the move-to list are filtered
    assert XSS not in page and "&lt;script&gt;alert(" in page  # escaped, never raw

    # direct URLs to Bob's experiment and run, on every kind of UI route: 403
    bob_exp, bob_run = team["bob-exp"], team["bob-run"]
    refused = [
        f"/experiments/{bob_exp}",
        f"/experiments/{team['alice-exp']},{bob_exp}",
        f"/experiments/{bob_exp}/runs.csv",
        f"/ui-api/experiments/{bob_exp}/runs",
        f"/ui-api/experiments/{bob_exp}/keys",
        f"/runs/{bob_run}",
        f"/ui-api/runs/{bob_run}",
        f"/ui-api/runs/{bob_run}/artifacts",
        f"/runs/{bob_run}/artifact?path=x.txt",
        f"/compare?runs={team['alice-run']},{bob_run}",
        f"/ui-api/compare?runs={bob_run}",
        f"/ui-api/metric-history?run={team['alice-run']}&run={bob_run}&key=m",
    ]
    for path in refused:
        status, answer = call(url, "GET", path, headers=alice)
        assert status == 403, path
        assert "bob-run" not in str(answer), path
    status, _ = call(url, "GET", f"/runs/{team['alice-run']}", headers=alice)
    assert status == 200
    status, _ = call(url, "GET", "/", headers=basic("bob"))
    assert status == 302  # Bob's home is his own experiment


def test_ui_writes_need_the_declared_level(team: dict[str, Any]) -> None:
    url = team["url"]
    csrf = "c" * 43
    headers = {**basic("alice"), "Cookie": f"satchel_csrf={csrf}", "X-Satchel-CSRF": csrf}
    headers["Content-Type"] = "application/json"
    run, exp = team["alice-run"], team["alice-exp"]
    status, _ = call(url, "POST", f"/ui-api/runs/{run}/tags", {"key": "k", "value": "v"}, headers)
    assert status == 403  # READ does not let Alice tag
    status, _ = call(url, "POST", f"/ui-api/experiments/{exp}/rename", {"name": "x"}, headers)
    assert status == 403
    status, body = call(url, "POST", "/ui-api/experiments", {"name": "alice-new"}, headers)
    assert status == 200  # any signed-in user may create; the creator then manages it
    new = body["experiment_id"]
    status, _ = call(url, "POST", f"/ui-api/experiments/{new}/rename", {"name": "a2"}, headers)
    assert status == 200
    move = {"run_ids": [team["bob-run"]], "experiment_id": new}
    status, _ = call(url, "POST", "/ui-api/runs/move", move, headers)
    assert status == 403  # Bob's run stays where it is


def test_running_owners_and_id_prefixes_hide_others_runs(team: dict[str, Any]) -> None:
    url, own = team["url"], "/api/2.0/satchel/runs"
    status, body = call(url, "GET", f"{own}/running-owners", headers=basic("alice"))
    assert status == 200
    assert [(r["run_id"], r["owner"]) for r in body["runs"]] == [
        (team["alice-run"], "alice-host:1")
    ]
    bob_run = team["bob-run"]
    status, body = call(url, "GET", f"{own}/ids-with-prefix?prefix={bob_run[:6]}",
                        headers=basic("alice"))  # fmt: skip
    assert status == 200 and body["run_ids"] == []
    status, body = call(url, "GET", f"{own}/ids-with-prefix?prefix=", headers=basic("alice"))
    assert body["run_ids"] == [team["alice-run"]]
    status, body = call(url, "GET", f"{own}/ids-with-prefix?prefix={bob_run[:6]}",
                        headers=basic("bob"))  # fmt: skip
    assert body["run_ids"] == [bob_run]


def test_chromium_signs_in_through_the_basic_prompt(
    team: dict[str, Any],
    browser: Any,  # noqa: F811 - fixture
) -> None:
    url = team["url"]
    from playwright.sync_api import Error

    signed_out = browser.new_context()
    try:  # headless Chromium cannot show its sign-in prompt: it fails the navigation instead
        with pytest.raises(Error, match="ERR_INVALID_AUTH_CREDENTIALS"):
            signed_out.new_page().goto(url + "/")
    finally:
        signed_out.close()
    context = browser.new_context(
        http_credentials={"username": "alice", "password": "alice-password"}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        seen = Watched(page)
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready]")
        names = page.locator("li.exp").all_inner_texts()
        assert any("alice-exp" in n for n in names) and any(XSS in n for n in names)
        assert not any("bob-exp" in n for n in names)
        page.goto(f"{url}/experiments/{team['alice-exp']}")
        page.wait_for_selector("body[data-ready]")
        assert page.locator("#runs-table tbody td.name a").all_inner_texts() == ["alice-run"]
        response = page.goto(f"{url}/experiments/{team['bob-exp']}")
        assert response is not None and response.status == 403
        assert not seen.dialogs and not seen.errors, (seen.dialogs, seen.errors)
    finally:
        context.close()
