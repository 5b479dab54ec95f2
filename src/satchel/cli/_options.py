"""Options shared by the tracking commands, so every command spells them the same way.

``--tracking-uri`` (every command; env SATCHEL_TRACKING_URI), ``--experiment-name`` /
``--experiment-id`` (env SATCHEL_EXPERIMENT_NAME / SATCHEL_EXPERIMENT_ID), ``--output``,
and the run view (``--all`` / ``--deleted``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any, TypeVar

import click

from satchel.cli import TRACKING_URI_HELP
from satchel.cli._output import FORMATS
from satchel.errors import InvalidValueError, NotFoundError, UsageError
from satchel.tracking.client import Client
from satchel.tracking.entities import Experiment, LifecycleStage, ViewType

__all__ = [
    "alias",
    "experiment_options",
    "find_experiment",
    "make_client",
    "output_option",
    "selected_experiment_ids",
    "show_secrets_option",
    "tracking_uri_option",
    "view_options",
    "view_type",
]

F = TypeVar("F", bound=Callable[..., Any])


def tracking_uri_option(fn: F) -> F:
    return click.option(
        "--tracking-uri",
        envvar="SATCHEL_TRACKING_URI",
        metavar="URI",
        help=TRACKING_URI_HELP,
    )(fn)


def experiment_options(fn: F) -> F:
    fn = click.option(
        "--experiment-id",
        envvar="SATCHEL_EXPERIMENT_ID",
        metavar="ID",
        help="Experiment id [env SATCHEL_EXPERIMENT_ID].",
    )(fn)
    return click.option(
        "--experiment-name",
        envvar="SATCHEL_EXPERIMENT_NAME",
        metavar="NAME",
        help="Experiment name [env SATCHEL_EXPERIMENT_NAME].",
    )(fn)


def output_option(fn: F) -> F:
    return click.option(
        "--output",
        "-o",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table for people, json for scripts (sorted keys), csv for spreadsheets.",
    )(fn)


def show_secrets_option(fn: F) -> F:
    return click.option(
        "--show-secrets",
        is_flag=True,
        help="Show the values of secret-named params (password, token, api_key...), "
        "masked as *** by default in every output format.",
    )(fn)


def view_options(fn: F) -> F:
    fn = click.option("--deleted", "deleted_only", is_flag=True, help="Show only deleted ones.")(fn)
    return click.option("--all", "show_all", is_flag=True, help="Show active and deleted ones.")(fn)


def view_type(show_all: bool, deleted_only: bool) -> ViewType:
    if show_all and deleted_only:
        raise UsageError("--all and --deleted cannot be combined", hint="pick one of them")
    if show_all:
        return ViewType.ALL
    return ViewType.DELETED_ONLY if deleted_only else ViewType.ACTIVE_ONLY


def make_client(tracking_uri: str | None, read_only: bool = False) -> Client:
    """A client for ``--tracking-uri``. ``read_only``: the store must exist already (one line
    "no tracking store at X" otherwise), so listing never creates an empty store."""
    client = Client(tracking_uri or None)
    if read_only:
        client.require_store()
    return client


def find_experiment(client: Client, ref: str) -> Experiment:
    """An experiment by id, else by name: ``rename 3 new`` and ``rename wine new`` both work."""
    experiment = None
    if ref.isdigit():
        try:
            experiment = client.get_experiment(ref)
        except NotFoundError:
            experiment = None
    if experiment is None:
        experiment = client.get_experiment_by_name(ref)
    if experiment is None:
        raise NotFoundError(
            f"no experiment with id or name {ref!r}",
            hint="list them with `satchel experiments list --all`",
        )
    return experiment


def selected_experiment_ids(
    client: Client,
    name: str | None,
    experiment_id: str | None,
    view: ViewType = ViewType.ACTIVE_ONLY,
) -> list[str]:
    """The experiments a command works on: the one named, else every active experiment.
    Naming a deleted experiment while listing active runs is an error (its runs are
    deleted with it), not a silently empty list."""
    chosen = _named_experiment(client, name, experiment_id)
    if chosen is None:
        return [e.experiment_id for e in _all_pages(client)]
    if view == ViewType.ACTIVE_ONLY and chosen.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidValueError(
            f"experiment {chosen.name!r} (id {chosen.experiment_id}) is deleted",
            hint=f"restore it with `satchel experiments restore {shlex.quote(chosen.name)}`, "
            "or list its runs with --deleted",
        )
    return [chosen.experiment_id]


def _named_experiment(
    client: Client, name: str | None, experiment_id: str | None
) -> Experiment | None:
    if name and experiment_id:
        by_name = client.get_experiment_by_name(name)
        if by_name is None or by_name.experiment_id != experiment_id:
            raise UsageError(
                f"--experiment-name {name!r} and --experiment-id {experiment_id} "
                "name different experiments",
                hint="give only one of them (check SATCHEL_EXPERIMENT_NAME/_ID too)",
            )
    if experiment_id:
        return client.get_experiment(experiment_id)
    if name:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise NotFoundError(
                f"no experiment named {name!r}",
                hint="list them with `satchel experiments list`",
            )
        return experiment
    return None


def _all_pages(client: Client) -> list[Experiment]:
    found: list[Experiment] = []
    token = None
    while True:
        page = client.search_experiments(ViewType.ACTIVE_ONLY, max_results=1000, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def alias(command: click.Command, full_name: str) -> click.Command:
    """``command`` under a second name (MLflow's verb), hidden from the help listing."""
    return click.Command(
        name=None,
        params=command.params,
        callback=command.callback,
        help=f"Same as `satchel {full_name}` (MLflow's name for it).",
        short_help=f"Same as `satchel {full_name}`.",
        hidden=True,
    )
