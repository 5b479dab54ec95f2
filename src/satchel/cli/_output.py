"""How CLI commands print records: an aligned table, JSON for scripts, CSV for spreadsheets.

- table: columns sized to their content (at most MAX_CELL characters, ids never cut) and, on
  a terminal, shrunk to fit its width; cut values end in "…"; numeric columns are
  right-aligned. Numbers are shown readably (``0.8999999999999999`` → ``0.9``, at most 6
  significant digits once the full form gets long); headers too long for their column are cut
  in the middle (``metrics.va…_loss``) so similar names stay distinguishable.
- json: ``json.dumps(..., sort_keys=True, indent=2)``; NaN / ±inf metric values become the
  strings "NaN", "Infinity", "-Infinity" so strict JSON parsers (jq) accept the output.
  Timestamps are integers (milliseconds since the epoch). Each command documents its shape.
- csv: a header row, then one row per record; the same columns as the table, untruncated
  and at full precision, byte-exact.

Control characters in stored data never reach the terminal raw: table cells and headers go
through ``satchel.terminal.printable`` (``\x1b`` shown as text), and JSON escapes the C1
range too (``\u009b``: still the exact value to any JSON parser).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import click

from satchel.terminal import printable

__all__ = [
    "FORMATS",
    "emit",
    "fmt_duration",
    "fmt_time",
    "json_safe",
    "readable",
    "readable_values",
    "table",
]

FORMATS = ("table", "json", "csv")
MAX_CELL = 48  # widest a table column gets before truncation
MIN_CELL = 8  # narrowest a column is shrunk to when the terminal is too small
GAP = "  "
READABLE_LEN = 10  # a number's full form up to this long is shown as is


def emit(
    output: str,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    json_obj: Any = None,
    empty: str = "",
    keep: Sequence[str] = (),
) -> None:
    """Print ``rows`` as ``output``; JSON prints ``json_obj`` when given, else the rows.
    ``keep``: table columns never truncated (ids)."""
    # color=True: click would strip ANSI sequences from piped output, and JSON/CSV stay exact
    if output == "json":
        click.echo(to_json(rows if json_obj is None else json_obj), color=True)
    elif output == "csv":
        click.echo(to_csv(rows, columns), nl=False, color=True)
    elif not rows and empty:
        click.echo(empty, err=True)
    else:
        shown = [readable_values([r.get(c) for r in rows]) for c in columns]
        click.echo(table([list(cells) for cells in zip(*shown, strict=True)], columns, keep))


def to_json(obj: Any) -> str:
    text = json.dumps(json_safe(obj), sort_keys=True, indent=2, ensure_ascii=False)
    # json escapes C0 controls itself; C1 (and bidi overrides) are legal raw in JSON strings
    # but act on a terminal, so they are written as \u escapes (the same value when parsed).
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def readable(value: Any) -> str:
    """``cell`` for people: a float (or a string holding one, as params are stored) whose
    full form is long is cut to 6 significant digits. JSON and CSV keep the full value."""
    if isinstance(value, bool) or not isinstance(value, (float, str)):
        return cell(value)
    text = cell(value)
    if len(text) <= READABLE_LEN or (isinstance(value, str) and not _is_decimal(text)):
        return text
    return format(float(text), ".6g")


def readable_values(values: Sequence[Any]) -> list[str]:
    """``readable`` for values shown side by side (a table column, a compare row): if two
    different values would look the same (0.3 and 0.30000000000000004), all are shown in
    full, so what differs stays visible. The one number format of list and compare."""
    shown = [readable(v) for v in values]
    distinct = {cell(v) for v in values}
    return shown if len(set(shown)) >= len(distinct) else [cell(v) for v in values]


def _is_decimal(text: str) -> bool:
    """A float literal with a fraction or exponent (not an int, id or version string)."""
    return any(ch in text for ch in ".eE") and _is_number(text)


def _ellipsis() -> str:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "..."
    return "…"


def truncate(text: str, width: int) -> str:
    text = " ".join(text.splitlines())  # one record, one line
    if len(text) <= width:
        return text
    mark = _ellipsis()
    return text[: max(width - len(mark), 1)] + mark


def truncate_middle(text: str, width: int) -> str:
    """A header that does not fit loses its ``metrics.``-style prefix first, then its middle:
    ``metrics.val_loss`` and ``metrics.val_acc`` stay distinguishable."""
    if len(text) <= width:
        return text
    text = text.partition(".")[2] or text
    if len(text) <= width:
        return text
    mark = _ellipsis()
    keep = max(width - len(mark), 2)
    head = keep // 2
    return text[:head] + mark + text[len(text) - (keep - head) :]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _budget(n_columns: int) -> int | None:
    """The terminal's width left for cells; None (no limit) when output is piped."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((120, 24)).columns - len(GAP) * (n_columns - 1)


def _widths(
    rows: Sequence[Sequence[str]], headers: Sequence[str], keep: Sequence[str], max_cell: int
) -> list[int]:
    widths = [
        max([len(h)] + [len(r[i]) for r in rows])
        if h in keep
        else min(max_cell, max([len(h)] + [len(r[i]) for r in rows]))
        for i, h in enumerate(headers)
    ]
    budget = _budget(len(headers))
    shrinkable = [i for i, h in enumerate(headers) if h not in keep]
    while budget is not None and shrinkable and sum(widths) > budget:
        widest = max(shrinkable, key=widths.__getitem__)  # shrink the widest until it fits
        if widths[widest] <= MIN_CELL:
            break
        widths[widest] -= 1
    return widths


def table(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    keep: Sequence[str] = (),
    max_cell: int = MAX_CELL,
) -> str:
    """An aligned plain-text table: header, a rule, one line per row. Columns named in
    ``keep`` (ids people copy) are never truncated; others stop at ``max_cell`` characters
    and shrink to fit the terminal. Cells are made one printable line first."""
    rows = [[_one_line(value) for value in row] for row in rows]
    headers = [_one_line(h) for h in headers]
    widths = _widths(rows, headers, keep, max_cell)
    numeric = [
        bool(rows) and all(_is_number(r[i]) or not r[i] for r in rows) for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        cells = []
        for value, width, right in zip(values, widths, numeric, strict=True):
            text = truncate(value, width)
            cells.append(text.rjust(width) if right else text.ljust(width))
        return GAP.join(cells).rstrip()

    head = [truncate_middle(h, w) for h, w in zip(headers, widths, strict=True)]
    out = [line(head), GAP.join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _one_line(text: str) -> str:
    """A cell as one line of printable text: line breaks and tabs become spaces, any other
    control character an escape (a run name must not retitle the user's terminal)."""
    return printable(" ".join(text.splitlines()).replace("\t", " "))


def fmt_time(ms: int | None) -> str:
    """Milliseconds since the epoch → local 'YYYY-MM-DD HH:MM:SS' ('' when unknown)."""
    if ms is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def fmt_duration(start_ms: int | None, end_ms: int | None) -> str:
    if start_ms is None or end_ms is None:
        return ""
    seconds = max(end_ms - start_ms, 0) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
