"""Users, API tokens, groups and grants (per experiment, per registered model), kept in the
tracking database.

``AuthStore`` wraps the tracking store's own ``Database`` (SQLite or PostgreSQL): one short
transaction per call, like the stores. Secrets are stored hashed (``secrets``); a token is
returned once, by ``create_token``, and never again.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.server.auth import secrets
from satchel.server.auth.schema import Sql, ensure_schema

__all__ = ["AuthStore", "Level", "Principal", "TokenInfo"]

T = TypeVar("T")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class Level(int, enum.Enum):
    """What a principal may do on an experiment (MLflow's levels, ordered)."""

    NONE = 0
    READ = 1
    EDIT = 2
    MANAGE = 3

    @classmethod
    def parse(cls, text: str, allowed: tuple[str, ...] = ("READ", "EDIT", "MANAGE")) -> Level:
        if text.upper() not in allowed:
            raise InvalidValueError(f"unknown level {text!r}", hint=f"use {', '.join(allowed)}")
        return cls[text.upper()]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    username: str
    is_admin: bool
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenInfo:
    name: str
    username: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None


def _now_ms() -> int:
    return int(time.time() * 1000)


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidValueError(
            f"{kind} name {name!r} is not valid",
            hint="use letters, digits and . _ @ - (at most 100 characters)",
        )
    return name


class AuthStore:
    def __init__(self, tracking_store: Any) -> None:
        self.db = tracking_store.db
        self.postgres = type(tracking_store).__name__ == "PostgresStore"
        ensure_schema(self.db, self.postgres)

    def _write(self, fn: Callable[[Sql], T]) -> T:
        result: T = self.db.write(lambda conn: fn(Sql(conn, self.postgres)))
        return result

    def _read(self, fn: Callable[[Sql], T]) -> T:
        result: T = self.db.read(lambda conn: fn(Sql(conn, self.postgres)))
        return result

    # -- users -------------------------------------------------------------------------
    def create_user(self, username: str, password: str, admin: bool = False) -> None:
        check_name("user", username)
        digest = secrets.hash_password(password)

        def work(sql: Sql) -> None:
            if sql.one("SELECT 1 FROM auth_users WHERE username = ?", (username,)):
                raise AlreadyExistsError(f"user {username!r} already exists", hint="pick another")
            sql.execute(
                "INSERT INTO auth_users VALUES (?, ?, ?, ?)",
                (username, digest, int(admin), _now_ms()),
            )

        self._write(work)

    def set_password(self, username: str, password: str) -> None:
        digest = secrets.hash_password(password)
        self._change_user("UPDATE auth_users SET password_hash = ? WHERE username = ?",
                          (digest, username), username)  # fmt: skip

    def set_admin(self, username: str, admin: bool) -> None:
        self._change_user("UPDATE auth_users SET is_admin = ? WHERE username = ?",
                          (int(admin), username), username)  # fmt: skip

    def delete_user(self, username: str) -> None:
        def work(sql: Sql) -> None:
            for table in ("auth_grants", "auth_model_grants"):
                sql.execute(f"DELETE FROM {table} WHERE principal = ?", ("user:" + username,))  # noqa: S608
            if sql.execute("DELETE FROM auth_users WHERE username = ?", (username,)).rowcount == 0:
                raise _no_user(username)

        self._write(work)

    def _change_user(self, sql_text: str, args: tuple, username: str) -> None:
        def work(sql: Sql) -> None:
            if sql.execute(sql_text, args).rowcount == 0:
                raise _no_user(username)

        self._write(work)

    def list_users(self) -> list[tuple[str, bool]]:
        rows = self._read(lambda sql: sql.all(
            "SELECT username, is_admin FROM auth_users ORDER BY username"))  # fmt: skip
        return [(name, bool(admin)) for name, admin in rows]

    def principal(self, username: str) -> Principal | None:
        def work(sql: Sql) -> Principal | None:
            row = sql.one("SELECT is_admin FROM auth_users WHERE username = ?", (username,))
            if row is None:
                return None
            groups = sql.all(
                "SELECT group_name FROM auth_members WHERE username = ? ORDER BY group_name",
                (username,),
            )
            return Principal(username, bool(row[0]), tuple(g[0] for g in groups))

        return self._read(work)

    def password_hash(self, username: str) -> str | None:
        row = self._read(lambda sql: sql.one(
            "SELECT password_hash FROM auth_users WHERE username = ?", (username,)))  # fmt: skip
        return str(row[0]) if row and row[0] else None

    # -- tokens ------------------------------------------------------------------------
    def create_token(self, username: str, name: str, expires_at: int | None = None) -> str:
        """A new token for ``username``: returned now, stored only as its hash."""
        check_name("token", name)
        token, digest = secrets.new_token()

        def work(sql: Sql) -> None:
            if not sql.one("SELECT 1 FROM auth_users WHERE username = ?", (username,)):
                raise _no_user(username)
            if sql.one("SELECT 1 FROM auth_tokens WHERE username = ? AND name = ?",
                       (username, name)):  # fmt: skip
                raise AlreadyExistsError(
                    f"user {username!r} already has a token named {name!r}",
                    hint="pick another name, or revoke that one",
                )
            sql.execute(
                "INSERT INTO auth_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (digest, username, name, _now_ms(), expires_at),
            )

        self._write(work)
        return token

    def token_owner(self, token: str, now_ms: int | None = None) -> str | None:
        """The user a valid (known, unexpired, unrevoked) token belongs to."""
        now = _now_ms() if now_ms is None else now_ms
        row = self._read(lambda sql: sql.one(
            "SELECT username, expires_at, revoked_at FROM auth_tokens WHERE token_hash = ?",
            (secrets.hash_token(token),)))  # fmt: skip
        if row is None or row[2] is not None or (row[1] is not None and row[1] <= now):
            return None
        return str(row[0])

    def list_tokens(self, username: str | None = None) -> list[TokenInfo]:
        where, args = ("WHERE username = ?", (username,)) if username else ("", ())
        query = (
            "SELECT name, username, created_at, expires_at, revoked_at FROM auth_tokens "  # noqa: S608
            f"{where} ORDER BY username, name"
        )
        rows = self._read(lambda sql: sql.all(query, args))
        return [TokenInfo(*row) for row in rows]

    def revoke_token(self, username: str, name: str) -> None:
        def work(sql: Sql) -> None:
            changed = sql.execute(
                "UPDATE auth_tokens SET revoked_at = ? WHERE username = ? AND name = ? "
                "AND revoked_at IS NULL",
                (_now_ms(), username, name),
            ).rowcount
            if changed == 0:
                raise NotFoundError(
                    f"user {username!r} has no active token named {name!r}",
                    hint="see them with 'satchel server tokens list'",
                )

        self._write(work)

    # -- groups ------------------------------------------------------------------------
    def create_group(self, name: str) -> None:
        check_name("group", name)

        def work(sql: Sql) -> None:
            if sql.one("SELECT 1 FROM auth_groups WHERE name = ?", (name,)):
                raise AlreadyExistsError(f"group {name!r} already exists", hint="pick another")
            sql.execute("INSERT INTO auth_groups VALUES (?, ?)", (name, _now_ms()))

        self._write(work)

    def delete_group(self, name: str) -> None:
        def work(sql: Sql) -> None:
            for table in ("auth_grants", "auth_model_grants"):
                sql.execute(f"DELETE FROM {table} WHERE principal = ?", ("group:" + name,))  # noqa: S608
            if sql.execute("DELETE FROM auth_groups WHERE name = ?", (name,)).rowcount == 0:
                raise _no_group(name)

        self._write(work)

    def set_member(self, group: str, username: str, member: bool) -> None:
        def work(sql: Sql) -> None:
            if not sql.one("SELECT 1 FROM auth_groups WHERE name = ?", (group,)):
                raise _no_group(group)
            if not sql.one("SELECT 1 FROM auth_users WHERE username = ?", (username,)):
                raise _no_user(username)
            sql.execute("DELETE FROM auth_members WHERE group_name = ? AND username = ?",
                        (group, username))  # fmt: skip
            if member:
                sql.execute("INSERT INTO auth_members VALUES (?, ?)", (group, username))

        self._write(work)

    def list_groups(self) -> list[tuple[str, list[str]]]:
        def work(sql: Sql) -> list[tuple[str, list[str]]]:
            members: dict[str, list[str]] = {
                name: [] for (name,) in sql.all("SELECT name FROM auth_groups ORDER BY name")
            }
            for group, user in sql.all(
                "SELECT group_name, username FROM auth_members ORDER BY username"
            ):
                members[group].append(user)
            return list(members.items())

        return self._read(work)

    # -- grants and the default --------------------------------------------------------
    def grant(self, principal: str, experiment_id: int, level: Level) -> None:
        def work(sql: Sql) -> None:
            _require_principal(sql, principal)
            sql.execute(
                "INSERT INTO auth_grants VALUES (?, ?, ?) ON CONFLICT (principal, experiment_id) "
                "DO UPDATE SET level = excluded.level",
                (principal, experiment_id, level.name),
            )

        self._write(work)

    def revoke(self, principal: str, experiment_id: int) -> None:
        def work(sql: Sql) -> None:
            gone = sql.execute(
                "DELETE FROM auth_grants WHERE principal = ? AND experiment_id = ?",
                (principal, experiment_id),
            ).rowcount
            if gone == 0:
                raise NotFoundError(
                    f"{principal} has no grant on experiment {experiment_id}",
                    hint="nothing to revoke",
                )

        self._write(work)

    def levels(self, principal: Principal, experiment_ids: list[int]) -> dict[int, Level]:
        """The best grant of the user or any of their groups on each experiment."""
        names = ["user:" + principal.username, *("group:" + g for g in principal.groups)]
        best: dict[int, Level] = {}
        if not experiment_ids:
            return best
        marks_p = ",".join("?" * len(names))
        marks_e = ",".join("?" * len(experiment_ids))
        rows = self._read(lambda sql: sql.all(
            f"SELECT experiment_id, level FROM auth_grants WHERE principal IN ({marks_p}) "  # noqa: S608
            f"AND experiment_id IN ({marks_e})", (*names, *experiment_ids)))  # fmt: skip
        for exp_id, level in rows:
            best[int(exp_id)] = max(best.get(int(exp_id), Level.NONE), Level[level])
        return best

    # -- grants on registered models (by name) -----------------------------------------
    def grant_model(self, principal: str, model_name: str, level: Level) -> None:
        def work(sql: Sql) -> None:
            _require_principal(sql, principal)
            sql.execute(
                "INSERT INTO auth_model_grants VALUES (?, ?, ?) ON CONFLICT "
                "(principal, model_name) DO UPDATE SET level = excluded.level",
                (principal, model_name, level.name),
            )

        self._write(work)

    def revoke_model(self, principal: str, model_name: str) -> None:
        def work(sql: Sql) -> None:
            gone = sql.execute(
                "DELETE FROM auth_model_grants WHERE principal = ? AND model_name = ?",
                (principal, model_name),
            ).rowcount
            if gone == 0:
                raise NotFoundError(
                    f"{principal} has no grant on registered model {model_name!r}",
                    hint="nothing to revoke",
                )

        self._write(work)

    def model_levels(self, principal: Principal, names: list[str]) -> dict[str, Level]:
        """The best grant of the user or any of their groups on each registered model."""
        who = ["user:" + principal.username, *("group:" + g for g in principal.groups)]
        best: dict[str, Level] = {}
        if not names:
            return best
        marks_p, marks_n = ",".join("?" * len(who)), ",".join("?" * len(names))
        rows = self._read(lambda sql: sql.all(
            f"SELECT model_name, level FROM auth_model_grants WHERE principal IN ({marks_p}) "  # noqa: S608
            f"AND model_name IN ({marks_n})", (*who, *names)))  # fmt: skip
        for name, level in rows:
            best[name] = max(best.get(name, Level.NONE), Level[level])
        return best

    def rename_model_grants(self, old: str, new: str) -> None:
        sql_text = "UPDATE auth_model_grants SET model_name = ? WHERE model_name = ?"
        self._write(lambda sql: sql.execute(sql_text, (new, old)))

    def drop_model_grants(self, name: str) -> None:
        self._write(lambda sql: sql.execute(
            "DELETE FROM auth_model_grants WHERE model_name = ?", (name,)))  # fmt: skip

    def default_level(self) -> Level:
        row = self._read(lambda sql: sql.one(
            "SELECT value FROM auth_settings WHERE key = 'default_permission'"))  # fmt: skip
        return Level[row[0]] if row else Level.NONE

    def set_default_level(self, level: Level) -> None:
        self._write(lambda sql: sql.execute(
            "INSERT INTO auth_settings VALUES ('default_permission', ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value", (level.name,)))  # fmt: skip


def _require_principal(sql: Sql, principal: str) -> None:
    """``user:NAME`` or ``group:NAME`` must exist before it is granted anything."""
    kind, _, name = principal.partition(":")
    if kind == "user":
        if not sql.one("SELECT 1 FROM auth_users WHERE username = ?", (name,)):
            raise _no_user(name)
    elif not sql.one("SELECT 1 FROM auth_groups WHERE name = ?", (name,)):
        raise _no_group(name)


def _no_user(name: str) -> NotFoundError:
    return NotFoundError(f"no user {name!r}", hint="see them with 'satchel server users list'")


def _no_group(name: str) -> NotFoundError:
    return NotFoundError(f"no group {name!r}", hint="see them with 'satchel server groups list'")
