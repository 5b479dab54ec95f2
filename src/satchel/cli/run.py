"""satchel run (PLACEHOLDER: replaced by its owner)."""

import click


@click.command("run")
def run_command() -> None:
    """PLACEHOLDER"""


runs_commands: list[click.Command] = []
