"""AuthStore on both databases: users with scrypt-hashed passwords, tokens stored hashed
(shown once, expiring, revocable, named), groups, grants and the server-wide default."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import drop_postgres_database, new_postgres_database
from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.server.auth import secrets
from satchel.server.auth.store import AuthStore, Level, Principal
from satchel.tracking.store.postgres import PostgresStore
from satchel.tracking.store.sqlite import SqliteStore


@contextlib.contextmanager
def _sqlite(tmp_path: Path) -> Iterator[AuthStore]:
    store = SqliteStore(str(tmp_path / "satchel.db"), str(tmp_path / "artifacts"))
    yield AuthStore(store)
    store.close()


@contextlib.contextmanager
def _postgres(tmp_path: Path) -> Iterator[AuthStore]:
    uri = new_postgres_database()
    store = PostgresStore(uri, str(tmp_path / "artifacts"))
    yield AuthStore(store)
    store.close()
    drop_postgres_database(uri)


@pytest.fixture(params=["sqlite", "postgresql"])
def auth(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuthStore]:
    with {"sqlite": _sqlite, "postgresql": _postgres}[request.param](tmp_path) as store:
        yield store


def test_passwords_are_hashed_with_scrypt(auth: AuthStore) -> None:
    auth.create_user("alice", "correct horse")
    stored = auth.password_hash("alice")
    assert stored is not None and stored.startswith("scrypt$") and "correct" not in stored
    assert secrets.verify_password("correct horse", stored)
    assert not secrets.verify_password("wrong horse", stored)
    auth.set_password("alice", "battery staple")
    assert secrets.verify_password("battery staple", auth.password_hash("alice") or "")
    with pytest.raises(InvalidValueError, match="too short"):
        auth.create_user("bob", "short")
    with pytest.raises(AlreadyExistsError):
        auth.create_user("alice", "another one")
    with pytest.raises(InvalidValueError, match="not valid"):
        auth.create_user("no spaces", "long enough")


def test_tokens_shown_once_stored_hashed_expiring_revocable(auth: AuthStore) -> None:
    auth.create_user("alice", "correct horse")
    token = auth.create_token("alice", "laptop")
    assert token.startswith("sat_") and len(token) > 40
    assert auth.token_owner(token) == "alice"
    assert auth.token_owner(token + "x") is None
    [info] = auth.list_tokens("alice")
    assert info.name == "laptop" and info.revoked_at is None and token not in repr(info)
    with pytest.raises(AlreadyExistsError, match="laptop"):
        auth.create_token("alice", "laptop")
    soon = auth.create_token("alice", "ci", expires_at=int(time.time() * 1000) + 60_000)
    assert auth.token_owner(soon) == "alice"
    assert auth.token_owner(soon, now_ms=int(time.time() * 1000) + 120_000) is None
    auth.revoke_token("alice", "laptop")
    assert auth.token_owner(token) is None
    with pytest.raises(NotFoundError):
        auth.revoke_token("alice", "laptop")
    auth.delete_user("alice")
    assert auth.token_owner(soon) is None and auth.principal("alice") is None


def test_groups_grants_and_default(auth: AuthStore) -> None:
    auth.create_user("alice", "correct horse")
    auth.create_user("root", "correct horse", admin=True)
    auth.create_group("ml")
    auth.set_member("ml", "alice", True)
    assert auth.principal("alice") == Principal("alice", False, ("ml",))
    assert auth.principal("root") == Principal("root", True, ())
    alice = auth.principal("alice")
    assert alice is not None
    auth.grant("user:alice", 1, Level.READ)
    auth.grant("group:ml", 1, Level.EDIT)
    auth.grant("user:alice", 2, Level.MANAGE)
    assert auth.levels(alice, [1, 2, 3]) == {1: Level.EDIT, 2: Level.MANAGE}
    auth.revoke("group:ml", 1)
    assert auth.levels(alice, [1]) == {1: Level.READ}
    with pytest.raises(NotFoundError):
        auth.grant("user:nobody", 1, Level.READ)
    assert auth.default_level() is Level.NONE
    auth.set_default_level(Level.READ)
    assert auth.default_level() is Level.READ
    assert auth.list_groups() == [("ml", ["alice"])]
    auth.delete_group("ml")
    assert auth.principal("alice") == Principal("alice", False, ())
