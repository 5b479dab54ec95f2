"""``satchel experiments create|list|rename|delete|restore`` (``search`` = ``list``, MLflow's
verb).

JSON shape of ``list --output json``: a list of MLflow's experiment JSON
(``satchel.tracking.serialize``): ``{"experiment_id", "name", "lifecycle_stage",
"artifact_location", "creation_time", "last_update_time", "tags": [{"key", "value"}]}``
(times in ms since the epoch; ``tags`` left out when there are none).
"""

from __future__ import annotations

import click

from satchel.cli._options import (
    alias,
    find_experiment,
    make_client,
    output_option,
    tracking_uri_option,
    view_options,
    view_type,
)
from satchel.cli._output import emit, fmt_time
from satchel.errors import UsageError
from satchel.tracking.entities import Experiment
from satchel.tracking.serialize import experiment_to_dict

__all__ = ["experiments"]


@click.group()
def experiments() -> None:
    """Create, list, rename, delete and restore experiments."""


def _parse_tags(pairs: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {pair!r} is not KEY=VALUE", hint="e.g. --tag team=vision")
        tags[key] = value
    return tags


@experiments.command("create")
@click.argument("name", required=False)
@click.option(
    "-n",
    "--experiment-name",
    "option_name",
    metavar="NAME",
    help="The name, as MLflow spells it (instead of the NAME argument).",
)
@click.option(
    "--artifact-location",
    metavar="PATH",
    help="Where the experiment's artifacts go [default: next to the store].",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="A tag to set on the experiment (repeatable).",
)
@tracking_uri_option
def create(
    name: str | None,
    option_name: str | None,
    artifact_location: str | None,
    tags: tuple[str, ...],
    tracking_uri: str | None,
) -> None:
    """Create the experiment NAME and print its id."""
    if name is not None and option_name is not None and name != option_name:
        raise UsageError(
            f"two names given ({name!r} and --experiment-name {option_name!r})", hint="give one"
        )
    name = name if name is not None else option_name
    if name is None:
        raise UsageError(
            "no experiment name given", hint="satchel experiments create NAME (or -n NAME)"
        )
    client = make_client(tracking_uri)
    experiment_id = client.create_experiment(name, artifact_location, _parse_tags(tags))
    click.echo(f"Created experiment {name!r} with id {experiment_id}")


@experiments.command("list")
@view_options
@output_option
@tracking_uri_option
def list_(show_all: bool, deleted_only: bool, output: str, tracking_uri: str | None) -> None:
    """List experiments (active ones unless --all or --deleted), by id."""
    client = make_client(tracking_uri, read_only=True)
    found: list[Experiment] = []
    token = None
    while True:
        page = client.search_experiments(view_type(show_all, deleted_only), page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            break
    found.sort(key=lambda e: int(e.experiment_id) if e.experiment_id.isdigit() else -1)
    rows = [
        {
            "id": e.experiment_id,
            "name": e.name,
            "stage": str(e.lifecycle_stage),
            "created": fmt_time(e.creation_time),
            "artifact_location": e.artifact_location,
        }
        for e in found
    ]
    columns = ["id", "name", "stage", "created", "artifact_location"]
    emit(
        output,
        rows,
        columns,
        json_obj=[experiment_to_dict(e) for e in found],
        empty="No experiments.",
    )


@experiments.command("rename")
@click.argument("experiment")
@click.argument("new_name")
@tracking_uri_option
def rename(experiment: str, new_name: str, tracking_uri: str | None) -> None:
    """Rename EXPERIMENT (an id or a name) to NEW_NAME."""
    client = make_client(tracking_uri)
    found = find_experiment(client, experiment)
    client.rename_experiment(found.experiment_id, new_name)
    click.echo(f"Renamed experiment {found.experiment_id} from {found.name!r} to {new_name!r}")


@experiments.command("delete")
@click.argument("experiment")
@tracking_uri_option
def delete(experiment: str, tracking_uri: str | None) -> None:
    """Mark EXPERIMENT (an id or a name) and its runs deleted; `restore` undoes it."""
    client = make_client(tracking_uri)
    found = find_experiment(client, experiment)
    client.delete_experiment(found.experiment_id)
    click.echo(f"Deleted experiment {found.experiment_id} ({found.name!r})")


@experiments.command("restore")
@click.argument("experiment")
@tracking_uri_option
def restore(experiment: str, tracking_uri: str | None) -> None:
    """Restore the deleted EXPERIMENT (an id or a name)."""
    client = make_client(tracking_uri)
    found = find_experiment(client, experiment)
    client.restore_experiment(found.experiment_id)
    click.echo(f"Restored experiment {found.experiment_id} ({found.name!r})")


experiments.add_command(alias(list_, "experiments list"), "search")
