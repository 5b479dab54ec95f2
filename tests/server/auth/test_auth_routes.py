"""Deny by default, walked over the routes table: every route declares a permission the
authorizer knows and a resource it can resolve; anything else is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.server.auth.policy import AuthError, Policy
from satchel.server.auth.store import AuthStore
from satchel.server.routes import ROUTES, Permission
from satchel.tracking.store.sqlite import SqliteStore


@pytest.fixture
def policy(tmp_path: Path):
    store = SqliteStore(str(tmp_path / "s.db"), str(tmp_path / "a"))
    auth = AuthStore(store)
    auth.create_user("bob", "bob-password")
    yield Policy(auth, lambda run: None, lambda name: None), auth
    store.close()


def test_every_route_declares_a_permission_the_authorizer_decides(policy) -> None:
    checker, auth = policy
    bob = auth.principal("bob")
    assert bob is not None
    for entry in ROUTES:
        assert isinstance(entry.permission, Permission), f"{entry.path} declares no permission"
        try:  # an unknown permission or resource raises; nothing found is left to the handler
            checker.authorize(bob, entry.permission.value, entry.resource, {})
        except AuthError as exc:
            assert "no rule" not in exc.message, entry.path
            assert entry.resource == "artifact"  # a path outside any experiment: default NONE


def test_a_route_without_a_known_resource_or_level_is_refused(policy) -> None:
    checker, auth = policy
    bob = auth.principal("bob")
    with pytest.raises(AuthError, match="no rule"):
        checker.authorize(bob, "READ", "prompt", {"name": "m"})
    with pytest.raises(AuthError, match="no rule"):
        checker.authorize(bob, "", "server", {})
