"""``satchel runs list|show|compare|delete|restore|reap`` (``describe`` = ``show``, MLflow's
verb).

Reading commands first reap runs whose owning process is gone (``tracking.views.fresh_client``),
so a SIGKILLed script's run never shows RUNNING. JSON shapes (``--output json``) are MLflow's
REST shapes (``satchel.tracking.serialize``), the same the server answers with:

- ``list``: a list of runs, each ``{"info": {...}, "data": {"params": [{"key", "value"}],
  "metrics": [{"key", "value", "timestamp", "step"}], "tags": [...]}, "inputs": {}}``
  (``info`` holds run_id, run_uuid, run_name, experiment_id, status, user_id, start_time,
  end_time, artifact_uri, lifecycle_stage; times in ms since the epoch);
- ``show``: one such run plus ``"artifacts": [{"path", "is_dir", "file_size"}]``;
- ``compare``: ``{"runs": [{"run_id", "run_name"}], "rows": [{"kind": "param"|"metric",
  "key", "values": [one per run, null when missing], "differs": bool}]}``.

The runner registers ``runs wait`` and ``runs cancel`` into this group (see cli/__init__.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from satchel.cli._options import (
    alias,
    experiment_options,
    make_client,
    output_option,
    selected_experiment_ids,
    show_secrets_option,
    tracking_uri_option,
    view_options,
    view_type,
)
from satchel.cli._output import (
    cell,
    emit,
    fmt_duration,
    fmt_time,
    readable,
    readable_values,
    table,
    to_json,
)
from satchel.errors import NotFoundError, UsageError
from satchel.tracking.client import Client
from satchel.tracking.entities import Run
from satchel.tracking.liveness import STALE_AFTER_MS
from satchel.tracking.secrets import masked_run
from satchel.tracking.serialize import run_info_to_dict, run_to_dict
from satchel.tracking.views import compare_rows, fresh_client, resolve_run_ids, show_run

__all__ = ["runs"]

STALE_AFTER_S = STALE_AFTER_MS / 1000
SHOW_CELL = 120  # `runs show` has room for longer values than a many-column list
TABLE_METRICS = 6  # metric columns shown by `runs list` in a table (all of them in csv/json)


@click.group()
def runs() -> None:
    """List, inspect, compare, delete and restore runs."""


@runs.command("list")
@experiment_options
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="FILTER",
    help="MLflow filter, e.g. \"metrics.rmse < 0.5 and params.alpha = '0.3'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="CLAUSE",
    help="Sort key such as 'metrics.rmse ASC' or 'start_time DESC' (repeatable).",
)
@click.option(
    "--max-results",
    type=click.IntRange(1, 50000),
    default=100,
    show_default=True,
    help="At most this many runs.",
)
@click.option(
    "--columns",
    metavar="COL,...",
    help="Columns to show, comma-separated: run_id, name, status, experiment, started, "
    "duration, params.KEY, metrics.KEY, tags.KEY [default: the first ones, the params that "
    "vary across the runs, then the metrics].",
)
@view_options
@show_secrets_option
@output_option
@tracking_uri_option
def list_(
    experiment_name: str | None,
    experiment_id: str | None,
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
    columns: str | None,
    show_all: bool,
    deleted_only: bool,
    show_secrets: bool,
    output: str,
    tracking_uri: str | None,
) -> None:
    """List runs of one experiment (every active experiment when none is given)."""
    view = view_type(show_all, deleted_only)  # usage errors first, before the store
    chosen = _chosen_columns(columns)
    client = fresh_client(tracking_uri)
    ids = selected_experiment_ids(client, experiment_name, experiment_id, view)
    found = client.search_runs(ids, filter_string, view, max_results, list(order_by) or None)
    shown = [r if show_secrets else masked_run(r) for r in found]
    names = _experiment_names(client, {r.info.experiment_id for r in found})
    rows = [_list_row(r, names) for r in shown]
    headers = chosen or _default_columns(shown, output)
    for row in rows:  # a table heads params/metrics by their bare key where it is unique
        row.update({_header(c, headers, output): row.get(c) for c in headers})
    emit(
        output,
        rows,
        [_header(c, headers, output) for c in headers],
        json_obj=[run_to_dict(r) for r in shown],
        empty="No runs.",
        keep=("run_id", "started"),
    )
    if found.token and output == "table":
        click.echo(f"(more runs: raise --max-results above {max_results})", err=True)


BASE_COLUMNS = ("run_id", "name", "status", "experiment", "started", "duration")
TABLE_PARAMS = 6  # varying params shown by default in a table (all of them in csv)


def _chosen_columns(columns: str | None) -> list[str] | None:
    if columns is None:
        return None
    chosen = [c.strip() for c in columns.split(",") if c.strip()]
    for column in chosen:
        if column not in BASE_COLUMNS and not column.startswith(("params.", "metrics.", "tags.")):
            import difflib

            guess = difflib.get_close_matches(column, BASE_COLUMNS, n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise UsageError(
                f"unknown column {column!r} in --columns",
                hint=f"{hint}columns: {', '.join(BASE_COLUMNS)}, params.KEY, metrics.KEY, tags.KEY",
            )
    return chosen or None


def _default_columns(found: Sequence[Run], output: str) -> list[str]:
    """The base columns, the params whose values differ across the runs (a sweep's axes),
    then the metrics."""
    params = varying_params(found)
    metrics = sorted({k for r in found for k in r.data.metrics})
    if output == "table":
        params, metrics = params[:TABLE_PARAMS], metrics[:TABLE_METRICS]
    return [*BASE_COLUMNS, *(f"params.{k}" for k in params), *(f"metrics.{k}" for k in metrics)]


def varying_params(found: Sequence[Run]) -> list[str]:
    """Param keys whose value (or presence) is not the same in every run."""
    keys = sorted({k for r in found for k in r.data.params})
    return [k for k in keys if len({r.data.params.get(k) for r in found}) > 1]


def _header(column: str, columns: Sequence[str], output: str) -> str:
    """In a table, ``params.alpha`` / ``metrics.rmse`` are headed by the bare key (narrow
    terminals cut long headers, and the prefix would be all that is left) unless another
    column would read the same; CSV keeps the full names."""
    _, dot, key = column.partition(".")
    if output != "table" or not dot or key in BASE_COLUMNS:
        return column
    same = [c for c in columns if c.partition(".")[2] == key and c.partition(".")[1]]
    return key if len(same) == 1 else column


def _experiment_names(client: Client, ids: set[str]) -> dict[str, str]:
    """id -> name for the experiments on the page (a handful of lookups, not one per run)."""
    names = {}
    for experiment_id in ids:
        try:
            names[experiment_id] = client.get_experiment(experiment_id).name
        except NotFoundError:
            names[experiment_id] = experiment_id
    return names


def _list_row(run: Run, names: dict[str, str]) -> dict[str, Any]:
    """Every column a run can show: the base ones, then ``params.``/``metrics.``/``tags.``."""
    info = run.info
    row: dict[str, Any] = {
        "run_id": info.run_id,
        "name": info.run_name,
        "status": str(info.status),
        "experiment": names.get(info.experiment_id, info.experiment_id),
        "started": fmt_time(info.start_time),
        "duration": fmt_duration(info.start_time, info.end_time),
    }
    for kind in ("params", "metrics", "tags"):
        row.update({f"{kind}.{k}": v for k, v in getattr(run.data, kind).items()})
    return row


@runs.command("show")
@click.argument("run_id")
@show_secrets_option
@output_option
@tracking_uri_option
def show(run_id: str, show_secrets: bool, output: str, tracking_uri: str | None) -> None:
    """Print a run: its info, params, latest metrics, tags and artifacts."""
    client = fresh_client(tracking_uri)
    run, artifacts = show_run(client, run_id)
    run = run if show_secrets else masked_run(run)
    if output == "json":
        click.echo(to_json({**run_to_dict(run), "artifacts": artifacts}))
    elif output == "csv":
        emit("csv", _show_csv_rows(run, artifacts), ["section", "key", "value"])
    else:
        click.echo(_show_text(client, run, artifacts))


def _show_csv_rows(run: Run, artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {"section": "info", "key": k, "value": v} for k, v in run_info_to_dict(run.info).items()
    ]
    for section in ("params", "metrics", "tags"):
        data = getattr(run.data, section)
        rows += [{"section": section, "key": k, "value": data[k]} for k in sorted(data)]
    rows += [{"section": "artifacts", "key": a["path"], "value": a["file_size"]} for a in artifacts]
    return rows


def _show_text(client: Client, run: Run, artifacts: list[dict[str, Any]]) -> str:
    info = run.info
    try:
        experiment = f"{info.experiment_id} ({client.get_experiment(info.experiment_id).name})"
    except Exception:  # a report must not fail on a lookup; the id alone is still useful
        experiment = info.experiment_id
    head = [
        ["run_id", info.run_id],
        ["name", info.run_name],
        ["experiment", experiment],
        ["status", str(info.status)],
        ["user", info.user_id],
        ["started", fmt_time(info.start_time)],
        ["ended", fmt_time(info.end_time)],
        ["duration", fmt_duration(info.start_time, info.end_time)],
        ["artifact_uri", info.artifact_uri],
        ["lifecycle", str(info.lifecycle_stage)],
    ]
    for tag, label in (("satchel.rerun_of", "rerun_of"), ("satchel.reused_run", "reused_run")):
        if tag in run.data.tags:  # how this run relates to another, where people look first
            head.append([label, run.data.tags[tag]])
    parts = [f"Run {info.run_id}", _indent(table(head, ["field", "value"], keep=("value",)))]
    for title, data in (
        ("Params", run.data.params),
        ("Metrics (latest)", run.data.metrics),
        ("Tags", run.data.tags),
    ):
        rows = [[k, readable(data[k])] for k in sorted(data)]
        listing = _indent(table(rows, ["key", "value"], max_cell=SHOW_CELL))
        parts += ["", f"{title}:", listing if rows else "  (none)"]
    art_rows = [[a["path"], cell(a["file_size"])] for a in artifacts]
    parts += [
        "",
        "Artifacts:",
        _indent(table(art_rows, ["path", "bytes"], keep=("path",))) if art_rows else "  (none)",
    ]
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


runs.add_command(alias(show, "runs show"), "describe")


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--only-diff", is_flag=True, help="Show only the rows whose values differ.")
@show_secrets_option
@output_option
@tracking_uri_option
def compare(
    run_ids: tuple[str, ...],
    only_diff: bool,
    show_secrets: bool,
    output: str,
    tracking_uri: str | None,
) -> None:
    """Put the params and latest metrics of RUN_IDS side by side; '*' marks differences."""
    if len(run_ids) < 2:
        raise click.UsageError("compare needs at least two run ids")
    client = make_client(tracking_uri, read_only=True)
    found = [client.get_run(r) for r in resolve_run_ids(client, run_ids)]
    found = [r if show_secrets else masked_run(r) for r in found]
    rows = compare_rows(found)
    if only_diff:
        rows = [r for r in rows if r["differs"]]
    if output == "json":
        runs_json = [{"run_id": r.info.run_id, "run_name": r.info.run_name} for r in found]
        click.echo(to_json({"runs": runs_json, "rows": rows}))
        return
    headers = ["diff", "kind", "key"] + [_run_label(r) for r in found]
    # one number format with `runs list` (full values only where two would look alike);
    # CSV always keeps them in full
    flat = [
        ["*" if r["differs"] else "", r["kind"], r["key"]]
        + ([cell(v) for v in r["values"]] if output == "csv" else readable_values(r["values"]))
        for r in rows
    ]
    if output == "csv":
        emit("csv", [dict(zip(headers, row, strict=True)) for row in flat], headers)
    else:
        click.echo(table(flat, headers, keep=("key",)))


def _run_label(run: Run) -> str:
    return f"{run.info.run_name} ({run.info.run_id[:8]})"


@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True)
@tracking_uri_option
def delete(run_ids: tuple[str, ...], tracking_uri: str | None) -> None:
    """Mark RUN_IDS deleted (hidden from `runs list`; `runs restore` undoes it)."""
    client = make_client(tracking_uri, read_only=True)
    for run_id in resolve_run_ids(client, run_ids):  # all known, or nothing changes
        client.delete_run(run_id)
        click.echo(f"Deleted run {run_id}")


@runs.command("restore")
@click.argument("run_ids", nargs=-1, required=True)
@tracking_uri_option
def restore(run_ids: tuple[str, ...], tracking_uri: str | None) -> None:
    """Restore the deleted RUN_IDS."""
    client = make_client(tracking_uri, read_only=True)
    for run_id in resolve_run_ids(client, run_ids):  # all known, or nothing changes
        client.restore_run(run_id)
        click.echo(f"Restored run {run_id}")


@runs.command("reap")
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0),
    default=STALE_AFTER_S,
    show_default=True,
    metavar="SECONDS",
    help="A run whose owner cannot be checked is dead after this long without a heartbeat.",
)
@tracking_uri_option
def reap(stale_after: float, tracking_uri: str | None) -> None:
    """Mark FAILED every RUNNING run whose owning process is gone; print what was ended."""
    ended = make_client(tracking_uri).reap_dead_runs(int(stale_after * 1000))
    for run_id in ended:
        click.echo(f"Marked run {run_id} FAILED: its process is gone")
    if not ended:
        click.echo("No dead runs.")
