"""The routes table: every route declares a permission and a resource, once."""

from __future__ import annotations

from satchel.server.routes import ROUTES, Permission

RESOURCES = {"server", "experiment", "experiment_name", "experiments", "run", "artifact"}


def test_every_route_declares_its_permission_and_resource() -> None:
    for entry in ROUTES:
        assert isinstance(entry.permission, Permission), entry.path
        assert entry.resource in RESOURCES, entry.path
        assert entry.kind in ("json", "raw"), entry.path


def test_only_health_version_and_server_info_are_public() -> None:
    public = {e.path for e in ROUTES if e.permission is Permission.PUBLIC}
    assert public == {"/health", "/version", "/api/3.0/mlflow/server-info"}


def test_no_method_and_path_twice() -> None:
    seen = [(m, e.path) for e in ROUTES for m in e.methods]
    assert len(seen) == len(set(seen))


def test_writes_never_need_only_read() -> None:
    for entry in ROUTES:
        if set(entry.methods) & {"PUT", "DELETE"} or entry.path.endswith(
            ("/create", "/update", "/delete", "/restore", "/log-metric", "/log-batch")
        ):
            assert entry.permission in (Permission.EDIT, Permission.MANAGE), entry.path
