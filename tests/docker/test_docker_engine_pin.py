"""The engine client: the negotiated API version is pinned per socket, and a stale pin heals."""

# ruff: noqa: F811  (fixtures imported from docker_helpers are test parameters)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docker_helpers import IMAGE, engine  # noqa: F401  (fixtures)

from satchel.envs import docker_engine
from satchel.envs.docker import base_image

pytestmark = pytest.mark.docker


@pytest.fixture(autouse=True)
def _fresh_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    # each test starts like a new process: no client made yet, nothing pinned
    monkeypatch.setattr(docker_engine, "_clients", {})
    monkeypatch.setattr(docker_engine, "_pinned", set())
    monkeypatch.delenv("DOCKER_HOST", raising=False)


def _pin_file() -> Path:
    path: Path = docker_engine._pin_path(docker_engine.engine_address())
    return path


def test_first_client_negotiates_and_pins_the_version(engine) -> None:  # type: ignore[no-untyped-def]
    client = docker_engine.engine()
    pin = json.loads(_pin_file().read_text())
    assert pin["version"] == client.api.api_version
    assert pin["socket"] == docker_engine._socket_identity(docker_engine.engine_address())
    assert docker_engine.engine() is client  # one per process


def test_a_pinned_client_skips_negotiation_and_works(engine) -> None:  # type: ignore[no-untyped-def]
    version = docker_engine.engine().api.api_version
    docker_engine._clients.clear()
    client = docker_engine.engine()
    assert docker_engine.engine_address() in docker_engine._pinned
    assert client.api.api_version == version
    assert base_image(client, IMAGE, print).id == engine.images.get(IMAGE).id


def test_a_stale_pin_is_dropped_and_renegotiated(engine) -> None:  # type: ignore[no-untyped-def]
    real = docker_engine.engine().api.api_version
    docker_engine._clients.clear()
    identity = docker_engine._socket_identity(docker_engine.engine_address())
    _pin_file().write_text(json.dumps({"socket": identity, "version": "1.99"}))
    client = docker_engine.engine()
    assert client.api.api_version == "1.99"  # the engine refuses this version
    image = base_image(client, IMAGE, print)
    assert image.id == engine.images.get(IMAGE).id
    assert json.loads(_pin_file().read_text())["version"] == real
    assert docker_engine.engine().api.api_version == real


def test_a_pin_of_another_daemon_start_is_ignored(engine) -> None:  # type: ignore[no-untyped-def]
    real = docker_engine.engine().api.api_version
    docker_engine._clients.clear()
    _pin_file().write_text(json.dumps({"socket": "0:0:0", "version": "1.99"}))
    assert docker_engine.engine().api.api_version == real
    assert docker_engine.engine_address() not in docker_engine._pinned


def test_warm_up_makes_the_client_in_the_background(engine) -> None:  # type: ignore[no-untyped-def]
    docker_engine.warm_up()
    client = docker_engine.engine()  # waits for the warm-up instead of making a second one
    assert docker_engine.engine() is client
    assert client.ping()
