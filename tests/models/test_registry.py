"""The model registry on the embedded store: versions, stages, aliases, tags, history."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import drop_postgres_database, new_postgres_database

import satchel
from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.server.app import create_app
from satchel.server.context import ServerContext
from satchel.server.serve import BackgroundServer
from satchel.tracking.store.postgres import PostgresStore
from satchel.tracking.store.sqlite import SqliteStore


@pytest.fixture(params=["sqlite", "postgresql", "http"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[satchel.Client]:
    """The registry on every store: the embedded one, PostgreSQL, and a server over HTTP."""
    if request.param == "sqlite":
        yield satchel.Client()
    elif request.param == "postgresql":
        uri = new_postgres_database()
        store = PostgresStore(uri, str(tmp_path / "artifacts"))
        client = satchel.Client(uri)
        client._opened = store
        yield client
        store.close()
        drop_postgres_database(uri)
    else:
        backing = SqliteStore(str(tmp_path / "db" / "satchel.db"), str(tmp_path / "artifacts"))
        context = ServerContext(backing, str(tmp_path / "artifacts"), "sqlite:///unused")
        with BackgroundServer(create_app(context=context)) as url:
            client = satchel.Client(url)
            yield client
            client.close()  # its kept-alive connection to the server
        backing.close()


def _versions(client: satchel.Client, name: str, count: int) -> list[str]:
    sources = [f"runs:/{'a' * 32}/{name}-{i}" for i in range(count)]
    return [client.create_model_version(name, source).version for source in sources]


def test_versions_number_from_one_and_are_never_reused(client: satchel.Client) -> None:
    client.create_registered_model("wine", tags={"team": "ml"}, description="red wine")
    assert _versions(client, "wine", 3) == ["1", "2", "3"]
    client.delete_model_version("wine", 3)
    assert client.create_model_version("wine", "runs:/abc/x").version == "4"
    with pytest.raises(AlreadyExistsError, match="'wine' already exists"):
        client.create_registered_model("wine")
    model = client.get_registered_model("wine")
    assert (model.description, model.tags) == ("red wine", {"team": "ml"})


def test_stages_with_archive_existing_versions(client: satchel.Client) -> None:
    client.create_registered_model("wine")
    _versions(client, "wine", 3)
    client.transition_model_version_stage("wine", 1, "Production")
    client.transition_model_version_stage("wine", 2, "production", archive_existing_versions=True)
    client.transition_model_version_stage("wine", 3, "Staging")
    stages = {mv.version: mv.current_stage for mv in client.search_model_versions("name='wine'")}
    assert stages == {"1": "Archived", "2": "Production", "3": "Staging"}
    latest = client.get_latest_versions("wine", ["Production", "Staging"])
    assert [(mv.version, mv.current_stage) for mv in latest] == [
        ("3", "Staging"),
        ("2", "Production"),
    ]
    with pytest.raises(InvalidValueError, match="invalid model stage 'Live'"):
        client.transition_model_version_stage("wine", 1, "Live")


def test_aliases_point_at_one_version_and_move(client: satchel.Client) -> None:
    client.create_registered_model("wine")
    _versions(client, "wine", 2)
    client.set_registered_model_alias("wine", "champion", 1)
    client.set_registered_model_alias("wine", "champion", 2)
    client.set_registered_model_alias("wine", "challenger", 1)
    assert client.get_model_version_by_alias("wine", "champion").version == "2"
    assert client.get_registered_model("wine").aliases == {"challenger": "1", "champion": "2"}
    assert client.get_model_version("wine", 1).aliases == ["challenger"]
    client.delete_registered_model_alias("wine", "challenger")
    with pytest.raises(InvalidValueError, match="no alias 'challenger'"):
        client.get_model_version_by_alias("wine", "challenger")
    for bad in ("latest", "v3", "has space", ""):
        # the server names an empty value as a missing parameter, as MLflow's does
        with pytest.raises(InvalidValueError, match=r"invalid alias|Missing value for.*alias"):
            client.set_registered_model_alias("wine", bad, 1)
    with pytest.raises(NotFoundError, match="has no version 9"):
        client.set_registered_model_alias("wine", "champion", 9)


def test_history_records_who_changed_what_and_cannot_be_rewritten(
    client: satchel.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "alice")
    client.create_registered_model("wine")
    _versions(client, "wine", 2)
    client.set_registered_model_alias("wine", "champion", 1)
    monkeypatch.setenv("LOGNAME", "bob")
    client.set_registered_model_alias("wine", "champion", 2)
    client.transition_model_version_stage("wine", 2, "Production")
    client.rename_registered_model("wine", "red-wine")
    events = client.get_registry_history("red-wine")  # follows the rename
    assert [(e.user, e.action) for e in reversed(events)] == [
        ("alice", "create_model"),
        ("alice", "create_version"),
        ("alice", "create_version"),
        ("alice", "set_alias"),
        ("bob", "set_alias"),
        ("bob", "transition_stage"),
        ("bob", "rename_model"),
    ]
    moved = events[2]
    assert moved.detail == {"alias": "champion", "old_version": "1"} and moved.version == "2"
    assert events[1].detail == {"old_stage": "None", "new_stage": "Production"}


def test_history_is_append_only_in_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    satchel.Client().create_registered_model("wine")
    conn = sqlite3.connect("satchel/satchel.db")
    for sql in ("UPDATE registry_events SET user = 'mallory'", "DELETE FROM registry_events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)


def test_history_is_append_only_in_postgresql(tmp_path: Path) -> None:
    import psycopg

    uri = new_postgres_database()
    store = PostgresStore(uri, str(tmp_path / "artifacts"))
    try:
        store.create_registered_model("wine", user="alice")
        with psycopg.connect(uri, autocommit=True) as conn:
            for sql in (
                "UPDATE registry_events SET \"user\" = 'mallory'",
                "DELETE FROM registry_events",
            ):
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute(sql)
        assert [e.user for e in store.get_registry_history("wine")] == ["alice"]
    finally:
        store.close()
        drop_postgres_database(uri)


def test_search_filters_tags_and_pages(client: satchel.Client) -> None:
    for name in ("wine-red", "wine-white", "beer"):
        client.create_registered_model(name, tags={"kind": "wine" if "wine" in name else "beer"})
    names = [m.name for m in client.search_registered_models("name LIKE 'wine%'")]
    assert names == ["wine-red", "wine-white"]
    # what MlflowClient().search_registered_models() sends by default
    everything = client.search_registered_models("tag.`mlflow.prompt.is_prompt` != 'true'")
    assert [m.name for m in everything] == ["beer", "wine-red", "wine-white"]  # none has it
    beer = client.search_registered_models("tags.kind = 'beer'")
    assert [m.name for m in beer] == ["beer"]
    first = client.search_registered_models(max_results=2)
    rest = client.search_registered_models(max_results=2, page_token=first.token)
    assert [m.name for m in first + rest] == ["beer", "wine-red", "wine-white"]
    client.create_model_version("beer", "runs:/abc/m", run_id="abc")
    client.set_model_version_tag("beer", 1, "validated", "yes")
    assert [mv.version for mv in client.search_model_versions("run_id = 'abc'")] == ["1"]
    assert len(client.search_model_versions("tags.validated = 'yes'")) == 1


def test_bad_names_and_unknown_models_fail_in_one_line(client: satchel.Client) -> None:
    for bad in ("", "a/b", "a@b", "x:y"):
        with pytest.raises(InvalidValueError, match=r"registered model name|Missing value"):
            client.create_registered_model(bad)
    with pytest.raises(NotFoundError, match="registered model 'ghost' not found"):
        client.get_registered_model("ghost")
    with pytest.raises(InvalidValueError, match="invalid model version 'one'"):
        client.get_model_version("ghost", "one")


def test_delete_registered_model_removes_versions_and_keeps_history(
    client: satchel.Client,
) -> None:
    client.create_registered_model("tmp")
    _versions(client, "tmp", 1)
    client.set_registered_model_tag("tmp", "k", "v")
    client.delete_registered_model("tmp")
    with pytest.raises(NotFoundError):
        client.get_registered_model("tmp")
    actions = [e.action for e in client.get_registry_history("tmp")]
    assert actions == ["delete_model", "set_model_tag", "create_version", "create_model"]
