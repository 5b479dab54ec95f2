"""Parsed YAML documents cached by content, so an unchanged project never imports PyYAML.

Importing PyYAML costs ~13 ms, a tenth of a whole `satchel run` with a cached env, and the
same few small files (MLproject, python_env.yaml) are parsed on every run. We cache the
*raw* document, keyed by a hash of the file's exact text (plus the parser flavour, Satchel's
and Python's versions), never the validated records: every check downstream still runs on
every run, against the file system as it is now. A changed byte is a different key, so there
is nothing to invalidate and no stat-timestamp race. Only documents that survive a JSON round
trip unchanged are stored (a date or a non-string key is simply parsed each time); errors are
never cached, so a broken file reports its line as before. The cache is best effort: any
problem reading or writing it falls back to parsing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satchel import __version__

__all__ = ["cache_dir", "cached_parse"]


def cache_dir() -> Path:
    from satchel.home import satchel_home

    return satchel_home() / "specs"


def _key(text: str, flavour: str) -> str:
    material = f"{__version__}\0{sys.version_info[:2]}\0{flavour}\0{text}"
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def cached_parse(text: str, flavour: str, parse: Callable[[str], Any]) -> Any:
    """``parse(text)``, or the document it returned before for this exact ``text``.

    ``flavour`` names the parser (two parsers of the same text must not share an entry)."""
    path = cache_dir() / f"{_key(text, flavour)}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["doc"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: parse, and store what we can
    doc = parse(text)
    _store(path, doc)
    return doc


def _store(path: Path, doc: Any) -> None:
    try:
        blob = json.dumps({"doc": doc}, allow_nan=False)
    except (TypeError, ValueError):
        return  # not plain JSON (dates, non-string keys...): parsed on every run instead
    if json.loads(blob)["doc"] != doc:
        return  # JSON would change it (e.g. int keys → strings): never serve a different doc
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(blob, encoding="utf-8")
        os.replace(tmp, path)  # readers see the whole entry or none
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
