"""``satchel models register|list|show|versions|alias|stage|history|serve``.

Thin commands over ``Client``'s registry methods; ``serve`` over ``satchel.models.serve``.
JSON shapes (``--output json``) follow MLflow's REST entities (registered_model,
model_version) plus ``history`` events ``{"event_id", "timestamp", "user", "name",
"version", "action", "detail"}``.
"""

from __future__ import annotations

import click

from satchel.cli._options import make_client, output_option, tracking_uri_option
from satchel.cli._output import emit, fmt_time
from satchel.models.entities import STAGES, RegisteredModel
from satchel.tracking.serialize import (
    model_version_to_dict,
    registered_model_to_dict,
    registry_event_to_dict,
)

__all__ = ["models"]


@click.group()
def models() -> None:
    """Register, list, label (aliases, stages) and serve models."""


@models.command("register")
@click.argument("model_uri")
@click.argument("name")
@tracking_uri_option
def register(model_uri: str, name: str, tracking_uri: str | None) -> None:
    """Register MODEL_URI (runs:/RUN_ID/model or a path) as a new version of NAME."""
    from satchel.models.log import register_model

    mv = register_model(model_uri, name, client=make_client(tracking_uri))
    click.echo(f"Registered {name!r} version {mv.version} from {model_uri}")


@models.command("list")
@click.option(
    "--filter",
    "filter_string",
    metavar="FILTER",
    help="e.g. \"name LIKE 'wine%'\" or \"tags.team = 'ml'\".",
)
@output_option
@tracking_uri_option
def list_(filter_string: str | None, output: str, tracking_uri: str | None) -> None:
    """List registered models with their aliases and newest version per stage."""
    client = make_client(tracking_uri, read_only=True)
    found: list[RegisteredModel] = []
    token = None
    while True:
        page = client.search_registered_models(filter_string, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            break
    rows = [
        {
            "name": rm.name,
            "versions": ", ".join(
                f"{mv.current_stage}: v{mv.version}" for mv in rm.latest_versions
            ),
            "aliases": ", ".join(f"@{a}: v{v}" for a, v in rm.aliases.items()),
            "updated": fmt_time(rm.last_updated_timestamp),
        }
        for rm in found
    ]
    emit(
        output,
        rows,
        ["name", "versions", "aliases", "updated"],
        json_obj=[registered_model_to_dict(rm) for rm in found],
        empty="No registered models.",
    )


@models.command("show")
@click.argument("name")
@output_option
@tracking_uri_option
def show(name: str, output: str, tracking_uri: str | None) -> None:
    """Show the registered model NAME: description, tags, aliases, versions per stage."""
    rm = make_client(tracking_uri, read_only=True).get_registered_model(name)
    rows = [
        {"field": "name", "value": rm.name},
        {"field": "description", "value": rm.description},
        {"field": "created", "value": fmt_time(rm.creation_timestamp)},
        {"field": "updated", "value": fmt_time(rm.last_updated_timestamp)},
    ]
    rows += [{"field": f"tag {k}", "value": v} for k, v in sorted(rm.tags.items())]
    rows += [{"field": f"alias @{a}", "value": f"version {v}"} for a, v in rm.aliases.items()]
    rows += [
        {"field": f"stage {mv.current_stage}", "value": f"version {mv.version}"}
        for mv in rm.latest_versions
    ]
    emit(output, rows, ["field", "value"], json_obj=registered_model_to_dict(rm))


@models.command("versions")
@click.argument("name")
@output_option
@tracking_uri_option
def versions(name: str, output: str, tracking_uri: str | None) -> None:
    """List the versions of NAME, newest first: stage, aliases, source run, status."""
    client = make_client(tracking_uri, read_only=True)
    client.get_registered_model(name)  # a clear error for an unknown name
    found = client.search_model_versions(f"name = '{name.replace(chr(39), chr(39) * 2)}'")
    rows = [
        {
            "version": mv.version,
            "stage": mv.current_stage,
            "aliases": ", ".join(f"@{a}" for a in mv.aliases),
            "run_id": mv.run_id or "",
            "status": mv.status,
            "created": fmt_time(mv.creation_timestamp),
            "description": mv.description,
        }
        for mv in found
    ]
    emit(
        output,
        rows,
        list(rows[0]) if rows else ["version"],
        json_obj=[model_version_to_dict(mv) for mv in found],
        empty="No versions.",
        keep=["run_id"],
    )


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead of setting it.")
@tracking_uri_option
def alias(
    name: str, alias: str, version: str | None, delete: bool, tracking_uri: str | None
) -> None:
    """Point ALIAS of NAME at VERSION (models:/NAME@ALIAS), or remove it with --delete."""
    from satchel.errors import UsageError

    client = make_client(tracking_uri)
    if delete:
        client.delete_registered_model_alias(name, alias)
        click.echo(f"Removed alias @{alias} of {name!r}")
        return
    if version is None:
        raise UsageError(
            "give the VERSION the alias points at",
            hint=f"e.g. satchel models alias {name} {alias} 3",
        )
    client.set_registered_model_alias(name, alias, version)
    click.echo(f"{name}@{alias} -> version {version}")


@models.command("stage")
@click.argument("name")
@click.argument("version")
@click.argument("stage", type=click.Choice(STAGES, case_sensitive=False), metavar="STAGE")
@click.option(
    "--archive-existing", is_flag=True, help="Move the versions now in STAGE to Archived."
)
@tracking_uri_option
def stage(
    name: str, version: str, stage: str, archive_existing: bool, tracking_uri: str | None
) -> None:
    """Move VERSION of NAME to STAGE (None, Staging, Production, Archived)."""
    mv = make_client(tracking_uri).transition_model_version_stage(
        name, version, stage, archive_existing_versions=archive_existing
    )
    click.echo(f"{name} version {mv.version} is now in {mv.current_stage}")


@models.command("history")
@click.argument("name", required=False)
@click.option("--limit", default=100, show_default=True, help="How many events to show.")
@output_option
@tracking_uri_option
def history(name: str | None, limit: int, output: str, tracking_uri: str | None) -> None:
    """Who changed what and when in the registry (NAME: one model), newest first."""
    events = make_client(tracking_uri, read_only=True).get_registry_history(name, limit)
    rows = [
        {
            "time": fmt_time(e.timestamp),
            "user": e.user,
            "model": e.name,
            "version": e.version or "",
            "action": e.action,
            "detail": ", ".join(
                f"{k}={v}" for k, v in sorted(e.detail.items()) if v not in (None, "")
            ),
        }
        for e in events
    ]
    emit(
        output,
        rows,
        ["time", "user", "model", "version", "action", "detail"],
        json_obj=[registry_event_to_dict(e) for e in events],
        empty="No registry history.",
    )


@models.command("serve")
@click.option(
    "-m",
    "--model-uri",
    required=True,
    metavar="URI",
    help="runs:/RUN_ID/model, models:/NAME/VERSION, models:/NAME@ALIAS or a path.",
)
@click.option("-p", "--port", default=5001, show_default=True, type=int, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--env-manager",
    type=click.Choice(["uv", "local"]),
    default="uv",
    show_default=True,
    help="uv: build (or reuse) the model's own environment; local: this Python.",
)
@tracking_uri_option
def serve(model_uri: str, port: int, host: str, env_manager: str, tracking_uri: str | None) -> None:
    """Serve a model over HTTP: /ping, /health, /version and POST /invocations."""
    from satchel.models.serve.launch import serve_model

    raise SystemExit(
        serve_model(
            model_uri, host=host, port=port, env_manager=env_manager, tracking_uri=tracking_uri
        )
    )
