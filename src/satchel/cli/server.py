"""``satchel server``: MLflow's REST API (and the web UI) over a Satchel store."""

from __future__ import annotations

import click

from satchel.cli import TRACKING_URI_HELP

__all__ = ["server_command"]


@click.command("server")
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
def server_command(
    backend_store_uri: str | None, artifacts_destination: str | None, host: str, port: int
) -> None:
    """Serve MLflow's tracking REST API over the store until Ctrl-C / SIGTERM."""
    from satchel.server.app import LOOPBACK_HOSTS, create_app, open_context
    from satchel.server.serve import bind, serve, url_of

    context = open_context(backend_store_uri, artifacts_destination)
    sock = bind(host, port)
    url = url_of(sock)
    loopback = host in LOOPBACK_HOSTS
    app = create_app(context=context, allowed_hosts=LOOPBACK_HOSTS if loopback else None)

    def ready() -> None:
        click.echo(f"Satchel server listening on {url}", err=False)
        click.echo(f"  store: {context.tracking_uri}", err=True)
        click.echo(f"  artifacts: {context.artifact_root}", err=True)
        click.echo("  Ctrl-C to stop", err=True)

    serve(app, sock, on_ready=ready)
