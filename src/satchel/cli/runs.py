"""satchel runs ... (PLACEHOLDER: replaced by its owner)."""

import click


@click.group()
def runs() -> None:
    """PLACEHOLDER"""
