"""`satchel server` serves the web UI at `/`, started as a user starts it (the CLI, a real
socket): the home page leads to an experiment's page listing its runs, the JSON twin
agrees, and the UI's assets come with their content types; with auth on, the same for a
signed-in user. `satchel ui` (no authentication) stays on loopback and checks the Host."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.conftest import run_cli
from tests.server.server_helpers import ServerProcess
from ui_harness import sweep, ui_url  # noqa: F401 - fixtures

from satchel.server.auth.store import AuthStore
from satchel.tracking.store.sqlite import SqliteStore

pytestmark = pytest.mark.slow

ASSETS = {
    "/ui-static/app.js": "text/javascript",
    "/ui-static/app.css": "text/css",
    "/ui-static/plotly.min.js": "text/javascript",
}


def get(url: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def walk_the_ui(url: str, data: dict[str, Any], headers: dict[str, str]) -> None:
    status, head, _ = get(url, "/", headers)
    assert status == 302
    exp = data["experiment_id"]
    status, head, body = get(url, f"/experiments/{exp}", headers)
    assert status == 200 and head["content-type"].startswith("text/html")
    page = body.decode()
    assert "wine-elasticnet" in page
    for name in data["runs"]:
        assert name in page
    assert 'src="/ui-static/app.js"' in page
    status, head, body = get(url, f"/ui-api/experiments/{exp}/runs", headers)
    assert status == 200 and head["content-type"] == "application/json"
    assert len(json.loads(body)["rows"]) == 10  # the parent and its 9 runs
    for path, media in ASSETS.items():
        status, head, body = get(url, path, headers)
        assert status == 200 and head["content-type"].startswith(media), path
        assert head["x-content-type-options"] == "nosniff" and len(body) > 100
    run = data["runs"]["en-a0.1-l0.1"]
    status, head, body = get(url, f"/runs/{run}/artifact?path=plots/plot.png", headers)
    assert status == 200 and head["content-type"] == "image/png"
    assert body.startswith(b"\x89PNG")


def test_server_serves_the_ui(sweep: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    server = ServerProcess("--backend-store-uri", sweep["uri"], cwd=tmp_path)
    try:
        walk_the_ui(server.url, sweep, {})
    finally:
        assert server.stop() == 0


def test_server_with_auth_serves_the_ui_to_a_signed_in_user(
    sweep: dict[str, Any],  # noqa: F811 - fixture
    tmp_path: Path,
) -> None:
    db = sweep["uri"].removeprefix("sqlite:///")
    store = SqliteStore(db, str(Path(db).parent / "artifacts"))
    AuthStore(store).create_user("carol", "carol-password", admin=True)
    store.close()
    server = ServerProcess("--backend-store-uri", sweep["uri"], "--auth", cwd=tmp_path)
    try:
        assert get(server.url, f"/experiments/{sweep['experiment_id']}", {})[0] == 401
        credentials = base64.b64encode(b"carol:carol-password").decode()
        walk_the_ui(server.url, sweep, {"Authorization": f"Basic {credentials}"})
    finally:
        assert server.stop() == 0


def test_satchel_ui_stays_on_loopback_and_checks_the_host(
    sweep: dict[str, Any],  # noqa: F811 - fixture
    ui_url: str,  # noqa: F811 - fixture
) -> None:
    out = run_cli("ui", "--tracking-uri", sweep["uri"], "--host", "0.0.0.0")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "loopback only" in out.stderr and "satchel server --host 0.0.0.0" in out.stderr
    url = ui_url.rstrip("/")
    assert get(url, "/experiments/0", {})[0] == 200
    assert get(url, "/experiments/0", {"Host": "rebound.example"})[0] == 403
