"""What a key, a param, a tag or a metric may look like (MLflow's rules, a little stricter).

Used by every store and by the fluent API, so a bad value fails the same way everywhere:
one ``InvalidValueError`` line naming the key and the rule. Standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from numbers import Integral, Real

from satchel.errors import InvalidValueError

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "RESERVED_TAG_PREFIXES",
    "refuse_reserved_tags",
    "validate_key",
    "validate_metric",
    "validate_param",
    "validate_run_id",
    "validate_tag",
]

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500

# Alphanumerics, underscore, dash, period, space and slash — MLflow's set.
_KEY_RE = re.compile(r"^[\w\-. /]+$")
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,256}$")


def validate_key(key: object, what: str = "key") -> str:
    """Return ``key`` if it is a usable name; InvalidValueError saying why otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidValueError(
            f"{what} {key!r} is empty or not a string",
            hint="use a non-empty name such as 'rmse' or 'model/alpha'",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidValueError(
            f"{what} '{key[:40]}...' is {len(key)} characters long",
            hint=f"keep names at most {MAX_KEY_LENGTH} characters",
        )
    if not _KEY_RE.match(key):
        raise InvalidValueError(
            f"{what} {key!r} contains characters that are not allowed",
            hint="use letters, digits, '_', '-', '.', ' ' and '/'",
        )
    # Keys become artifact-like paths in some UIs and exports: keep them inside their folder.
    if key.startswith("/") or any(part in ("..", ".") for part in key.split("/")):
        raise InvalidValueError(
            f"{what} {key!r} is an absolute path or has '.'/'..' parts",
            hint="use a relative name such as 'train/loss'",
        )
    return key


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def validate_param(key: object, value: object) -> tuple[str, str]:
    """(key, value as a string); values are stored as text, like MLflow."""
    key = validate_key(key, "param key")
    text = _as_text(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidValueError(
            f"param {key!r} value is {len(text)} characters long",
            hint=f"param values hold at most {MAX_PARAM_VALUE_LENGTH}; "
            "log long text with log_text instead",
        )
    return key, text


def validate_tag(key: object, value: object) -> tuple[str, str]:
    key = validate_key(key, "tag key")
    text = _as_text(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidValueError(
            f"tag {key!r} value is {len(text)} characters long",
            hint=f"tag values hold at most {MAX_TAG_VALUE_LENGTH}",
        )
    return key, text


# Tags no caller may write: Satchel's runner keeps what decides which process a cancel
# signals outside the store (``runner/control.py``); a tag under these names would only
# pretend to say something about the runner.
RESERVED_TAG_PREFIXES = ("satchel.runner.",)


def refuse_reserved_tags(keys: Iterable[object]) -> None:
    """InvalidValueError for the first key under a reserved prefix (a user's write)."""
    for key in keys:
        if isinstance(key, str) and key.startswith(RESERVED_TAG_PREFIXES):
            raise InvalidValueError(
                f"tag {key!r} is reserved: satchel.runner.* tags cannot be set",
                hint="choose another tag name",
            )


def validate_metric(
    key: object, value: object, timestamp: object, step: object
) -> tuple[str, float, int, int]:
    """(key, float value, int timestamp ms, int step). NaN and ±inf are real numbers here."""
    key = validate_key(key, "metric key")
    # bool is an int subclass; True as a metric is nearly always a bug in the caller.
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidValueError(
            f"metric {key!r} value {value!r} is not a number",
            hint="log an int or a float (NaN and inf are allowed)",
        )
    if isinstance(step, bool) or not isinstance(step, Integral):
        raise InvalidValueError(
            f"metric {key!r} step {step!r} is not an integer",
            hint="pass step as an int such as step=3",
        )
    if isinstance(timestamp, bool) or not isinstance(timestamp, Integral):
        raise InvalidValueError(
            f"metric {key!r} timestamp {timestamp!r} is not an integer",
            hint="pass milliseconds since the epoch as an int",
        )
    return key, float(value), int(timestamp), int(step)


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidValueError(
            f"run id {run_id!r} is malformed", hint="run ids are 32 hexadecimal characters"
        )
    return run_id


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidValueError(
            f"experiment name {name!r} is empty or not a string",
            hint="give the experiment a non-empty name",
        )
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidValueError(
            f"experiment name is {len(name)} characters long",
            hint=f"keep it at most {MAX_EXPERIMENT_NAME_LENGTH}",
        )
    return name


def is_nan(value: float) -> bool:
    return math.isnan(value)
