"""The routes table: every route declares a permission and a resource, once."""

from __future__ import annotations

from satchel.server.routes import ROUTES, Permission

RESOURCES = {
    "server",
    "experiment",
    "experiment_name",
    "experiments",
    "run",
    "runs",
    "artifact",
    "logged_model",
    "registered_model",
}


def test_every_route_declares_its_permission_and_resource() -> None:
    for entry in ROUTES:
        assert isinstance(entry.permission, Permission), entry.path
        assert set(entry.resource.split(",")) <= RESOURCES, entry.path
        assert entry.kind in ("json", "raw", "page", "data", "write", "static"), entry.path


def test_only_health_version_server_info_and_ui_assets_are_public() -> None:
    public = {e.path for e in ROUTES if e.permission is Permission.PUBLIC}
    assert public == {
        "/health", "/version", "/api/3.0/mlflow/server-info", "/ui-static/{name}", "/favicon.ico"
    }  # fmt: skip


LISTINGS = ("experiments", "runs", "run_ids", "registered_models", "model_versions", "events")


def test_server_wide_reads_of_the_api_say_what_they_list() -> None:
    # a "server" read needs only a signed-in caller: what it answers must be filtered
    for entry in ROUTES:
        if entry.resource == "server" and entry.permission is Permission.READ and not entry.is_ui:
            assert entry.listing in LISTINGS, entry.path


def test_no_method_and_path_twice() -> None:
    seen = [(m, e.path) for e in ROUTES for m in e.methods]
    assert len(seen) == len(set(seen))


def test_writes_never_need_only_read() -> None:
    for entry in ROUTES:
        if (
            set(entry.methods) & {"PUT", "DELETE"}
            or entry.kind == "write"
            or entry.path.endswith(
                ("/create", "/update", "/delete", "/restore", "/log-metric", "/log-batch")
            )
        ):
            assert entry.permission in (Permission.EDIT, Permission.MANAGE), entry.path
