"""A sha256 per model file, written when the model is saved and checked before it is loaded.

The manifest (``satchel.sha256``, ``sha256sum`` format) lists every file of the model
directory, MLmodel included. Loading refuses a directory whose files differ from it in any
way: a changed byte, a missing file, or an extra one (a dropped-in ``.pth`` or pickle).
The manifest's own digest is recorded in the tracking store as well (a run tag), so a
loader that reaches the model through a run or the registry also catches a rewritten
manifest. Models without a manifest (written by MLflow) load as before. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from satchel.errors import ModelIntegrityError

__all__ = ["MANIFEST", "ModelIntegrityError", "digest_file", "verify", "write_manifest"]

MANIFEST = "satchel.sha256"
_CHUNK = 1024 * 1024


def digest_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files(root: Path) -> list[str]:
    out = []
    for current, _dirs, files in os.walk(root):
        for name in files:
            rel = os.path.relpath(os.path.join(current, name), root).replace(os.sep, "/")
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


def write_manifest(root: Path) -> str:
    """Write the manifest for every file under ``root``; return the manifest's own digest."""
    lines = [f"{digest_file(root / rel)}  {rel}\n" for rel in _files(root)]
    (root / MANIFEST).write_text("".join(lines))
    return digest_file(root / MANIFEST)


def _read_manifest(root: Path) -> dict[str, str]:
    recorded = {}
    for line in (root / MANIFEST).read_text().splitlines():
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ModelIntegrityError(
                f"model at {root}: {MANIFEST} is malformed",
                hint="the model was modified after logging; log it again",
            )
        recorded[rel] = digest
    return recorded


def verify(root: Path, manifest_digest: str | None = None) -> bool:
    """Check ``root`` against its manifest (and the manifest against ``manifest_digest``).

    Returns False when there is no manifest (an MLflow-written model); raises
    ModelIntegrityError naming the first file that does not match."""
    if not (root / MANIFEST).is_file():
        if manifest_digest:
            raise _tampered(root, MANIFEST, "is missing")
        return False
    if manifest_digest and digest_file(root / MANIFEST) != manifest_digest:
        raise _tampered(root, MANIFEST, "differs from the digest recorded in the tracking store")
    recorded = _read_manifest(root)
    present = _files(root)
    for rel in present:
        if rel not in recorded:
            raise _tampered(root, rel, "was not part of the model when it was logged")
        if digest_file(root / rel) != recorded[rel]:
            raise _tampered(root, rel, "does not match its sha256 recorded at logging")
    for rel in recorded:
        if rel not in present:
            raise _tampered(root, rel, "is missing")
    return True


def _tampered(root: Path, rel: str, what: str) -> ModelIntegrityError:
    return ModelIntegrityError(
        f"refusing to load the model at {root}: {rel} {what}",
        hint="the model files were changed after logging; log the model again",
    )
