"""The watch step: wait for the launched command, turning SIGINT/SIGTERM into a stop.

While a run is in progress, both signals raise ``Stop`` in the main thread. ``watch`` then
asks the launcher to stop everything it started (SIGTERM to the group, SIGKILL after the
grace period) and keeps draining output until it is gone; a second signal forces it at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from satchel.runner.request import Outcome
from satchel.tracking.entities import RunStatus

__all__ = [
    "GRACE_SECONDS",
    "Stop",
    "outcome_for",
    "start_without_stop_signals",
    "stop_signals",
    "watch",
]

GRACE_SECONDS = 10.0


class Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGINT/SIGTERM while a run is in progress."""


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def start_without_stop_signals(thread: threading.Thread) -> None:
    """Start a helper thread (output reader, heartbeat, kill timer) that never receives
    SIGINT/SIGTERM. The kernel hands a process's signal to any thread not blocking it; one
    landing on a helper thread leaves the main thread asleep in ``waitpid`` — the Ctrl-C
    would go unanswered until the project exits. A thread inherits its creator's mask."""
    # The mask is read first and blocked inside the try: a Stop raised the moment the block
    # returns must not leave this thread deaf to every later Ctrl-C.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Stop`` (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise Stop(signum)

    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def watch(
    handle: Any, grace: float = GRACE_SECONDS, on_stop: Callable[[str], None] | None = None
) -> tuple[int, bool]:
    """Wait for the command; on a stop signal, stop its group. (exit code, was_stopped).

    ``on_stop`` hears one line at the first signal: a project that ignores SIGTERM keeps
    the runner waiting for the whole grace period, which must not look like a hang."""
    try:
        return handle.wait(), False
    except Stop:
        _begin_stop(handle, grace, on_stop)
    while True:  # keep draining output while the group winds down; a 2nd signal forces it
        try:
            return handle.wait(), True
        except Stop:
            handle.terminate(0)


def _begin_stop(handle: Any, grace: float, on_stop: Callable[[str], None] | None) -> None:
    try:
        # said before stopping: a docker container's stop blocks for the grace period
        if on_stop is not None:
            on_stop(f"waiting up to {grace:g}s; press Ctrl-C again to force")
        handle.terminate(grace)
    except Stop:  # the second signal arrived while we were saying so, or stopping
        handle.terminate(0)


def outcome_for(
    run_id: str,
    code: int,
    stopped: bool,
    seconds: float,
    output_error: str | None = None,
    reason: str | None = None,
) -> Outcome:
    """How the run ended; ``output_error`` (its output could not be kept) fails a clean exit;
    ``reason`` is the backend's own word on a failure (Ray's job message)."""
    if stopped:
        return Outcome(run_id, RunStatus.KILLED, code, seconds, reason or "stopped by a signal")
    if code == 0 and output_error is None:
        return Outcome(run_id, RunStatus.FINISHED, 0, seconds)
    reasons = [reason or f"the command exited with code {code}"] if code != 0 else []
    reasons += [output_error] if output_error else []
    return Outcome(run_id, RunStatus.FAILED, code, seconds, "; ".join(reasons))
