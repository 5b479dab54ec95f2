"""``satchel ui``: the web UI over the embedded store, on 127.0.0.1 at a free port."""

from __future__ import annotations

import socket

import click

from satchel.cli import TRACKING_URI_HELP

__all__ = ["ui"]


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound before the URL is printed, so the printed port is really ours (port 0: any
    free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


@click.command("ui")
@click.option("--tracking-uri", metavar="URI", help=TRACKING_URI_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port [default: a free one]."
)
def ui(tracking_uri: str | None, host: str, port: int) -> None:
    """Browse experiments, runs, metrics and artifacts in a web browser."""
    import uvicorn

    from satchel.cli._options import make_client
    from satchel.server.ui import create_app

    client = make_client(tracking_uri)
    client.search_experiments(max_results=1)  # open (or create) it now: a bad URI fails here
    sock = listening_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    config = uvicorn.Config(create_app(client.tracking_uri), log_level="warning", access_log=False)
    click.echo(f"Satchel UI for {client.tracking_uri} at {url}  (Ctrl-C stops it)")
    uvicorn.Server(config).run(sockets=[sock])
