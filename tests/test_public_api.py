"""The public surface of ``import satchel`` is pinned, and importing it stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import satchel

EXPECTED_ALL = [
    "Client",
    "Experiment",
    "Metric",
    "Run",
    "RunStatus",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

# What `import satchel` may load beyond the interpreter's own start-up modules.
_PROBE = """
import json, sys
before = set(sys.modules)
import satchel
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_all_is_pinned_and_every_name_exists() -> None:
    assert sorted(satchel.__all__) == sorted(EXPECTED_ALL)
    for name in satchel.__all__:
        assert getattr(satchel, name) is not None, name


def _modules_loaded_by_import() -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_satchel_loads_only_the_standard_library() -> None:
    loaded = _modules_loaded_by_import()
    stdlib = set(sys.stdlib_module_names)
    third_party = [
        m for m in loaded if m.split(".")[0] not in stdlib and m.split(".")[0] != "satchel"
    ]
    assert third_party == []


def test_import_satchel_stays_small() -> None:
    """A proxy for the 50 ms budget (timed assertions are flaky): no store, no sqlite, no
    heavy standard-library packages until the first run is started."""
    loaded = set(_modules_loaded_by_import())
    for heavy in (
        "click",
        "yaml",
        "docker",
        "sqlite3",
        "satchel.tracking.store.sqlite",
        "satchel.cli",
        "satchel.runner",
        "satchel.envs",
        "satchel.projects",
        "asyncio",
        "email",
        "http",
        "urllib.request",
        "subprocess",
        "socket",
        "pandas",
        "satchel.tracking.dataframe",
    ):
        assert heavy not in loaded, heavy
    assert "satchel.tracking.fluent" in loaded
    assert "satchel.tracking.client" in loaded
