"""Running the app: bind the socket first (so port 0 works and the URL printed is the real
one), then hand it to uvicorn. ``serve`` blocks in the foreground (``satchel server``;
uvicorn turns SIGINT/SIGTERM into a clean shutdown); ``BackgroundServer`` runs one in a
thread (the MLflow bridge's per-run endpoint)."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator

from starlette.types import ASGIApp

__all__ = ["BackgroundServer", "bind", "serve", "url_of"]


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response waits ~40 ms on Nagle + delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        from satchel.errors import UsageError

        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="pick another --port (or --port 0 for any free one)",
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(app: ASGIApp) -> object:
    import uvicorn

    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=60
    )
    return uvicorn.Server(config)


def serve(app: ASGIApp, sock: socket.socket, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM, then finish the requests in flight and return (exit 0:
    stopping is how a server's life ends); ``on_ready`` runs once it accepts requests."""
    server = _server(app)
    if on_ready is not None:
        _when_started(server, on_ready)
    server.capture_signals = lambda: _stop_on_signals(server)  # type: ignore[attr-defined]
    server.run(sockets=[sock])  # type: ignore[attr-defined]


@contextlib.contextmanager
def _stop_on_signals(server: object) -> Iterator[None]:
    """uvicorn's own handling re-raises the signal after shutdown (exit -15); here the first
    signal asks for a graceful stop and a second one forces it."""

    def stop(signum: int, frame: object) -> None:
        if server.should_exit:  # type: ignore[attr-defined]
            server.force_exit = True  # type: ignore[attr-defined]
        server.should_exit = True  # type: ignore[attr-defined]

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _when_started(server: object, on_ready: Callable[[], None]) -> None:
    original = server.startup  # type: ignore[attr-defined]

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original(sockets=sockets)
        on_ready()

    server.startup = startup  # type: ignore[attr-defined]


class BackgroundServer:
    """``with BackgroundServer(app) as url:`` serves ``app`` on a free loopback port in a
    daemon thread until the block ends."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self._server = _server(app)
        self._started = threading.Event()
        _when_started(self._server, self._started.set)
        self._thread = threading.Thread(
            target=self._server.run,  # type: ignore[attr-defined]
            kwargs={"sockets": [self.sock]},
            name="satchel-endpoint",
            daemon=True,
        )

    def start(self) -> str:
        self._thread.start()
        if not self._started.wait(30):
            raise RuntimeError("the loopback endpoint did not start within 30 s")
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
