"""``satchel server users|tokens|groups|grant|revoke|default-permission`` through the real CLI
on a real store: passwords never on the command line, a token printed once and never again,
one-line errors; ``--auth`` on by default off loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.server.server_helpers import ServerProcess, call

from conftest import run_cli
from satchel.server.auth.store import AuthStore, Level
from satchel.tracking.store.sqlite import SqliteStore


def _admin(store: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "satchel", "server", *args, "--backend-store-uri", str(store)],
        input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_users_tokens_groups_and_grants(tmp_path: Path) -> None:
    store = tmp_path / "team"
    made = _admin(store, "users", "create", "alice", "--password-stdin", stdin="alice-pass\n")
    assert made.returncode == 0, made.stderr
    assert (
        _admin(store, "users", "create", "bob", "--password-stdin", stdin="bob-pass!\n").returncode
        == 0
    )
    short = _admin(store, "users", "create", "carol", "--password-stdin", stdin="x\n")
    assert short.returncode == 1 and "too short" in short.stderr
    assert len(short.stderr.strip().splitlines()) == 1
    assert _admin(store, "users", "list").stdout.split() == ["alice", "bob"]

    token = _admin(store, "tokens", "create", "alice", "ci", "--expires-in", "1").stdout.strip()
    assert token.startswith("sat_")
    listed = _admin(store, "tokens", "list").stdout
    assert "alice\tci\tactive" in listed and token not in listed

    assert _admin(store, "groups", "create", "ml").returncode == 0
    assert _admin(store, "groups", "add", "ml", "bob").returncode == 0
    assert _admin(store, "groups", "list").stdout.strip() == "ml: bob"

    tracking = SqliteStore(str(store / "satchel.db"), str(store / "artifacts"))
    exp = tracking.create_experiment("Wine Regression")
    granted = _admin(store, "grant", "group:ml", "Wine Regression", "edit")
    assert granted.returncode == 0 and f"experiment {exp}" in granted.stdout
    assert _admin(store, "grant", "alice", exp, "READ").returncode == 0
    auth = AuthStore(tracking)
    bob = auth.principal("bob")
    assert bob is not None and auth.levels(bob, [int(exp)]) == {int(exp): Level.EDIT}
    assert _admin(store, "revoke", "group:ml", exp).returncode == 0
    assert auth.levels(bob, [int(exp)]) == {}
    missing = _admin(store, "grant", "nobody", exp, "READ")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr
    assert _admin(store, "default-permission", "read").returncode == 0
    assert auth.default_level() is Level.READ
    assert _admin(store, "tokens", "revoke", "alice", "ci").returncode == 0
    assert auth.token_owner(token) is None
    tracking.close()


def test_auth_is_on_by_default_off_loopback(tmp_path: Path) -> None:
    server = ServerProcess("--host", "0.0.0.0", "--backend-store-uri", str(tmp_path / "s"),
                           cwd=tmp_path)  # fmt: skip
    try:
        port = server.url.rsplit(":", 1)[1]
        status, body = call(f"http://127.0.0.1:{port}", "GET", "/api/2.0/mlflow/runs/search")
        assert (status, body["error_code"]) == (401, "UNAUTHENTICATED")
        assert call(f"http://127.0.0.1:{port}", "GET", "/health")[0] == 200
    finally:
        server.stop()
    local = ServerProcess("--backend-store-uri", str(tmp_path / "s"), cwd=tmp_path)
    try:
        status, _ = call(local.url, "POST", "/api/2.0/mlflow/experiments/search", {})
        assert status == 200  # one person's laptop: open
    finally:
        local.stop()


def test_password_never_on_the_command_line() -> None:
    help_text = run_cli("server", "users", "create", "--help").stdout
    assert "--password-stdin" in help_text and "--password " not in help_text
