"""satchel envs ... (PLACEHOLDER: replaced by its owner)."""

import click


@click.group()
def envs() -> None:
    """PLACEHOLDER"""
