"""``satchel server``: MLflow's REST API (and the web UI) over a Satchel store."""

from __future__ import annotations

from typing import Any

import click

from satchel.cli import TRACKING_URI_HELP

__all__ = ["server_command"]


@click.group("server", invoke_without_command=True)
@click.option(
    "--backend-store-uri",
    envvar="SATCHEL_TRACKING_URI",
    metavar="URI",
    help="Where runs are stored. " + TRACKING_URI_HELP,
)
@click.option(
    "--artifacts-destination",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Directory holding every artifact the server proxies [default: the store's artifacts/].",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. Anything but loopback exposes the store to the network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on (0: any free port; the URL printed says which).",
)
@click.option(
    "--auth/--no-auth",
    default=None,
    help="Require a user or token on every request [default: on unless --host is loopback]; "
    "manage them with the subcommands below.",
)
@click.pass_context
def server_command(
    ctx: click.Context,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    host: str,
    port: int,
    auth: bool | None,
) -> None:
    """Serve MLflow's tracking REST API over the store until Ctrl-C / SIGTERM; or, with a
    subcommand, administer its users, tokens, groups and permissions."""
    if ctx.invoked_subcommand is not None:
        return
    from satchel.server.app import LOOPBACK_HOSTS, create_app, open_context
    from satchel.server.serve import bind, serve, url_of

    context = open_context(backend_store_uri, artifacts_destination)
    loopback = host in LOOPBACK_HOSTS
    authorizer = _authorizer(context) if auth or (auth is None and not loopback) else None
    sock = bind(host, port)
    url = url_of(sock)
    app = create_app(
        context=context,
        allowed_hosts=LOOPBACK_HOSTS if loopback else None,
        authorizer=authorizer,
    )

    def ready() -> None:
        click.echo(f"Satchel server listening on {url}", err=False)
        click.echo(f"  store: {context.tracking_uri}", err=True)
        click.echo(f"  artifacts: {context.artifact_root}", err=True)
        click.echo(f"  auth: {'on' if authorizer else 'off'}", err=True)
        click.echo("  Ctrl-C to stop", err=True)

    serve(app, sock, on_ready=ready)


def _authorizer(context: Any) -> Any:
    from satchel.server.auth.authorizer import make_authorizer

    authorizer = make_authorizer(context)
    if not authorizer.policy.auth.list_users():
        click.echo(
            "No users yet: create one with 'satchel server users create NAME --admin'.", err=True
        )
    return authorizer


def _add_admin_commands() -> None:
    from satchel.cli.server_admin import ADMIN_COMMANDS

    for command in ADMIN_COMMANDS:
        server_command.add_command(command)


_add_admin_commands()
