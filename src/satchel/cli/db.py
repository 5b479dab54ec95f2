"""``satchel db upgrade|copy``: the tracking database's schema, and moving a store's runs
into PostgreSQL. Thin: each command calls the library (copy: the tracking data, then who
may do what)."""

from __future__ import annotations

import click

__all__ = ["db"]

_URI_HELP = "sqlite:///path/to/satchel.db, a store directory, or postgresql://user:pass@host/db"


@click.group()
def db() -> None:
    """Upgrade a tracking database's schema; copy a store into PostgreSQL."""


@db.command("upgrade")
@click.option(
    "--backend-store-uri",
    required=True,
    envvar="SATCHEL_TRACKING_URI",
    metavar="URI",
    help=f"The store to upgrade: {_URI_HELP} [env SATCHEL_TRACKING_URI].",
)
def upgrade(backend_store_uri: str) -> None:
    """Apply the store's pending schema migrations now (servers also apply them on start)."""
    from satchel.tracking.store.upgrade import upgrade as upgrade_store

    applied = upgrade_store(backend_store_uri)
    if applied:
        click.echo(f"Applied migrations {', '.join(map(str, applied))}.")
    else:
        click.echo("The schema is up to date.")


@db.command("copy")
@click.option("--from", "source", required=True, metavar="URI", help=f"Copy from: {_URI_HELP}.")
@click.option(
    "--to", "dest", required=True, metavar="URI", help="Copy into: postgresql://user:pass@host/db."
)
def copy(source: str, dest: str) -> None:
    """Copy every experiment, run, param, tag, metric point, dataset input, registered model,
    logged model and artifact of a store into PostgreSQL, keeping ids, then its users, tokens,
    groups and grants.
    Run it again to resume an interrupted copy; a finished copy run again changes nothing."""
    from satchel.server.auth.copy import copy_auth
    from satchel.tracking.store.copy import copy_store

    def progress(done: int, total: int) -> None:
        click.echo(f"\rruns: {done}/{total}", nl=False, err=True)

    report = copy_store(source, dest, progress)
    click.echo("", err=True)
    resumed = f" (resumed after run {report.resumed_after})" if report.resumed_after else ""
    click.echo(
        f"Copied {report.experiments} experiments, {report.runs} runs and "
        f"{report.artifact_files} artifact files{resumed}."
    )
    click.echo(
        f"Copied {report.registered_models} registered models and "
        f"{report.logged_models} logged models."
    )
    users = copy_auth(source, dest)
    if users:
        click.echo(f"Copied {users} users with their tokens, groups and permissions.")
