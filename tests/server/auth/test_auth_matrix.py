"""The authorization matrix, generated from the routes table: every route (the REST API and
the web UI) and every kind of caller → the status the route's declared permission implies,
against a real server with auth on; after every refusal the store and the artifacts are
exactly as before.

Callers: no credentials, a bad token, an expired token, a revoked token, users holding READ,
EDIT and MANAGE on the experiment, a user who manages only their own experiment, an admin.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.server_helpers import call

from satchel.server.app import create_app
from satchel.server.auth.authorizer import make_authorizer
from satchel.server.auth.store import AuthStore, Level
from satchel.server.context import ServerContext
from satchel.server.routes import ROUTES, Permission, RouteEntry
from satchel.server.serve import BackgroundServer
from satchel.tracking.entities import Metric, RunTag
from satchel.tracking.store.sqlite import SqliteStore

REFUSED_401 = ("nobody", "bad-token", "expired", "revoked")
RANK = {"reader": Level.READ, "editor": Level.EDIT, "manager": Level.MANAGE}
CALLERS = (*REFUSED_401, "reader", "editor", "manager", "other", "admin")


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "satchel.db"
        self.artifacts = tmp_path / "artifacts"
        self.store = SqliteStore(str(self.db), str(self.artifacts))
        auth = AuthStore(self.store)
        self.exp_name = "team-exp"
        self.exp = self.store.create_experiment(self.exp_name)
        self.own = self.store.create_experiment("others-exp")
        self.run = self.store.create_run(self.exp, "editor", 0).info.run_id
        self.store.log_batch(self.run, [Metric("m", 1.0, 1, 0)], tags=[RunTag("t", "v")])
        self.store.heartbeat(self.run, "elsewhere:1")
        (self.artifacts / self.exp / self.run / "artifacts").mkdir(parents=True)
        (self.artifacts / self.exp / self.run / "artifacts" / "f.txt").write_text("x")
        self.tokens: dict[str, str] = {}
        for name in ("reader", "editor", "manager", "other", "admin"):
            auth.create_user(name, f"{name}-password", admin=name == "admin")
            self.tokens[name] = auth.create_token(name, "t")
        for name, level in RANK.items():
            auth.grant("user:" + name, int(self.exp), level)
        auth.grant("user:other", int(self.own), Level.MANAGE)
        self.tokens["expired"] = auth.create_token("manager", "old", expires_at=1)
        self.tokens["revoked"] = auth.create_token("manager", "gone")
        auth.revoke_token("manager", "gone")
        self.tokens["bad-token"] = "sat_" + "A" * 43
        # the registry: grants per registered model; "doomed" ones are what deletes remove
        self.model, self.doomed_model = "team-model", "doomed-model"
        for model in (self.model, self.doomed_model):
            self.store.create_registered_model(model)
            self.store.create_model_version(model, f"runs:/{self.run}/model", self.run)
            for name, level in RANK.items():
                auth.grant_model("user:" + name, model, level)
        self.logged = self.store.create_logged_model(self.exp, "model", self.run).model_id
        self.doomed_logged = self.store.create_logged_model(self.exp, "gone", self.run).model_id

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def snapshot(self) -> Any:
        conn = sqlite3.connect(self.db)
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith(("sqlite_", "auth_"))
        ]
        rows = {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in tables}
        conn.close()
        files = sorted(
            (str(p.relative_to(self.artifacts)), p.read_bytes() if p.is_file() else None)
            for p in self.artifacts.rglob("*")
        )
        return rows, files


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[World, str]]:
    w = World(tmp_path)
    context = ServerContext(w.store, str(w.artifacts), f"sqlite:///{w.db}")
    app = create_app(context=context, authorizer=make_authorizer(context))
    with BackgroundServer(app) as url:
        yield w, url
    w.store.close()


CSRF = "c" * 43
UI_PATH = {"{ids}": "exp", "{id}": "exp", "{run_id}": "run", "{name}": "app.js"}


def _ui_request(w: World, entry: RouteEntry) -> tuple[str, str, Any, bytes | None]:
    path = entry.path
    for name, attr in UI_PATH.items():
        path = path.replace(name, getattr(w, attr, attr))
    if entry.kind != "write":
        query = f"runs={w.run}&run={w.run}&key=m&path=f.txt"
        return "GET", f"{path}?{query}", None, None
    body = {"name": "ui-exp", "run_ids": [w.run], "experiment_id": w.exp, "key": "t3",
            "value": "1", "text": "a description"}  # fmt: skip
    return "POST", path, body, None


def _headers(w: World, entry: RouteEntry, caller: str) -> dict[str, str]:
    headers = w.headers(caller)
    if entry.kind == "write":  # past the CSRF check, so the authorizer decides
        headers.update(
            {"Cookie": f"satchel_csrf={CSRF}", "X-Satchel-CSRF": CSRF,
             "Content-Type": "application/json"}
        )  # fmt: skip
    return headers


def _request(w: World, entry: RouteEntry) -> tuple[str, str, Any, bytes | None]:
    if entry.is_ui:
        return _ui_request(w, entry)
    method = "GET" if entry.methods == ("GET",) else entry.methods[0]
    artifact = f"{w.exp}/{w.run}/artifacts/f.txt"
    path = entry.path.replace("{path:path}", artifact)
    fields: dict[str, Any] = {
        "experiment_id": w.exp, "experiment_ids": [w.exp], "experiment_name": w.exp_name,
        "run_id": w.run, "run_uuid": w.run, "key": "t2", "value": "1", "metric_key": "m",
        "name": "new-exp", "new_name": w.exp_name, "prefix": w.run[:8], "status": "RUNNING",
        "path": f"{w.exp}/{w.run}/artifacts", "timestamp": 1, "step": 0,
    }  # fmt: skip
    if entry.resource == "registered_model" or "/registered-models/" in path:
        doomed = path.endswith("/registered-models/delete")
        model = w.doomed_model if doomed else w.model
        fields.update({"name": model, "new_name": model, "version": "1", "alias": "champion",
                       "stage": "Staging", "source": f"runs:/{w.run}/model"})  # fmt: skip
        if path.endswith("/registered-models/create"):
            fields["name"] = "new-model"
    doomed = method == "DELETE" and path.endswith("{model_id}")
    path = path.replace("{model_id}", w.doomed_logged if doomed else w.logged)
    path = path.replace("{tag_key:path}", "k")
    if entry.kind == "raw":
        return method, path, None, b"new bytes" if method == "PUT" else None
    if method == "GET":
        query = "&".join(f"{k}={v}" for k, v in fields.items() if not isinstance(v, list))
        return method, f"{path}?{query}&experiment_ids={w.exp}", None, None
    return method, path, fields, None


def _expected(entry: RouteEntry, caller: str) -> str:
    if entry.permission is Permission.PUBLIC:
        return "allowed"
    if caller in REFUSED_401:
        return "401"
    if caller == "admin" or entry.resource == "server":
        return "allowed"
    held = RANK.get(caller, Level.NONE)
    return "allowed" if held >= Level[entry.permission.value] else "403"


@pytest.mark.slow
def test_every_route_for_every_caller(world: tuple[World, str]) -> None:
    w, url = world
    failures, seen = [], set()
    for entry in ROUTES:
        method, path, body, raw = _request(w, entry)
        # refusals first (the state must not move), then the callers allowed in
        order = sorted(CALLERS, key=lambda c: _expected(entry, c) == "allowed")
        for caller in order:
            expected = _expected(entry, caller)
            before = w.snapshot() if expected != "allowed" else None
            status, answer = call(url, method, path, body, _headers(w, entry, caller), raw)
            got = {401: "401", 403: "403"}.get(status, "allowed")
            seen.add(expected)
            if got != expected or (got == "allowed" and status >= 500 and status != 501):
                failures.append((method, entry.path, caller, expected, status))
            if before is not None:
                assert w.snapshot() == before, (method, entry.path, caller)
                if not entry.is_ui:
                    assert answer["error_code"] in ("UNAUTHENTICATED", "PERMISSION_DENIED")
                for token in w.tokens.values():
                    assert token not in str(answer)
    assert failures == []
    assert seen == {"401", "403", "allowed"}


def test_refusals_are_mlflow_json(world: tuple[World, str]) -> None:
    w, url = world
    status, body = call(url, "GET", f"/api/2.0/mlflow/runs/get?run_id={w.run}")
    assert status == 401 and body["error_code"] == "UNAUTHENTICATED"
    status, body = call(url, "POST", "/api/2.0/mlflow/runs/delete", {"run_id": w.run},
                        w.headers("editor"))  # fmt: skip
    assert status == 403 and body["error_code"] == "PERMISSION_DENIED"
    assert call(url, "GET", "/health")[0] == 200


def test_creator_manages_and_listings_are_filtered(world: tuple[World, str]) -> None:
    w, url = world
    api = "/api/2.0/mlflow/experiments"
    status, body = call(url, "POST", f"{api}/create", {"name": "mine"}, w.headers("reader"))
    assert status == 200
    mine = body["experiment_id"]
    status, _ = call(url, "POST", f"{api}/delete", {"experiment_id": mine}, w.headers("reader"))
    assert status == 200
    status, body = call(url, "POST", f"{api}/search", {"max_results": 100}, w.headers("other"))
    assert [e["name"] for e in body["experiments"]] == ["others-exp"]
    status, body = call(url, "POST", f"{api}/search", {"max_results": 100}, w.headers("admin"))
    assert {e["name"] for e in body["experiments"]} == {"Default", "team-exp", "others-exp"}


def test_failed_logins_are_rate_limited(world: tuple[World, str]) -> None:
    import base64

    w, url = world
    bad = {"Authorization": "Basic " + base64.b64encode(b"reader:wrong-guess").decode()}
    good = {"Authorization": "Basic " + base64.b64encode(b"reader:reader-password").decode()}
    path = f"/api/2.0/mlflow/runs/get?run_id={w.run}"
    assert call(url, "GET", path, headers=good)[0] == 200
    statuses = [call(url, "GET", path, headers=bad)[0] for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    status, body = call(url, "GET", path, headers=good)
    assert status == 429 and body["error_code"] == "REQUEST_LIMIT_EXCEEDED"
