"""One run as its page shows it: info, params, metrics with their ranges, tags, description,
source, environment, console log and nested runs. The HTML page and its JSON twin
(``/ui-api/runs/{run_id}``) both come from ``run_detail``."""

from __future__ import annotations

from typing import Any

from satchel.server.ui.tables import PARENT_TAG, source_of
from satchel.tracking.client import Client
from satchel.tracking.serialize import run_info_to_dict

__all__ = ["DESCRIPTION_TAG", "metric_ranges_dict", "run_detail"]

DESCRIPTION_TAG = "mlflow.note.content"  # where MLflow keeps a run's description
SYSTEM_PREFIXES = ("mlflow.", "satchel.")
# artifacts the runner writes (runner/record.py, runner/lifecycle.py)
KNOWN_FILES = {
    "diff": "source/diff.patch",
    "untracked": "source/untracked.txt",
    "lock": "env/requirements.lock",
    "build_log": "env/build.log",
    "console": "logs/console.log",
}


def run_detail(client: Client, run_id: str, ranges: bool = True) -> dict[str, Any]:
    """``ranges=False`` leaves min/max/count out (None): they read every point of every
    metric, so the HTML page asks for them separately (``metric_ranges_dict``) and shows the
    rest at once."""
    run = client.get_run(run_id)
    tags = run.data.tags
    found_ranges = {r.key: r for r in client.metric_ranges(run_id)} if ranges else {}
    metrics = []
    for key, latest in sorted(run.data.metrics.items()):
        found = found_ranges.get(key)
        metrics.append(
            {
                "key": key,
                "latest": latest,
                "min": found.min if found else None,
                "max": found.max if found else None,
                "count": found.count if found else None,
            }
        )
    detail: dict[str, Any] = {
        "info": run_info_to_dict(run.info),
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "tags": dict(tags),
    }
    detail.update(
        {
            "experiment_name": client.get_experiment(run.info.experiment_id).name,
            "metric_summaries": metrics,
            "user_tags": {k: v for k, v in tags.items() if not k.startswith(SYSTEM_PREFIXES)},
            "system_tags": {k: v for k, v in tags.items() if k.startswith(SYSTEM_PREFIXES)},
            "description": tags.get(DESCRIPTION_TAG, ""),
            "source": source_of(tags),
            "parent_run_id": tags.get(PARENT_TAG),
            "children": _children(client, run.info.experiment_id, run_id),
            "files": _known_files(client, run_id),
        }
    )
    return detail


def metric_ranges_dict(client: Client, run_id: str) -> dict[str, dict[str, Any]]:
    return {
        r.key: {"min": r.min, "max": r.max, "count": r.count} for r in client.metric_ranges(run_id)
    }


def _children(client: Client, experiment_id: str, run_id: str) -> list[dict[str, str]]:
    found = client.search_runs(
        experiment_id, filter_string=f"tags.`{PARENT_TAG}` = '{run_id}'", max_results=200
    )
    return [{"run_id": r.info.run_id, "run_name": r.info.run_name} for r in found]


def _known_files(client: Client, run_id: str) -> dict[str, str | None]:
    """Which of the runner's files this run has (name → artifact path, None when absent)."""
    present: set[str] = set()
    for folder in {path.rpartition("/")[0] for path in KNOWN_FILES.values()}:
        present.update(f.path for f in client.list_artifacts(run_id, folder) if not f.is_dir)
    return {name: (path if path in present else None) for name, path in KNOWN_FILES.items()}
