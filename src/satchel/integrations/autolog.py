"""``satchel.autolog()``: turn on every autolog integration whose library is installed."""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["INTEGRATIONS", "autolog"]

# library import name -> the integration module (each has ``enable(**options)``)
INTEGRATIONS = {
    "sklearn": "satchel.integrations.autolog_sklearn",
    "keras": "satchel.integrations.autolog_keras",
}


def autolog(**options: Any) -> list[str]:
    """Enable each integration whose library is importable; returns the ones enabled."""
    enabled = []
    for library, module in INTEGRATIONS.items():
        if importlib.util.find_spec(library) is None:
            continue
        importlib.import_module(module).enable(**options)
        enabled.append(library)
    return enabled
