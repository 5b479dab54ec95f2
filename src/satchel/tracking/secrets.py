"""Which parameters are secrets, and how they are shown: one rule for every face.

A parameter whose name looks secret (``password``, ``api_key``, ``db-token``...) keeps its
real value in the store (project code and the MLflow API read it back), but whatever shows
it to a person masks it as ``***``: the rendered command recorded in ``satchel.command``, the
dry run, and ``satchel runs list|show|compare`` in every output format unless the user asks
with ``--show-secrets``. Masks are applied to values, by name, never by searching text.

Standard library only (``satchel.tracking`` is imported inside project environments).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from satchel.tracking.entities import Run, RunData

__all__ = ["MASK", "SECRET_WORDS", "is_secret_name", "mask_params", "masked_run"]

SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
    "auth",
)
MASK = "***"


def is_secret_name(name: str) -> bool:
    lowered = re.sub(r"[-.]", "_", name.lower())
    return any(word in lowered for word in SECRET_WORDS)


def mask_params(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` with the values of secret-named keys replaced by ``***``."""
    return {k: MASK if is_secret_name(k) and v else v for k, v in params.items()}


def masked_run(run: Run) -> Run:
    """``run`` with its secret-named params masked, for showing to a person."""
    data = run.data
    return Run(run.info, RunData(dict(data.metrics), mask_params(data.params), dict(data.tags)))
