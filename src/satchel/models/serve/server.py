"""The scoring server: MLflow's routes on the standard library's threading HTTP server.

    GET  /ping, /health      200 once the model is loaded
    GET  /version            satchel's version
    POST /invocations        {"predictions": [...]}; a bad body → 400
                             {"error_code": "BAD_REQUEST", "message": "..."}

It runs inside the model's own environment (``python -m satchel.models.serve.server``,
satchel on the PYTHONPATH), so it may import nothing beyond the standard library and the
model's packages. HTTP/1.1 keep-alive: a client sending many single-row requests reuses its
connection. Prints one ``listening on http://HOST:PORT`` line when ready.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from satchel.models.serve.inputs import BadInput, parse_request, to_jsonable

__all__ = ["ScoringServer", "main", "make_server"]

MAX_BODY = 100 * 1024 * 1024


class ScoringServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], model: Any, schema: Any) -> None:
        super().__init__(address, _Handler)
        self.model = model
        self.schema = schema
        self.lock = threading.Lock()  # estimators are not promised to be thread-safe


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately: without TCP_NODELAY a kept-alive client
    # waits for the delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True
    server: ScoringServer

    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error_code": code, "message": message}).encode()
        self._send(status, body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path in ("/ping", "/health"):
            self._send(200, b"\n", "text/plain")
        elif path == "/version":
            from satchel import __version__

            self._send(200, __version__.encode(), "text/plain")
        else:
            self._error(404, "ENDPOINT_NOT_FOUND", f"no route {path}; try POST /invocations")

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/invocations":
            self._error(404, "ENDPOINT_NOT_FOUND", f"no route {self.path!r}; use /invocations")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._error(413, "BAD_REQUEST", f"body larger than {MAX_BODY} bytes")
            self.close_connection = True
            return
        body = self.rfile.read(length)
        try:
            data = parse_request(body, self.headers.get("Content-Type", ""), self.server.schema)
        except BadInput as exc:
            self._error(400, "BAD_REQUEST", str(exc))
            return
        try:
            with self.server.lock:
                predictions = self.server.model.predict(data)
        except Exception as exc:  # the model refused this input: the caller's to fix
            self._error(
                400,
                "BAD_REQUEST",
                f"the model could not predict on this input: {type(exc).__name__}: {exc}",
            )
            return
        self._send(200, json.dumps({"predictions": to_jsonable(predictions)}).encode())


def make_server(model_dir: Path, host: str, port: int) -> ScoringServer:
    from satchel.models.checksums import verify
    from satchel.models.load import load_flavor
    from satchel.models.mlmodel import read_mlmodel

    verify(model_dir)  # the launcher checked it against the store; this process re-checks
    meta = read_mlmodel(model_dir)
    _name, model = load_flavor(meta)
    return ScoringServer((host, port), model, meta.input_schema())


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve_forever(server: ScoringServer) -> None:
    """Serve until Ctrl-C or SIGTERM (both end it cleanly, exit code 0)."""
    signal.signal(signal.SIGTERM, _interrupt)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="satchel.models.serve.server")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    args = parser.parse_args(argv)
    from satchel.errors import SatchelError

    try:
        server = make_server(Path(args.model_dir), args.host, args.port)
    except SatchelError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"Error: cannot listen on {args.host}:{args.port}: {exc.strerror} "
            "(pick another --port)",
            file=sys.stderr,
        )
        return 1
    serve_forever(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
