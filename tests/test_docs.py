"""Docs that cannot rot: every CLI command has help text and is listed in README.md."""

from __future__ import annotations

import click

from conftest import REPO
from satchel.cli import cli


def _commands(group: click.Group, prefix: str = "satchel") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def test_every_command_has_help_text() -> None:
    missing = [path for path, cmd in _commands(cli) if not (cmd.help or "").strip()]
    assert missing == []


def test_every_command_is_listed_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    leaves = [path for path, cmd in _commands(cli) if not isinstance(cmd, click.Group)]
    assert leaves, "the CLI lost its commands"
    assert [path for path in leaves if f"`{path}" not in readme] == []
