"""``satchel ui``: the web UI over the embedded store, on 127.0.0.1 at a free port.

It has no authentication (one person's store), so it listens on loopback only and checks
the Host and Origin headers there (DNS rebinding); a team shares runs through
``satchel server``, whose UI is behind its authorizer.
"""

from __future__ import annotations

import click

from satchel.cli import TRACKING_URI_HELP

__all__ = ["ui"]


@click.command("ui")
@click.option("--tracking-uri", metavar="URI", help=TRACKING_URI_HELP)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port [default: a free one]."
)
def ui(tracking_uri: str | None, host: str, port: int) -> None:
    """Browse experiments, runs, metrics and artifacts in a web browser."""
    from satchel.cli._options import make_client
    from satchel.errors import UsageError
    from satchel.server.app import LOOPBACK_HOSTS, HostCheck
    from satchel.server.serve import bind, serve, url_of
    from satchel.server.ui import create_app

    if host not in LOOPBACK_HOSTS:
        raise UsageError(
            f"satchel ui has no authentication, so it listens on loopback only (not {host})",
            hint=f"share a store with `satchel server --host {host}` (auth on)",
        )
    client = make_client(tracking_uri)
    client.search_experiments(max_results=1)  # open (or create) it now: a bad URI fails here
    sock = bind(host, port)
    url = url_of(sock) + "/"
    app = HostCheck(create_app(client.tracking_uri), LOOPBACK_HOSTS)
    click.echo(f"Satchel UI for {client.tracking_uri} at {url}  (Ctrl-C stops it)")
    serve(app, sock)
