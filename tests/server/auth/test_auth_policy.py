"""Policy: credentials (Bearer, Basic with password or token) → principal, failed-login
limits per user and address, and the per-experiment decision, deny by default."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from satchel.server.auth.policy import AuthError, FailedLogins, Policy, experiment_of_artifact
from satchel.server.auth.store import AuthStore, Level
from satchel.tracking.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.fixture
def world(tmp_path: Path):
    store = SqliteStore(str(tmp_path / "s.db"), str(tmp_path / "a"))
    auth = AuthStore(store)
    auth.create_user("alice", "alice-password")
    auth.create_user("bob", "bob-password")
    auth.create_user("root", "root-password", admin=True)
    exp = store.create_experiment("alices")
    run_id = store.create_run(exp, "alice", 0).info.run_id
    auth.grant("user:alice", int(exp), Level.MANAGE)

    def run_experiment(run: str) -> str | None:
        try:
            return store.get_run(run).info.experiment_id
        except Exception:
            return None

    def named(name: str) -> str | None:
        found = store.get_experiment_by_name(name)
        return found.experiment_id if found else None

    clock = Clock()
    policy = Policy(auth, run_experiment, named, FailedLogins(limit=3, window_s=60, clock=clock))
    yield policy, auth, exp, run_id, clock
    store.close()


def test_bearer_and_basic_credentials(world) -> None:
    policy, auth, *_ = world
    token = auth.create_token("alice", "t")
    assert policy.authenticate(f"Bearer {token}", "a").username == "alice"
    assert policy.authenticate(basic("alice", "alice-password"), "a").username == "alice"
    assert policy.authenticate(basic("alice", token), "a").username == "alice"
    for header in (None, "", "Bearer nope", basic("bob", token), basic("alice", "wrong"),
                   "Digest x", "Basic !!!"):  # fmt: skip
        with pytest.raises(AuthError) as err:
            policy.authenticate(header, "b")
        assert err.value.error_code == "UNAUTHENTICATED"
        assert token not in err.value.message and "wrong" not in err.value.message
    auth.revoke_token("alice", "t")
    with pytest.raises(AuthError, match="invalid credentials"):
        policy.authenticate(f"Bearer {token}", "a")


def test_failed_logins_are_limited_per_user_and_address(world) -> None:
    policy, _, _, _, clock = world
    for _ in range(3):
        with pytest.raises(AuthError):
            policy.authenticate(basic("bob", "guess"), "10.0.0.1")
    with pytest.raises(AuthError) as err:  # even the right password, for now
        policy.authenticate(basic("bob", "bob-password"), "10.0.0.1")
    assert err.value.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert policy.authenticate(basic("bob", "bob-password"), "10.0.0.2").username == "bob"
    assert policy.authenticate(basic("alice", "alice-password"), "10.0.0.1").username == "alice"
    clock.now += 61
    assert policy.authenticate(basic("bob", "bob-password"), "10.0.0.1").username == "bob"


def test_decisions_per_experiment(world) -> None:
    policy, auth, exp, run_id, _ = world
    alice = auth.principal("alice")
    bob = auth.principal("bob")
    root = auth.principal("root")
    cases = [
        ("experiment", {"experiment_id": exp}),
        ("experiments", {"experiment_ids": [exp]}),
        ("experiment_name", {"experiment_name": "alices"}),
        ("run", {"run_id": run_id}),
        ("artifact", {"path": f"{exp}/{run_id}/artifacts/x.txt"}),
    ]
    for resource, params in cases:
        for needed in ("READ", "EDIT", "MANAGE"):
            policy.authorize(alice, needed, resource, params)
            policy.authorize(root, needed, resource, params)
            with pytest.raises(AuthError) as err:
                policy.authorize(bob, needed, resource, params)
            assert err.value.error_code == "PERMISSION_DENIED"
    auth.set_default_level(Level.READ)
    policy.authorize(bob, "READ", "run", {"run_uuid": run_id})
    with pytest.raises(AuthError):
        policy.authorize(bob, "EDIT", "run", {"run_uuid": run_id})
    with pytest.raises(AuthError, match="no rule"):
        policy.authorize(bob, "READ", "something-new", {})
    policy.authorize(bob, "PUBLIC", "server", {})
    policy.authorize(bob, "EDIT", "server", {})  # e.g. create an experiment
    assert policy.visible(bob, ["0", exp]) == {"0", exp}
    auth.set_default_level(Level.NONE)
    assert policy.visible(bob, ["0", exp]) == set()
    assert policy.visible(alice, ["0", exp]) == {exp}


def test_experiment_of_artifact() -> None:
    assert experiment_of_artifact("3/abc/artifacts/x") == "3"
    assert experiment_of_artifact("/3/abc") == "3"
    assert experiment_of_artifact("models/x") is None
