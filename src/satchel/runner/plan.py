"""The run plan: a validated request, the spine every later lifecycle step reads.

``lifecycle.validate`` builds it; ``record``, ``describe``, ``submitted`` and the launch step
read it. It lives in its own module (not in ``lifecycle``) so those readers import the type
without importing the lifecycle that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from satchel.projects.fetched import Fetched
from satchel.projects.params import ResolvedParams
from satchel.projects.source import SourceFiles
from satchel.projects.spec import EntryPoint, Project
from satchel.runner.request import RunRequest

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """A validated request: everything needed to record and launch the run."""

    request: RunRequest
    fetched: Fetched  # the project tree and where it came from; ``validate`` cleans it up
    project: Project
    entry_point: EntryPoint
    resolved: ResolvedParams  # typed declared params + undeclared ones as given
    command: str  # rendered; every value shell-quoted
    masked_command: str  # the same with secret values masked (for tags and logs)
    env_manager: str
    backend: str
    tracking_uri: str  # absolute
    source_files: SourceFiles | None = None  # what the snapshot copies, listed at validation
    # the backend launcher's checked options (``Launcher.configure``), handed to ``launch``
    backend_options: dict[str, Any] = field(default_factory=dict)
