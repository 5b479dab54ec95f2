"""``satchel envs list | rm | gc``: look at and clean the environment cache."""

from __future__ import annotations

import json
import re
import time

import click

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
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def list_command(output: str) -> None:
    """List cached environments: key, python, size, last used, projects."""
    from satchel.envs.cache import EnvCache

    entries = EnvCache().entries()
    if output == "json":
        rows = [
            {
                "key": e.key,
                "python": e.python,
                "manager": e.manager,
                "size": e.size,
                "created": e.created,
                "last_used": e.last_used,
                "projects": list(e.projects),
                "path": str(e.path),
            }
            for e in entries
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not entries:
        click.echo("no cached environments")
        return
    click.echo(
        f"{'KEY':<24}  {'MANAGER':<10}  {'PYTHON':<8}  {'SIZE':>9}  {'LAST USED':<10}  PROJECTS"
    )
    for e in entries:
        click.echo(
            f"{e.key:<24}  {e.manager:<10}  {e.python:<8}  {_size(e.size):>9}  "
            f"{_ago(e.last_used):<10}  {', '.join(e.projects)}"
        )


@envs.command("rm")
@click.argument("key")
def rm_command(key: str) -> None:
    """Remove the environment whose key starts with KEY (refuses an ambiguous prefix)."""
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
    """Remove unused environments, stale temp dirs, orphaned locks and old build logs."""
    from satchel.envs.cache import EnvCache

    freed = EnvCache().gc(parse_age(older_than))
    for what, size in freed:
        click.echo(f"removed {what} ({_size(size)})")
    click.echo(f"freed {_size(sum(size for _, size in freed))} in {len(freed)} item(s)")
