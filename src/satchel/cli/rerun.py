"""``satchel runs rerun`` and ``satchel runs diff``: thin faces over ``runner.rerun`` and
``runner.diff``.

``runs diff --output json`` prints ``RunDiff.as_dict()``: ``{"run_a", "run_b", "commits":
[a, b], "code": [unified diff lines], "code_files": [paths], "env_files": [paths],
"packages": {"added", "removed", "changed": [...]}, "env": {tag: [a, b]}, "params": {key:
[a, b]}, "metrics": {key: [a, b]}, "command": [a, b] or []}``; only what differs is listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from satchel.cli._options import make_client, tracking_uri_option
from satchel.tracking.views import resolve_run_id

if TYPE_CHECKING:
    from satchel.runner.diff import RunDiff

__all__ = ["diff", "rerun"]


@click.command("rerun")
@click.argument("run_id")
@click.option(
    "-P", "--param-list", "params", multiple=True, metavar="NAME=VALUE",
    help="Override a recorded parameter (repeatable).",
)  # fmt: skip
@click.option(
    "--env-manager", default=None, metavar="local|uv|virtualenv",
    help="How to build the environment (default: as recorded).",
)  # fmt: skip
@click.option("-b", "--backend", default=None, help="Where to run (default: as recorded).")
@click.option("--run-name", default=None, help="Name of the new run.")
@click.option("--detach", is_flag=True, help="Start the run in the background; print its id.")
@click.option("--dry-run", is_flag=True, help="Print what would run; create nothing.")
@tracking_uri_option
def rerun(
    run_id: str,
    params: tuple[str, ...],
    env_manager: str | None,
    backend: str | None,
    run_name: str | None,
    detach: bool,
    dry_run: bool,
    tracking_uri: str | None,
) -> None:
    """Run RUN_ID again: its recorded code, environment, entry point and parameters."""
    from satchel.cli.run import start
    from satchel.projects.params import parse_param_list
    from satchel.runner.rerun import rerun_request

    client = make_client(tracking_uri, read_only=True)
    request = rerun_request(
        client,
        resolve_run_id(client, run_id),
        parameters=parse_param_list(params),
        env_manager=env_manager,
        backend=backend,
        run_name=run_name,
        tracking_uri=tracking_uri,
    )
    client.close()
    start(request, detach=detach, dry_run=dry_run)


@click.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for scripts.",
)  # fmt: skip
@tracking_uri_option
def diff(run_a: str, run_b: str, output: str, tracking_uri: str | None) -> None:
    """Show what differs between two runs: code, environment, params, metrics, command."""
    from satchel.cli._output import to_json
    from satchel.runner.diff import diff_runs

    client = make_client(tracking_uri, read_only=True)
    found = diff_runs(client, resolve_run_id(client, run_a), resolve_run_id(client, run_b))
    if output == "json":
        click.echo(to_json(found.as_dict()))
    else:
        from satchel.terminal import printable

        click.echo(printable(_text(found)), nl=False)  # hostile code must not drive the terminal


def _text(found: RunDiff) -> str:
    a, b = found.commits
    lines = [
        f"--- {found.run_a} ({a or 'no git commit'})",
        f"+++ {found.run_b} ({b or 'no git commit'})",
    ]
    if found.code_files:
        lines += ["", f"code: {len(found.code_files)} file(s) differ"]
        lines += [ln.rstrip("\n") for ln in found.code]
    if found.packages or found.env or found.env_files:
        lines += ["", "environment:"]
        lines += [f"  declared in: {', '.join(found.env_files)}"] if found.env_files else []
        for kind, pins in found.packages.items():
            lines += [f"  {kind}: {pin}" for pin in pins]
        lines += [f"  {k}: {_pair(v)}" for k, v in found.env.items()]
    for title, values in (("params", found.params), ("metrics", found.metrics)):
        if values:
            lines += ["", f"{title}:"] + [
                f"  {k}: {_pair(v, title == 'metrics')}" for k, v in values.items()
            ]
    if found.command:
        lines += ["", "command:", f"  - {found.command[0]}", f"  + {found.command[1]}"]
    if len(lines) == 2:
        lines += ["", "no differences"]
    return "\n".join(lines) + "\n"


def _pair(values: list[Any], delta: bool = False) -> str:
    old, new = values
    text = f"{'(none)' if old is None else old} -> {'(none)' if new is None else new}"
    if delta and isinstance(old, (int, float)) and isinstance(new, (int, float)):
        text += f" ({new - old:+.6g})"
    return text
