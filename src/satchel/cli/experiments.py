"""satchel experiments ... (PLACEHOLDER: replaced by its owner)."""

import click


@click.group()
def experiments() -> None:
    """PLACEHOLDER"""
