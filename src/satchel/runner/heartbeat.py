"""Liveness of a run: a daemon thread telling the store "the runner (host:pid) is alive".

The tracking reaper (``satchel runs reap``, ``runs list``) ends RUNNING runs whose owner is
provably dead (same host, pid gone) or whose heartbeat went stale, so a runner killed with
SIGKILL, or a lost machine, never leaves a run RUNNING forever.
"""

from __future__ import annotations

import threading
from types import TracebackType

from satchel.runner.watch import start_without_stop_signals
from satchel.tracking.client import Client
from satchel.tracking.liveness import owner_id

__all__ = ["INTERVAL_SECONDS", "Heartbeat"]

INTERVAL_SECONDS = 10.0


class Heartbeat:
    """``with Heartbeat(client, run_id):`` beats once at once, then every ``interval`` s."""

    def __init__(
        self,
        client: Client,
        run_id: str,
        owner: str | None = None,
        interval: float = INTERVAL_SECONDS,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.owner = owner or owner_id()
        self.interval = interval
        self.beats = 0
        # the loop waits on it between beats: set = stop. Tests pass one whose ``wait`` is
        # driven by hand (an injected clock), so no test sleeps through real intervals.
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._thread = threading.Thread(target=self._loop, name="satchel-heartbeat", daemon=True)

    def beat(self) -> None:
        try:
            self.client.heartbeat(self.run_id, self.owner)
            self.beats += 1
        except Exception:  # noqa: S110 - a missed beat must never break the run it watches
            pass

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def start(self) -> Heartbeat:
        self.beat()  # the owner is on record before the project starts
        start_without_stop_signals(self._thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
