"""Write one model directory in MLflow's format, atomically, with its checksums.

A flavour gives what is specific to it (its files, its ``flavors`` entries, the packages it
needs); this module adds what every model has: MLmodel, requirements.txt, python_env.yaml,
the input example and the signature, and the sha256 manifest written last. Everything is
built in a temporary directory next to the destination and renamed into place, so a failure
leaves nothing behind.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satchel.errors import ModelError
from satchel.models import _yaml
from satchel.models.checksums import write_manifest
from satchel.models.mlmodel import write_mlmodel
from satchel.models.requirements import pinned, python_env
from satchel.models.signature import make_example, signature_of

__all__ = ["FlavorFiles", "save_model_dir"]


class FlavorFiles:
    """What a flavour contributes: its ``flavors`` entries and its packages."""

    def __init__(
        self,
        flavors: dict[str, dict[str, Any]],
        packages: list[str],
        predict: Callable[[Any], Any] | None = None,
    ) -> None:
        self.flavors = flavors  # must include "python_function"
        self.packages = packages  # pinned requirement lines
        self.predict = predict  # used once on the input example, for the output schema


def _common(
    doc: dict[str, Any], input_example: Any, predict: Callable[[Any], Any] | None, tmp: Path
) -> str | None:
    """Write the example and the signature; return the example's kind."""
    if input_example is None:
        return None
    example = make_example(input_example)
    for name, text in example.files().items():
        (tmp / name).write_text(text)
    doc["saved_input_example_info"] = example.info()
    output = predict(example.value) if predict is not None else None
    signature = signature_of(example, output)
    if signature is not None:
        doc["signature"] = signature
    return example.kind


def save_model_dir(
    path: str | os.PathLike[str],
    write_flavor: Callable[[Path], FlavorFiles],
    *,
    input_example: Any = None,
    requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
) -> str:
    """Write the model to ``path`` (must not exist); return the manifest's sha256."""
    dest = Path(path)
    if dest.exists():
        raise ModelError(
            f"cannot save a model to {dest}: it already exists", hint="choose a new directory"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".satchel-model-", dir=dest.parent))
    try:
        files = write_flavor(tmp)
        model_id = f"m-{uuid.uuid4().hex}"
        doc: dict[str, Any] = {
            "artifact_path": artifact_path or dest.name,
            "flavors": files.flavors,
            "model_uuid": model_id,
        }
        if run_id:
            doc["run_id"] = run_id
        kind = _common(doc, input_example, files.predict, tmp)
        packages = list(files.packages)
        if kind == "dataframe":  # served requests become DataFrames, as in training
            packages += pinned(["pandas"])
        lines = list(requirements or packages) + list(extra_pip_requirements or [])
        (tmp / "requirements.txt").write_text("".join(f"{ln}\n" for ln in lines))
        (tmp / "python_env.yaml").write_text(_yaml.dump(python_env()))
        doc["utc_time_created"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        doc["model_size_bytes"] = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
        doc["satchel_version"] = _version()
        doc["python_version"] = platform.python_version()
        write_mlmodel(tmp, doc)
        digest = write_manifest(tmp)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return digest


def _version() -> str:
    from satchel._version import __version__

    return __version__
