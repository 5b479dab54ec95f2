"""The compare page's data: runs side by side, rows marked where the runs differ, and the
numeric table the plots (parallel coordinates, scatter, contour, box) are drawn from."""

from __future__ import annotations

from typing import Any

from satchel.server.ui.web import UserInputError
from satchel.tracking.client import Client
from satchel.tracking.views import compare_rows

__all__ = ["MAX_COMPARE", "compare_runs"]

MAX_COMPARE = 200


def compare_runs(client: Client, run_ids: list[str]) -> dict[str, Any]:
    ids = list(dict.fromkeys(i for i in run_ids if i))
    if not 1 <= len(ids) <= MAX_COMPARE:
        raise UserInputError(
            f"{len(ids)} runs to compare", hint=f"select 1 to {MAX_COMPARE} runs (?runs=ID,ID)"
        )
    found = [client.get_run(i) for i in ids]
    rows = compare_rows(found)
    return {
        "runs": [
            {
                "run_id": r.info.run_id,
                "run_name": r.info.run_name,
                "experiment_id": r.info.experiment_id,
                "status": r.info.status.value,
                "start_time": r.info.start_time,
            }
            for r in found
        ],
        "rows": rows,
        "params": [row["key"] for row in rows if row["kind"] == "param"],
        "metrics": [row["key"] for row in rows if row["kind"] == "metric"],
    }
