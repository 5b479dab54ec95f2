"""``satchel envs list | rm | gc``: look at and clean the environment cache."""

from __future__ import annotations

import re
import time

import click

from satchel.cli._output import FORMATS, emit
from satchel.errors import UsageError

__all__ = ["envs"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _ago(ts: float) -> str:
    if not ts:
        return "never"
    secs = max(0, time.time() - ts)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{int(secs // size)}{unit} ago"
    return "just now"


def _ms(ts: float) -> int | None:
    return int(ts * 1000) if ts else None


def parse_age(text: str) -> float:
    found = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if not found:
        raise UsageError(f"--older-than {text!r} is not a duration", "write e.g. 30d, 12h, 2w")
    return int(found.group(1)) * _UNITS[found.group(2)]


@click.group()
def envs() -> None:
    """Inspect and clean cached project environments (under SATCHEL_HOME/envs)."""


@envs.command("list")
@click.option(
    "--output",
    "-o",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format. json: a list of {key, manager, python, size (bytes), created, "
    "last_used (ms since the epoch), projects, path}.",
)
def list_command(output: str) -> None:
    """List cached environments: key, python, size, last used, projects."""
    from satchel.envs.cache import EnvCache

    entries = EnvCache().entries()
    records = [
        {
            "key": e.key,
            "manager": e.manager,
            "python": e.python,
            "size": e.size,
            "created": _ms(e.created),
            "last_used": _ms(e.last_used),
            "projects": list(e.projects),
            "path": str(e.path),
        }
        for e in entries
    ]
    # the table shows "1.2 MB" / "3h ago"; csv keeps the exact numbers for spreadsheets
    readable = output == "table"
    rows = [
        {
            **r,
            "size": _size(e.size) if readable else e.size,
            "last_used": _ago(e.last_used) if readable else r["last_used"],
            "projects": (", " if readable else " ").join(e.projects),
        }
        for r, e in zip(records, entries, strict=True)
    ]
    columns = ["key", "manager", "python", "size", "last_used", "projects"]
    emit(output, rows, columns, json_obj=records, empty="no cached environments", keep=("key",))


@envs.command("rm")
@click.argument("key")
def rm_command(key: str) -> None:
    """Remove the environment whose key starts with KEY (refuses an ambiguous prefix, and an
    environment a running run is using)."""
    from satchel.envs.cache import EnvCache

    removed = EnvCache().remove(key)
    click.echo(f"removed {removed.key} ({_size(removed.size)})")


@envs.command("gc")
@click.option(
    "--older-than",
    default="30d",
    show_default=True,
    help="Remove environments not used for this long (e.g. 30d, 12h, 2w).",
)
def gc_command(older_than: str) -> None:
    """Remove unused environments (never one a running run is using), stale temp dirs,
    orphaned locks and old build logs."""
    from satchel.envs.cache import EnvCache

    report = EnvCache().gc(parse_age(older_than))
    for key, why in report.skipped:
        click.echo(f"skipped {key}: {why}")
    for what, size in report.freed:
        click.echo(f"removed {what} ({_size(size)})")
    total = sum(size for _, size in report.freed)
    click.echo(f"freed {_size(total)} in {len(report.freed)} item(s)")
