"""Metric series for charts: several runs and metrics, downsampled by the store.

``/ui-api/metric-history?run=ID&run=ID&key=rmse&key=mae&lo=STEP&hi=STEP&points=N``: each
series is at most about 3·N points (every bucket's min, max and last point; see
``tracking.sampling``), so a 1,000,000-point history draws as fast as a short one; a zoom
asks again for the visible step range and gets its full detail back. Time axes (wall,
relative) use the same step buckets: the browser maps its visible time range to steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from satchel.server.ui.web import UserInputError
from satchel.tracking.client import Client

__all__ = ["DEFAULT_POINTS", "MAX_SERIES", "ChartView", "chart_view", "history_url", "series"]

DEFAULT_POINTS = 1000
MAX_POINTS = 5000
MAX_SERIES = 100
X_AXES = ("step", "wall", "relative")


class ChartView(NamedTuple):
    """A chart's settings as its page's URL says them, so a view is a link that survives a
    reload: ``?metric=rmse&metric=mae&x=relative&smoothing=0.6&log=1``."""

    metrics: tuple[str, ...]
    x: str = "step"
    smoothing: float = 0.0
    log: bool = False


def chart_view(args: Any, available: Sequence[str]) -> ChartView:
    """``args``: the page's query parameters. Metrics the runs do not have are left out (a
    shared link may name one); with none left, the first available metric is shown."""
    asked = set(args.getlist("metric"))
    chosen = tuple(k for k in available if k in asked)  # in the page's order, as app.js asks
    x = args.get("x", "step")
    if x not in X_AXES:
        raise UserInputError(f"x={x!r} is not a chart axis", hint=f"use {', '.join(X_AXES)}")
    raw = args.get("smoothing", "") or "0"
    try:
        smoothing = float(raw)
    except ValueError:
        smoothing = -1.0
    if not 0 <= smoothing < 1:
        raise UserInputError(f"smoothing={raw!r} is out of range", hint="use 0 to 0.99")
    return ChartView(chosen or tuple(available[:1]), x, smoothing, args.get("log") == "1")


def history_url(run_ids: list[str], keys: list[str], points: int = DEFAULT_POINTS) -> str:
    """The URL app.js asks first, so the page can preload it while scripts load (the
    same parameters in the same order, or the browser would not reuse the response)."""
    from urllib.parse import urlencode

    pairs = [("run", r) for r in run_ids] + [("key", k) for k in keys] + [("points", str(points))]
    return "/ui-api/metric-history?" + urlencode(pairs)


def _bound(args: Any, name: str) -> int | None:
    raw = args.get(name, "")
    if raw in ("", None):
        return None
    try:
        return int(float(raw))
    except ValueError:
        raise UserInputError(f"{name}={raw!r} is not a step", hint="give an integer") from None


def series(client: Client, args: Any) -> dict[str, Any]:
    run_ids, keys = args.getlist("run"), args.getlist("key")
    if not run_ids or not keys:
        raise UserInputError("give at least one run and one key", hint="?run=ID&key=rmse")
    if len(run_ids) * len(keys) > MAX_SERIES:
        raise UserInputError(
            f"{len(run_ids) * len(keys)} series asked for", hint=f"at most {MAX_SERIES}"
        )
    points = _bound(args, "points") or DEFAULT_POINTS
    if not 10 <= points <= MAX_POINTS:
        raise UserInputError(f"points={points} is out of range", hint=f"use 10 to {MAX_POINTS}")
    lo, hi = _bound(args, "lo"), _bound(args, "hi")
    out = []
    for run_id in run_ids:
        run = client.get_run(run_id)
        for key in keys:
            if key not in run.data.metrics:
                continue
            found = client.sampled_metric_history(run_id, key, lo, hi, points // 3 or 1)
            out.append(
                {
                    "run_id": run_id,
                    "run_name": run.info.run_name,
                    "key": key,
                    "start_time": run.info.start_time,
                    "sampled": found.sampled,
                    "steps": [p[0] for p in found.points],
                    "timestamps": [p[1] for p in found.points],
                    "values": [p[2] for p in found.points],
                }
            )
    return {"lo": lo, "hi": hi, "points": points, "series": out}
