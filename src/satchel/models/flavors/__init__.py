"""Model flavours: one module per framework, each with ``save`` and ``load``.

``load(model_dir, conf)`` returns an object with ``predict``; ``LOADERS`` maps a flavour
name in MLmodel to its module, in the order Satchel prefers them when several are present.
"""

from __future__ import annotations

__all__ = ["LOADERS"]

LOADERS = {
    "sklearn": "satchel.models.flavors.sklearn",
    "keras": "satchel.models.flavors.keras",
    "satchel_python_model": "satchel.models.flavors.python_model",
}
