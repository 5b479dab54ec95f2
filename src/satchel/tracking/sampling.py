"""Metric histories too long to draw, reduced without losing a spike.

A history is cut into ``buckets`` equal step ranges; each bucket keeps its lowest point, its
highest point and its last point (highest step), so the chart of the reduced history has the
same envelope as the full one and ends where it ends. Histories of at most ``3 * buckets``
points are returned whole. Stores run this as SQL (``store.sqlite_sampling``); this module
holds the record they return and the same rule over a plain list, for stores without it.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

from satchel.tracking.entities import Metric

__all__ = ["MetricRange", "SampledHistory", "bucket_edges", "downsample"]


class SampledHistory:
    """Points of one (run, metric) as ``(step, timestamp, value)``, sorted by step; value is
    None for NaN. ``sampled`` is False when every point in the range is there."""

    __slots__ = ("key", "points", "run_id", "sampled")

    def __init__(
        self, run_id: str, key: str, points: list[tuple[int, int, float | None]], sampled: bool
    ) -> None:
        self.run_id = run_id
        self.key = key
        self.points = points
        self.sampled = sampled


class MetricRange:
    """Over a run's whole history of one metric: lowest, highest, number of points."""

    __slots__ = ("count", "key", "max", "min")

    def __init__(self, key: str, lo: float | None, hi: float | None, count: int) -> None:
        self.key = key
        self.min = lo
        self.max = hi
        self.count = count


def bucket_edges(lo: int, hi: int, buckets: int) -> list[int]:
    """``buckets + 1`` increasing step edges covering [lo, hi] (a bucket is [e[i], e[i+1]))."""
    span = hi - lo + 1
    count = max(1, min(buckets, span))
    return [lo + (span * i) // count for i in range(count + 1)]


def downsample(
    history: Sequence[Metric], lo: int | None, hi: int | None, buckets: int
) -> tuple[list[tuple[int, int, float | None]], bool]:
    """The rule above over an in-memory history; returns (points, sampled)."""
    inside = [m for m in history if (lo is None or m.step >= lo) and (hi is None or m.step <= hi)]
    inside.sort(key=lambda m: (m.step, m.timestamp))
    if len(inside) <= 3 * buckets:
        return [_point(m) for m in inside], False
    edges = bucket_edges(inside[0].step, inside[-1].step, buckets)
    keep: dict[int, Metric] = {}
    start = 0
    for upper in edges[1:]:
        end = start
        while end < len(inside) and inside[end].step < upper:
            end += 1
        chunk = inside[start:end]
        numbers = [m for m in chunk if m.value == m.value]
        for m in ([min(numbers, key=_value), max(numbers, key=_value)] if numbers else []) + (
            [chunk[-1]] if chunk else []
        ):
            keep[id(m)] = m
        start = end
    chosen = sorted(keep.values(), key=lambda m: (m.step, m.timestamp))
    return [_point(m) for m in chosen], True


def _value(m: Metric) -> float:
    return m.value


def _point(m: Metric) -> tuple[int, int, float | None]:
    return (m.step, m.timestamp, m.value if m.value == m.value else None)
