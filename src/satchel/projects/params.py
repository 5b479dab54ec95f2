"""Parameter values: ``-P k=v`` strings → typed, validated, normalised values.

The typed value is what the command receives and what is logged, as ``str(value)``: exactly
what ``satchel.log_param(key, value)`` stores, so a script logging the same value agrees with
the runner (``-P alpha=.5`` logs "0.5", like ``log_param("alpha", 0.5)``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from satchel.errors import ParameterError
from satchel.projects.records import EntryPoint, ParamSpec

__all__ = [
    "PARAM_TYPES",
    "RUN_ARTIFACT",
    "ResolvedParams",
    "convert_value",
    "parse_param_list",
    "resolve_parameters",
]

PARAM_TYPES = ("string", "float", "int", "bool", "path", "uri")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # 2+ chars: "C:" is a drive, not a scheme
# A run's artifact as a `path` value: runs:/RUN_ID/path, or the run's artifact URI.
RUN_ARTIFACT = re.compile(r"^(runs:/|mlflow-artifacts:/)")
# Extra keys become `--key` words: a strict alphabet keeps them plain options.
_EXTRA_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ResolvedParams:
    """The parameters of one run: declared ones typed, undeclared ones as given."""

    declared: dict[str, Any] = field(default_factory=dict)  # typed values, declaration order
    extra: dict[str, str] = field(default_factory=dict)  # undeclared -P keys, given order
    # what is logged instead of the typed value: a ``runs:/`` path keeps its URI (lineage)
    # while the command gets the local copy the runner fetched
    shown: dict[str, str] = field(default_factory=dict)

    def for_command(self) -> dict[str, str]:
        """Params as the command gets them: a fetched ``runs:/`` path is its local copy."""
        values = {name: str(value) for name, value in self.declared.items()}
        values.update(self.extra)
        return values

    def for_logging(self) -> dict[str, str]:
        """Params as they are logged: ``str(typed value)``, never shell-quoted."""
        logged = {name: self.shown.get(name, str(value)) for name, value in self.declared.items()}
        logged.update(self.extra)
        return logged


class _Invalid(ValueError):
    """A value does not convert; the message says what is allowed."""


def convert_value(spec: ParamSpec, raw: Any, *, cwd: Path | None = None) -> Any:
    """Convert ``raw`` (a -P string or a YAML default) to ``spec.type`` and check its bounds.

    Raises ValueError with a short "what is allowed" message. ``cwd=None`` skips the
    filesystem checks of ``path`` (used when validating defaults at load time).
    """
    value: Any = _CONVERTERS[spec.type](raw, cwd)
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(str(c) for c in spec.choices)
        raise _Invalid(f"must be one of: {allowed}")
    if spec.min is not None and value < spec.min:
        raise _Invalid(f"must be >= {spec.min}")
    if spec.max is not None and value > spec.max:
        raise _Invalid(f"must be <= {spec.max}")
    return value


def _to_string(raw: Any, cwd: Path | None) -> str:
    if isinstance(raw, bool):
        return str(raw)  # YAML `true` → "True", like MLflow's str()
    if isinstance(raw, (str, int, float)):
        return str(raw)
    raise _Invalid("must be a string")


def _to_float(raw: Any, cwd: Path | None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _Invalid("must be a number (e.g. 0.5)")
    try:
        value = float(raw)
    except ValueError:
        raise _Invalid("must be a number (e.g. 0.5)") from None
    if not math.isfinite(value):
        raise _Invalid("must be a finite number")
    return value


def _to_int(raw: Any, cwd: Path | None) -> int:
    if isinstance(raw, bool):
        raise _Invalid("must be an integer (e.g. 10)")
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise _Invalid("must be an integer (e.g. 10)")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
        return int(raw)
    raise _Invalid("must be an integer (e.g. 10)")


def _to_bool(raw: Any, cwd: Path | None) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if isinstance(raw, (str, int)) else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid("must be a boolean: true/false, yes/no or 1/0")


def _to_path(raw: Any, cwd: Path | None) -> str:
    if not isinstance(raw, str) or not raw:
        raise _Invalid("must be a non-empty path")
    text = raw
    if RUN_ARTIFACT.match(text):
        return text  # another run's artifact: the runner fetches it (satchel.runner.inputs)
    if text.startswith("file:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise _Invalid("must be a local path or a file:// URI of this machine")
        text = unquote(parts.path)
    elif _URI.match(text):
        raise _Invalid("must be a local path or file:// URI (use type 'uri' for remote URIs)")
    if cwd is None:
        return text
    path = Path(os.path.expanduser(text))
    path = path if path.is_absolute() else cwd / path
    if not path.exists():
        raise _Invalid(f"no such file or directory: {path}")
    return os.path.abspath(path)


def _to_uri(raw: Any, cwd: Path | None) -> str:
    if not isinstance(raw, str) or not _URI.match(raw):
        raise _Invalid("must be a URI with a scheme (e.g. s3://bucket/key, file:///data)")
    return raw


_CONVERTERS = {
    "string": _to_string,
    "float": _to_float,
    "int": _to_int,
    "bool": _to_bool,
    "path": _to_path,
    "uri": _to_uri,
}


def resolve_parameters(
    entry_point: EntryPoint,
    given: Mapping[str, str],
    *,
    cwd: Path,
    project_root: Path | None = None,
    allow_extra: bool = False,
) -> ResolvedParams:
    """Typed values for the declared params (given or default) plus the extra -P keys.

    An extra key that is a near miss of a declared one is an error unless ``allow_extra``.

    ``cwd`` (the caller's directory) anchors relative ``path`` values the user gives;
    ``project_root``, when known, anchors ``path`` defaults (their author wrote them
    relative to the project), falling back to ``cwd`` like MLflow.
    """
    _check_no_nul(given)
    if not allow_extra:  # before "missing": `-P alpah=1` for a required alpha says so
        _check_near_misses(entry_point, [k for k in given if k not in entry_point.parameters])
    missing = [n for n, s in entry_point.parameters.items() if n not in given and s.required]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        raise ParameterError(
            f"No value given for missing parameters: {names} "
            f"(entry point {entry_point.name!r}; pass -P NAME=VALUE)"
        )
    declared: dict[str, Any] = {}
    for name, spec in entry_point.parameters.items():
        if name in given:
            declared[name] = _convert_given(spec, given[name], cwd, entry_point.name)
        elif spec.raw_default:
            declared[name] = spec.default  # a default MLflow passes unchecked (spec warned)
        else:
            base = project_root if project_root is not None else cwd
            declared[name] = _convert_given(spec, spec.default, base, entry_point.name)
    extra = {k: _check_extra(k, v) for k, v in given.items() if k not in entry_point.parameters}
    return ResolvedParams(declared=declared, extra=extra)


def _check_near_misses(entry_point: EntryPoint, extra: list[str]) -> None:
    """An extra -P key that looks like a typo of a declared one (``alpah``) would be passed as
    ``--alpah`` and fail later in the script's own argument parser, with a run recorded: refuse
    it now. A clearly new name passes through as MLflow does (``allow_extra`` lets a near miss
    through too)."""
    if not extra or not entry_point.parameters:
        return  # the usual case: no difflib import
    import difflib

    for key in extra:
        close = difflib.get_close_matches(key, list(entry_point.parameters), n=1, cutoff=0.75)
        if close:
            raise ParameterError(
                f"-P {key} is not a parameter of entry point {entry_point.name!r} "
                f"(did you mean {close[0]!r}?); fix the name, or pass --allow-extra to send it "
                f"to the command as --{key}"
            )


def _check_no_nul(given: Mapping[str, Any]) -> None:
    """A NUL byte cannot be carried by a command line (argv is NUL-terminated): refuse it here,
    before a run exists, instead of letting the launch fail with a run already recorded."""
    for key, value in given.items():
        if "\0" in str(key) or "\0" in str(value):
            raise ParameterError(
                f"Parameter {str(key)!r} contains a NUL byte, which no command line can carry; "
                "remove it from the name and value"
            )


def _convert_given(spec: ParamSpec, raw: Any, cwd: Path, entry: str) -> Any:
    try:
        return convert_value(spec, raw, cwd=cwd)
    except ValueError as err:
        raise ParameterError(
            f"Bad value {raw!r} for parameter {spec.name!r} ({spec.type}) "
            f"of entry point {entry!r}: {err}"
        ) from None


def _check_extra(key: str, value: Any) -> str:
    if not _EXTRA_KEY.match(key):
        raise ParameterError(
            f"Invalid parameter name {key!r}: extra parameters are passed as --NAME VALUE, "
            "so NAME may only contain letters, digits, '_', '.' and '-' (not first)"
        )
    return str(value)


def parse_param_list(items: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` → ``{k: v}``: split on the first '=', a repeated key is an error."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"Invalid format for -P parameter {item!r}: use -P NAME=VALUE")
        if key in params:
            raise ParameterError(f"Repeated parameter: {key!r} (give each -P NAME once)")
        params[key] = value
    return params
