"""Permissions per registered model on a server with auth: the creator manages it, others
need a grant (``satchel server grant ... --registered-model``), refusals are MLflow's 403
JSON, listings show only readable models, and a rename or delete carries the grants along."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.server_helpers import call

from conftest import run_cli
from satchel.server.app import create_app
from satchel.server.auth.authorizer import make_authorizer
from satchel.server.auth.store import AuthStore
from satchel.server.context import ServerContext
from satchel.server.serve import BackgroundServer
from satchel.tracking.store.sqlite import SqliteStore

API = "/api/2.0/mlflow"


class Team:
    def __init__(self, url: str, tokens: dict[str, str], db: Path) -> None:
        self.url, self.tokens, self.db = url, tokens, db

    def as_(self, user: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        full = path if path.startswith("/") else f"{API}/{path}"
        return call(self.url, method, full, body, headers)

    def admin(self, *args: str) -> None:
        done = run_cli("server", *args, "--registered-model", "--backend-store-uri", str(self.db))
        assert done.returncode == 0, done.stderr


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    db = tmp_path / "satchel.db"
    store = SqliteStore(str(db), str(tmp_path / "artifacts"))
    auth = AuthStore(store)
    tokens = {}
    for name in ("alice", "bob"):
        auth.create_user(name, f"{name}-password")
        tokens[name] = auth.create_token(name, "t")
    context = ServerContext(store, str(tmp_path / "artifacts"), f"sqlite:///{db}")
    with BackgroundServer(create_app(context=context, authorizer=make_authorizer(context))) as url:
        yield Team(url, tokens, db)
    store.close()


def _denied(answer: tuple[int, Any]) -> bool:
    status, body = answer
    return status == 403 and body["error_code"] == "PERMISSION_DENIED" and "wine" in body["message"]


def test_the_creator_manages_and_others_need_a_grant(team: Team) -> None:
    assert team.as_("alice", "POST", "registered-models/create", {"name": "wine"})[0] == 200
    version = {"name": "wine", "source": "runs:/" + "a" * 32 + "/model"}
    assert team.as_("alice", "POST", "model-versions/create", version)[0] == 200
    stage = {"name": "wine", "version": "1", "stage": "Production"}
    assert _denied(team.as_("bob", "GET", "registered-models/get?name=wine"))
    assert _denied(team.as_("bob", "POST", "model-versions/transition-stage", stage))
    assert team.as_("bob", "GET", "registered-models/search")[1]["registered_models"] == []
    assert team.as_("bob", "GET", "model-versions/search")[1]["model_versions"] == []

    team.admin("grant", "bob", "wine", "READ")
    status, body = team.as_("bob", "GET", "registered-models/get?name=wine")
    assert status == 200 and body["registered_model"]["name"] == "wine"
    assert [m["name"] for m in team.as_("bob", "GET", "registered-models/search")[1][
        "registered_models"]] == ["wine"]  # fmt: skip
    assert _denied(team.as_("bob", "POST", "model-versions/transition-stage", stage))
    alias = {"name": "wine", "alias": "champion", "version": "1"}
    assert _denied(team.as_("bob", "POST", "registered-models/alias", alias))

    team.admin("grant", "bob", "wine", "EDIT")
    status, body = team.as_("bob", "POST", "model-versions/transition-stage", stage)
    assert status == 200 and body["model_version"]["current_stage"] == "Production"
    assert team.as_("bob", "POST", "registered-models/alias", alias)[0] == 200
    gone = {"name": "wine", "version": "1"}
    assert _denied(team.as_("bob", "DELETE", "model-versions/delete", gone))  # MANAGE
    assert _denied(team.as_("bob", "DELETE", "registered-models/delete", {"name": "wine"}))
    events = team.as_("bob", "GET", "/api/2.0/satchel/registry/history?name=wine")[1]["events"]
    assert [(e["user"], e["action"]) for e in events][:2] == [
        ("bob", "set_alias"),
        ("bob", "transition_stage"),
    ]

    # a rename carries the grants; a delete drops them (a new "wine2" starts with none)
    rename = {"name": "wine", "new_name": "wine2"}
    assert team.as_("alice", "POST", "registered-models/rename", rename)[0] == 200
    assert team.as_("bob", "GET", "registered-models/get?name=wine2")[0] == 200
    assert team.as_("alice", "DELETE", "registered-models/delete", {"name": "wine2"})[0] == 200
    assert team.as_("alice", "POST", "registered-models/create", {"name": "wine2"})[0] == 200
    assert _denied(team.as_("bob", "GET", "registered-models/get?name=wine2"))
    grants = sqlite3.connect(team.db).execute(
        "SELECT principal, model_name, level FROM auth_model_grants ORDER BY principal"
    )
    assert list(grants) == [("user:alice", "wine2", "MANAGE")]
    team.admin("revoke", "alice", "wine2")
    assert _denied(team.as_("alice", "GET", "registered-models/get?name=wine2"))
