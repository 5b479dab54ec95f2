"""One kept-alive HTTP connection per thread to a Satchel (or MLflow) server, with retries.

Standard library only (``http.client``): project code logs through this inside environments
that do not have ``requests``. Retries back off exponentially (0.1 s doubling, at most 5 s
a wait, ``MAX_ATTEMPTS`` in all) on connection failures, 429 and 5xx, but only for requests
that are safe to replay: reads, and writes the server makes idempotent (a replayed metric
is stored once). A non-idempotent write (creating a run or an experiment) is retried only
when the server provably did not act on it (the connection was refused, or it answered
429/503), so a retry never creates a second run. Errors come back as MLflow's JSON
``{"error_code", "message"}`` and are raised as Satchel's error kinds.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time

from satchel.errors import (
    AlreadyExistsError,
    InvalidValueError,
    NotFoundError,
    StoreUnavailableError,
    TrackingError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Connection", "RequestFailed"]

MAX_ATTEMPTS = int(os.environ.get("SATCHEL_HTTP_MAX_ATTEMPTS", "10"))
TIMEOUT_S = 120.0
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
NOT_ACTED_STATUS = frozenset({429, 503})  # the server refused before doing anything
_ERRORS = {
    "RESOURCE_DOES_NOT_EXIST": NotFoundError,
    "RESOURCE_ALREADY_EXISTS": AlreadyExistsError,
    "INVALID_PARAMETER_VALUE": InvalidValueError,
    "BAD_REQUEST": InvalidValueError,
    "TEMPORARILY_UNAVAILABLE": StoreUnavailableError,
}


class RequestFailed(TrackingError):
    """A request that failed in a way none of the tracking errors names."""


class Connection:
    """``request(method, path, body, idempotent)`` against ``base_url``, one connection per
    thread (and per process: a forked child opens its own)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.headers = {"User-Agent": "satchel-client", **(headers or {})}
        token = os.environ.get("SATCHEL_TRACKING_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN")
        user = os.environ.get("MLFLOW_TRACKING_USERNAME")
        password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif user and password:  # as the mlflow client sends them
            import base64

            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {pair}"
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=TIMEOUT_S)
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- requests ---------------------------------------------------------------------------
    def json(
        self, method: str, path: str, body: Any = None, idempotent: bool = True
    ) -> dict[str, Any]:
        """Send a JSON request (GET: ``body`` is the query) and return the JSON answer."""
        data = None
        if method == "GET" and body:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(body, doseq=True)}"
        elif body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
        status, payload = self.send(method, path, data, "application/json", idempotent)
        answer = _decode(payload)
        if status >= 400:
            raise _error(status, answer, method, path)
        return answer

    def send(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        content_type: str = "application/json",
        idempotent: bool = True,
    ) -> tuple[int, bytes]:
        """(status, body bytes) after retries; StoreUnavailableError when the server stays
        unreachable or keeps failing."""
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = content_type
        delay, last = 0.1, ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            sent = False
            try:
                conn = self._conn()
                conn.request(method, self.prefix + path, body=data, headers=headers)
                sent = True
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                last = f"{type(exc).__name__}: {exc}"
                never_reached = isinstance(exc, ConnectionRefusedError) or not sent
                if not (idempotent or never_reached) or attempt == MAX_ATTEMPTS:
                    break
            else:
                if response.status not in RETRY_STATUS or attempt == MAX_ATTEMPTS:
                    return response.status, payload
                if not idempotent and response.status not in NOT_ACTED_STATUS:
                    return response.status, payload
                last = f"HTTP {response.status}"
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise StoreUnavailableError(
            f"tracking server {self.base_url} failed on {method} {path}: {last}",
            hint="is `satchel server` running there? check --tracking-uri",
        )


def _decode(payload: bytes) -> dict[str, Any]:
    if not payload.strip():
        return {}
    try:
        answer = json.loads(payload)
    except ValueError:
        return {"message": payload[:200].decode("utf-8", "replace")}
    return answer if isinstance(answer, dict) else {"value": answer}


def _error(status: int, answer: dict[str, Any], method: str, path: str) -> TrackingError:
    code = str(answer.get("error_code", ""))
    message = str(answer.get("message") or f"HTTP {status} on {method} {path}")
    kind = _ERRORS.get(code)
    if kind is None and status == 404:
        kind = NotFoundError
    return (kind or RequestFailed)(message)
