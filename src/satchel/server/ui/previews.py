"""Artifact listing and previews: what kind a file is, and its first bytes shown safely.

Previews read at most ``PREVIEW_BYTES`` of a file (a 10 GB log previews as fast as a small
one). Text is shown escaped (by the template) after terminal escapes are removed; JSON is
pretty-printed; CSV/TSV becomes a table of the first ``CSV_ROWS`` rows; images and HTML are
loaded from the raw route, which serves every artifact under a sandboxing CSP (HTML also sits
in an ``<iframe sandbox>`` without scripts), so a hostile artifact can neither run script nor
reach the UI's cookies.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from satchel.errors import InvalidValueError, NotFoundError
from satchel.server.ui.formatting import terminal_text
from satchel.tracking.client import Client

__all__ = [
    "RAW_CSP",
    "artifact_tree",
    "local_artifact",
    "media_type",
    "preview",
    "preview_kind",
]

PREVIEW_BYTES = 512 * 1024
CSV_ROWS = 200
CSV_COLUMNS = 50
TREE_LIMIT = 5000
RAW_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; media-src 'self'"
)
_KINDS = {
    "image": {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg", ".ico"},
    "csv": {".csv", ".tsv"},
    "html": {".html", ".htm"},
    "json": {".json", ".ipynb"},
    "text": {
        ".txt", ".log", ".err", ".out", ".cfg", ".conf", ".ini", ".toml", ".yaml", ".yml",
        ".xml", ".jsonl", ".py", ".md", ".rst", ".patch", ".diff", ".lock", ".sh", ".r",
        ".sql", ".properties", ".pbtxt", ".env", ".mlproject", ".js", ".css", ".tex",
    },
}  # fmt: skip
_TEXT_NAMES = {"mlproject", "mlmodel", "dockerfile", "makefile", "license", "readme"}


def preview_kind(path: str) -> str:
    name = path.rpartition("/")[2].lower()
    ext = os.path.splitext(name)[1]
    for kind, exts in _KINDS.items():
        if ext in exts:
            return kind
    return "text" if name in _TEXT_NAMES else "none"


def media_type(path: str) -> str:
    kind = preview_kind(path)
    if kind in ("text", "json", "csv"):
        return "text/plain; charset=utf-8"  # never let a browser sniff text into HTML
    guessed = mimetypes.guess_type(path.rpartition("/")[2])[0]
    return guessed or "application/octet-stream"


def artifact_tree(client: Client, run_id: str) -> list[dict[str, Any]]:
    """Every artifact, depth first: ``{"path", "name", "is_dir", "file_size", "depth",
    "kind"}``; at most TREE_LIMIT entries."""
    out: list[dict[str, Any]] = []

    def walk(folder: str | None, depth: int) -> None:
        for info in client.list_artifacts(run_id, folder):
            if len(out) >= TREE_LIMIT:
                return
            out.append(
                {
                    "path": info.path,
                    "name": info.path.rpartition("/")[2],
                    "is_dir": info.is_dir,
                    "file_size": info.file_size,
                    "depth": depth,
                    "kind": "dir" if info.is_dir else preview_kind(info.path),
                }
            )
            if info.is_dir:
                walk(info.path, depth + 1)

    walk(None, 0)
    return out


def _check_path(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidValueError(
            f"artifact path {path!r} is not a relative file path",
            hint="pick a file from the artifacts tree",
        )
    return "/".join(parts)


@contextmanager
def local_artifact(client: Client, run_id: str, path: str) -> Iterator[Path]:
    """A local file holding the artifact: the file itself in a local repository, else a
    temporary download removed afterwards. NotFoundError when it is not a file."""
    path = _check_path(path)
    repo = client._repo(run_id)
    local = getattr(repo, "local_path", None)
    if local is not None:
        found = Path(local(path))
        if not found.is_file():
            raise NotFoundError(f"run {run_id} has no artifact file {path!r}", hint="see its tree")
        yield found
        return
    tmp = tempfile.mkdtemp(prefix="satchel-ui-")
    try:
        yield Path(client.download_artifacts(run_id, path, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def preview(client: Client, run_id: str, path: str) -> dict[str, Any]:
    """``{"path", "kind", "size", "truncated", ...}`` plus ``text`` (text/json),
    ``header`` + ``rows`` (csv) or nothing (image/html/none: the page links the raw route)."""
    kind = preview_kind(path)
    with local_artifact(client, run_id, path) as local:
        size = local.stat().st_size
        out: dict[str, Any] = {"path": path, "kind": kind, "size": size, "truncated": False}
        if kind in ("image", "html", "none"):
            return out
        with local.open("rb") as fh:
            head = fh.read(PREVIEW_BYTES)
    out["truncated"] = size > len(head)
    text = head.decode("utf-8", errors="replace")
    if kind == "csv":
        out.update(_csv_table(text, "\t" if path.lower().endswith(".tsv") else ","))
        return out
    if kind == "json" and not out["truncated"]:
        with contextlib.suppress(ValueError):  # a broken JSON file is still shown, as text
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    out["text"] = terminal_text(text)
    return out


def _csv_table(text: str, delimiter: str) -> dict[str, Any]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append([terminal_text(cell) for cell in row[:CSV_COLUMNS]])
        if len(rows) > CSV_ROWS:
            break
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"header": header, "rows": body[:CSV_ROWS], "more_rows": len(body) > CSV_ROWS}
