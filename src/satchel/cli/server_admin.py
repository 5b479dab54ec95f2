"""``satchel server users|tokens|groups|grant|revoke|default-permission``: administration of
the server's users and permissions, run on the server's machine against its database.

Passwords are read from a hidden prompt or ``--password-stdin``, never from the command
line; a token is printed once, when it is created.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from satchel.cli import TRACKING_URI_HELP

__all__ = ["ADMIN_COMMANDS"]

_store_option = click.option(
    "--backend-store-uri",
    envvar="SATCHEL_TRACKING_URI",
    metavar="URI",
    help="The server's store. " + TRACKING_URI_HELP,
)
_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


def _auth(uri: str | None) -> Any:
    from satchel.server.auth.store import AuthStore
    from satchel.tracking.store import get_store

    return AuthStore(get_store(uri))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _experiment_id(uri: str | None, ref: str) -> int:
    from satchel.tracking.store import get_store

    store = get_store(uri)
    if ref.isdigit():
        return int(store.get_experiment(ref).experiment_id)
    found = store.get_experiment_by_name(ref)
    if found is None:
        from satchel.errors import NotFoundError

        raise NotFoundError(
            f"no experiment {ref!r}", hint="give an experiment id or an existing name"
        )
    return int(found.experiment_id)


def _principal(text: str) -> str:
    kind, sep, name = text.partition(":")
    if not sep:
        return "user:" + text
    if kind not in ("user", "group") or not name:
        from satchel.errors import UsageError

        raise UsageError(f"principal {text!r} is not valid", hint="write alice or group:ml")
    return text


@click.group()
def users() -> None:
    """Create, list and delete users; change passwords and admin rights."""


@users.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An administrator: every permission everywhere.")
@_password_stdin
@_store_option
def users_create(
    username: str, admin: bool, password_stdin: bool, backend_store_uri: str | None
) -> None:
    """Create the user USERNAME (asks for the password)."""
    _auth(backend_store_uri).create_user(username, _password(password_stdin), admin)
    click.echo(f"Created user {username}{' (admin)' if admin else ''}.")


@users.command("list")
@_store_option
def users_list(backend_store_uri: str | None) -> None:
    """List users."""
    for name, admin in _auth(backend_store_uri).list_users():
        click.echo(f"{name}{'  admin' if admin else ''}")


@users.command("delete")
@click.argument("username")
@_store_option
def users_delete(username: str, backend_store_uri: str | None) -> None:
    """Delete USERNAME with their tokens and grants."""
    _auth(backend_store_uri).delete_user(username)
    click.echo(f"Deleted user {username}.")


@users.command("set-password")
@click.argument("username")
@_password_stdin
@_store_option
def users_set_password(username: str, password_stdin: bool, backend_store_uri: str | None) -> None:
    """Change the password of USERNAME."""
    _auth(backend_store_uri).set_password(username, _password(password_stdin))
    click.echo(f"Changed the password of {username}.")


@users.command("set-admin")
@click.argument("username")
@click.argument("admin", type=click.BOOL)
@_store_option
def users_set_admin(username: str, admin: bool, backend_store_uri: str | None) -> None:
    """Make USERNAME an administrator (true) or not (false)."""
    _auth(backend_store_uri).set_admin(username, admin)
    click.echo(f"{username} is {'now' if admin else 'no longer'} an admin.")


@click.group()
def tokens() -> None:
    """Create, list and revoke API tokens (sent as Bearer, or as a Basic password)."""


@tokens.command("create")
@click.argument("username")
@click.argument("name")
@click.option("--expires-in", type=click.FloatRange(min=0, min_open=True), metavar="DAYS",
              help="Valid for this many days [default: until revoked].")  # fmt: skip
@_store_option
def tokens_create(
    username: str, name: str, expires_in: float | None, backend_store_uri: str | None
) -> None:
    """Create the token NAME for USERNAME and print it (this once only)."""
    expires = int((time.time() + expires_in * 86400) * 1000) if expires_in else None
    token = _auth(backend_store_uri).create_token(username, name, expires)
    click.echo(token)
    click.echo("Store it now: it is shown only once.", err=True)


@tokens.command("list")
@click.argument("username", required=False)
@_store_option
def tokens_list(username: str | None, backend_store_uri: str | None) -> None:
    """List tokens (names, never the tokens themselves), of USERNAME or of everyone."""
    from satchel.cli._output import fmt_time

    for info in _auth(backend_store_uri).list_tokens(username):
        state = "revoked" if info.revoked_at else "active"
        expires = fmt_time(info.expires_at) if info.expires_at else "never"
        click.echo(f"{info.username}\t{info.name}\t{state}\texpires {expires}")


@tokens.command("revoke")
@click.argument("username")
@click.argument("name")
@_store_option
def tokens_revoke(username: str, name: str, backend_store_uri: str | None) -> None:
    """Revoke the token NAME of USERNAME."""
    _auth(backend_store_uri).revoke_token(username, name)
    click.echo(f"Revoked token {name} of {username}.")


@click.group()
def groups() -> None:
    """Create, list and delete groups; add and remove members."""


@groups.command("create")
@click.argument("name")
@_store_option
def groups_create(name: str, backend_store_uri: str | None) -> None:
    """Create the group NAME."""
    _auth(backend_store_uri).create_group(name)
    click.echo(f"Created group {name}.")


@groups.command("delete")
@click.argument("name")
@_store_option
def groups_delete(name: str, backend_store_uri: str | None) -> None:
    """Delete the group NAME and its grants."""
    _auth(backend_store_uri).delete_group(name)
    click.echo(f"Deleted group {name}.")


@groups.command("list")
@_store_option
def groups_list(backend_store_uri: str | None) -> None:
    """List groups and their members."""
    for name, members in _auth(backend_store_uri).list_groups():
        click.echo(f"{name}: {', '.join(members) or '(no members)'}")


@groups.command("add")
@click.argument("name")
@click.argument("username")
@_store_option
def groups_add(name: str, username: str, backend_store_uri: str | None) -> None:
    """Add USERNAME to the group NAME."""
    _auth(backend_store_uri).set_member(name, username, True)
    click.echo(f"Added {username} to {name}.")


@groups.command("remove")
@click.argument("name")
@click.argument("username")
@_store_option
def groups_remove(name: str, username: str, backend_store_uri: str | None) -> None:
    """Remove USERNAME from the group NAME."""
    _auth(backend_store_uri).set_member(name, username, False)
    click.echo(f"Removed {username} from {name}.")


_MODEL_OPTION = click.option(
    "--registered-model",
    "model",
    is_flag=True,
    help="TARGET names a registered model, not an experiment.",
)


@click.command("grant")
@click.argument("principal")
@click.argument("target", metavar="EXPERIMENT")
@click.argument("level", type=click.Choice(["READ", "EDIT", "MANAGE"], case_sensitive=False))
@_MODEL_OPTION
@_store_option
def grant(
    principal: str, target: str, level: str, model: bool, backend_store_uri: str | None
) -> None:
    """Give PRINCIPAL (alice, user:alice or group:ml) LEVEL on EXPERIMENT (id or name), or
    with --registered-model on the registered model of that name."""
    from satchel.server.auth.store import Level

    who = _principal(principal)
    if model:
        _auth(backend_store_uri).grant_model(who, target, Level.parse(level))
        click.echo(f"{who} has {level.upper()} on registered model {target!r}.")
        return
    exp_id = _experiment_id(backend_store_uri, target)
    _auth(backend_store_uri).grant(who, exp_id, Level.parse(level))
    click.echo(f"{who} has {level.upper()} on experiment {exp_id}.")


@click.command("revoke")
@click.argument("principal")
@click.argument("target", metavar="EXPERIMENT")
@_MODEL_OPTION
@_store_option
def revoke(principal: str, target: str, model: bool, backend_store_uri: str | None) -> None:
    """Take back PRINCIPAL's grant on EXPERIMENT (id or name), or with --registered-model on
    the registered model of that name."""
    who = _principal(principal)
    if model:
        _auth(backend_store_uri).revoke_model(who, target)
        click.echo(f"Revoked {who} on registered model {target!r}.")
        return
    exp_id = _experiment_id(backend_store_uri, target)
    _auth(backend_store_uri).revoke(who, exp_id)
    click.echo(f"Revoked {who} on experiment {exp_id}.")


@click.command("default-permission")
@click.argument("level", type=click.Choice(["NONE", "READ"], case_sensitive=False))
@_store_option
def default_permission(level: str, backend_store_uri: str | None) -> None:
    """What every signed-in user may do on experiments and registered models without a
    grant: NONE or READ."""
    from satchel.server.auth.store import Level

    _auth(backend_store_uri).set_default_level(Level.parse(level, ("NONE", "READ")))
    click.echo(f"Default permission: {level.upper()}.")


ADMIN_COMMANDS: list[click.Command] = [users, tokens, groups, grant, revoke, default_permission]
