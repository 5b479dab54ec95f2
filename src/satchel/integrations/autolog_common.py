"""What every autolog integration shares: one run per top-level ``fit``, params as strings.

A ``fit`` called while another autologged ``fit`` runs (a Pipeline fitting its steps, a
search fitting candidates) logs nothing of its own: only the outermost call is recorded.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["active_fit", "fit_run", "safe_params"]

_state = threading.local()
MAX_PARAM = 6000


def active_fit() -> bool:
    """True inside an autologged ``fit`` (nested fits skip logging)."""
    return getattr(_state, "depth", 0) > 0


@contextlib.contextmanager
def fit_run() -> Iterator[Any]:
    """The run a top-level ``fit`` logs into: the active one, else a new one ended after."""
    import satchel

    _state.depth = getattr(_state, "depth", 0) + 1
    started = satchel.active_run() is None
    try:
        if started:
            satchel.start_run()
        run = satchel.active_run()
        try:
            yield run
        except BaseException:
            if started:
                satchel.end_run("FAILED")
                started = False
            raise
        finally:
            if started:
                satchel.end_run()
    finally:
        _state.depth -= 1


def safe_params(params: dict[str, Any]) -> dict[str, str]:
    """Params MLflow-style: every value a string, cut to the store's limit."""
    return {str(k): str(v)[:MAX_PARAM] for k, v in params.items()}
