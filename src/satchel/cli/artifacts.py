"""satchel artifacts ... (PLACEHOLDER: replaced by its owner)."""

import click


@click.group()
def artifacts() -> None:
    """PLACEHOLDER"""
