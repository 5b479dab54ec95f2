"""What can go wrong, split by who can fix it.

The user can fix a ``SatchelError``: the CLI prints its one line (what, where, how to fix)
and exits 1 (2 for usage). Anything else is our bug: the CLI prints a short message and the
path of a log file holding the traceback, and exits 3. Ctrl-C exits 130.

    SatchelError                      one line, exit 1
    ├── UsageError                    bad command-line usage, exit 2
    ├── TrackingError                 the tracking store refused a request
    │   ├── NotFoundError             unknown run / experiment / metric / artifact
    │   ├── InvalidValueError         bad key, value, status, param changed ...
    │   ├── AlreadyExistsError        duplicate experiment name ...
    │   ├── FilterSyntaxError         a search filter or order_by that does not parse
    │   └── StoreUnavailableError     the store cannot be opened / reached
    ├── ProjectError                  the project itself is wrong
    │   ├── SpecError                 bad MLproject (file, key path, what is allowed)
    │   ├── ParameterError            bad -P value, missing or repeated parameter
    │   └── EntryPointError           unknown entry point
    ├── FetchError                    bad URI, unreachable repo, unknown version, bad subdir
    ├── EnvironmentBuildError         an environment could not be built (log path attached)
    ├── ExecutionError                the launcher could not start or follow the run
    ├── ModelError                    a model cannot be logged, found, loaded or served
    │   └── ModelIntegrityError       a model file differs from its sha256 recorded at logging
    ├── SetupError                    this machine: SATCHEL_HOME unwritable or full
    └── RunFailedError                the project ran and failed (exit code attached)

This module is imported by ``import satchel``: standard library only.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "EntryPointError",
    "EnvironmentBuildError",
    "ExecutionError",
    "FetchError",
    "FilterSyntaxError",
    "InvalidValueError",
    "ModelError",
    "ModelIntegrityError",
    "NotFoundError",
    "ParameterError",
    "ProjectError",
    "RunFailedError",
    "SatchelError",
    "SetupError",
    "SpecError",
    "StoreUnavailableError",
    "TrackingError",
    "UsageError",
]


class SatchelError(Exception):
    """A problem the user can fix. ``str(err)`` is one line; ``hint`` says how to fix it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        line = " ".join(self.message.split())  # one line, always
        return f"{line} ({self.hint})" if self.hint else line


class UsageError(SatchelError):
    exit_code = 2


class TrackingError(SatchelError):
    pass


class NotFoundError(TrackingError):
    pass


class InvalidValueError(TrackingError):
    pass


class AlreadyExistsError(TrackingError):
    pass


class FilterSyntaxError(InvalidValueError):
    pass


class StoreUnavailableError(TrackingError):
    pass


class ProjectError(SatchelError):
    pass


class SpecError(ProjectError):
    pass


class ParameterError(ProjectError):
    pass


class EntryPointError(ProjectError):
    pass


class FetchError(SatchelError):
    pass


class EnvironmentBuildError(SatchelError):
    """An environment build failed; ``log_path`` holds the builder's full output."""

    def __init__(self, message: str, hint: str | None = None, log_path: str | None = None):
        super().__init__(message, hint)
        self.log_path = log_path


class ExecutionError(SatchelError):
    pass


class ModelError(SatchelError):
    pass


class ModelIntegrityError(ModelError):
    pass


class SetupError(SatchelError):
    """The machine cannot hold what a run needs (SATCHEL_HOME read-only, its disk full)."""


class RunFailedError(SatchelError):
    """The project's command ran and exited non-zero (or was killed)."""

    def __init__(self, message: str, run_id: str, exit_code: int | None = None):
        super().__init__(message)
        self.run_id = run_id
        self.returncode = exit_code
