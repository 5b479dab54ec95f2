"""What to run: the MLproject spec, parameters, command rendering, fetching, source capture.

Kept light: nothing heavy (yaml, git) is imported here; import the submodules you need
(``satchel.projects.spec``, ``.params``, ``.render``, ``.fetch``, ``.source``).
``satchel.projects.run`` (the Python face of `satchel run`) lives in the runner and is
imported on first use.
"""

from __future__ import annotations

__all__ = ["run"]


def __getattr__(name: str) -> object:
    if name == "run":
        from satchel.runner.api import run_project

        return run_project
    raise AttributeError(f"module 'satchel.projects' has no attribute {name!r}")
