"""The docker env kind on a real engine: mount mode, content-keyed builds, failures."""

# ruff: noqa: F811  (fixtures imported from docker_helpers are test parameters)

from __future__ import annotations

import os
from pathlib import Path

import pytest
from docker_helpers import (  # noqa: F401  (fixtures)
    IMAGE,
    broken_base,
    docker_project,
    engine,
    no_leftovers,
)

from satchel.envs.docker import WORKDIR, DockerManager, validate_docker_env
from satchel.envs.docker_build import BuildContext
from satchel.errors import EnvironmentBuildError, ExecutionError, ProjectError, UsageError
from satchel.projects.spec import load_project
from satchel.runner.backends.docker_args import apply_docker_args, validate_docker_args

pytestmark = pytest.mark.docker

SECRET = "hunter2-do-not-print"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_TEST_SECRET", SECRET)


def _prepare(root: Path, build: bool = False, refresh: bool = False):  # type: ignore[no-untyped-def]
    lines: list[str] = []
    prepared = DockerManager(build_image=build).prepare(
        load_project(root), refresh=refresh, report=lines.append
    )
    return prepared, lines


def _ls(engine, image: str) -> list[str]:  # type: ignore[no-untyped-def]
    out = engine.containers.run(image, ["ls", "-A", WORKDIR], remove=True)
    return sorted(out.decode().split())


def test_mount_mode_uses_the_base_image_as_is(docker_project) -> None:  # type: ignore[no-untyped-def]
    prepared, _ = _prepare(docker_project.root)
    base = docker_project.engine.images.get(IMAGE)
    assert (prepared.manager, prepared.image, prepared.image_id) == ("docker", IMAGE, base.id)
    assert prepared.extra_tags == {
        "mlflow.docker.image.uri": IMAGE,
        "mlflow.docker.image.id": base.id,
        "satchel.docker.code": "mounted",
    }
    assert docker_project.images() == []  # nothing built


def test_build_image_bakes_the_code_and_honours_dockerignore(docker_project) -> None:  # type: ignore[no-untyped-def]
    root = docker_project.root
    (root / "scratch").mkdir()
    (root / "scratch" / "big.bin").write_bytes(b"x" * 1000)
    (root / "debug.log").write_text("noise")
    prepared, lines = _prepare(root, build=True)
    assert prepared.image == f"satchel-{docker_project.name}:{prepared.key}"
    assert prepared.cache_hit is False and prepared.build_log is not None
    assert "Successfully built" in prepared.build_log.read_text()
    assert prepared.extra_tags["satchel.docker.code"] == "baked"
    assert prepared.image_id == docker_project.engine.images.get(prepared.image).id
    listing = _ls(docker_project.engine, prepared.image)
    assert listing == [".dockerignore", "MLproject", "data", "probe.py", "train.py"]
    assert any("building docker image" in line for line in lines)


def test_unchanged_project_reuses_its_image(docker_project) -> None:  # type: ignore[no-untyped-def]
    first, _ = _prepare(docker_project.root, build=True)
    created = docker_project.engine.images.get(first.image).attrs["Created"]
    # Touching files and editing ignored ones changes nothing the build would read.
    os.utime(docker_project.root / "train.py", (1, 1))
    (docker_project.root / "notes.log").write_text("ignored by .dockerignore")
    second, lines = _prepare(docker_project.root, build=True)
    assert (second.image, second.image_id) == (first.image, first.image_id)
    assert second.cache_hit is True and second.build_log is None
    assert docker_project.engine.images.get(second.image).attrs["Created"] == created
    assert lines == [f"reusing docker image {first.image}"]
    assert len(docker_project.images()) == 1


def test_a_changed_file_gets_a_new_key(docker_project) -> None:  # type: ignore[no-untyped-def]
    root = docker_project.root
    base_id = docker_project.engine.images.get(IMAGE).id
    before = BuildContext.scan(root).key(base_id)
    (root / "train.py").write_text((root / "train.py").read_text() + "\n# changed\n")
    changed = BuildContext.scan(root).key(base_id)
    (root / "train.py").chmod(0o755)
    assert len({before, changed, BuildContext.scan(root).key(base_id)}) == 3
    assert BuildContext.scan(root).key("sha256:another-base") != BuildContext.scan(root).key(
        base_id
    )


def test_default_ignores_keep_the_store_and_git_out(docker_project) -> None:  # type: ignore[no-untyped-def]
    root = docker_project.root
    for rel in (
        ".git/HEAD",
        "satchel/satchel.db",
        "satchel/artifacts/0/x",
        "pkg/__pycache__/a.pyc",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    files = BuildContext.scan(root).files
    assert not [f for f in files if f.startswith((".git", "satchel/")) or "__pycache__" in f]
    assert "pkg" in files


def test_a_failing_build_leaves_nothing_behind(docker_project, broken_base) -> None:  # type: ignore[no-untyped-def]
    docker_project.set_image(broken_base)
    with pytest.raises(EnvironmentBuildError) as err:
        _prepare(docker_project.root, build=True)
    message = str(err.value)
    assert "\n" not in message and f"satchel-{docker_project.name}:" in message
    assert "failed" in message
    log = Path(err.value.log_path or "")
    assert log.is_file() and "Step 2/4 : COPY" in log.read_text()
    assert docker_project.images() == []  # no partial tag (containers/dangling: no_leftovers)


def test_an_image_neither_local_nor_pullable_is_one_line(docker_project) -> None:  # type: ignore[no-untyped-def]
    docker_project.set_image("satchel-test/does-not-exist:1")
    with pytest.raises(EnvironmentBuildError) as err:
        _prepare(docker_project.root)
    assert "'satchel-test/does-not-exist:1' is neither local nor pullable" in str(err.value)
    assert "\n" not in str(err.value)


def test_no_engine_is_one_line_saying_how_to_start_it(
    docker_project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(ExecutionError) as err:
        _prepare(docker_project.root)
    assert str(err.value).startswith(f"no docker engine reachable at unix://{tmp_path}")
    assert "dockerd" in str(err.value) and "\n" not in str(err.value)


def test_missing_host_variable_is_caught_without_the_engine(
    docker_project, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SATCHEL_TEST_SECRET")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # never contacted
    with pytest.raises(ProjectError) as err:
        validate_docker_env(load_project(docker_project.root))
    assert "SATCHEL_TEST_SECRET" in str(err.value) and "not set" in str(err.value)
    with pytest.raises(ProjectError):
        _prepare(docker_project.root)


def test_docker_args_map_onto_sdk_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_HOST", "h")
    kwargs = apply_docker_args(
        {},
        {
            "memory": "256m",
            "cpus": "1.5",
            "gpus": "all",
            "privileged": True,
            "shm-size": "1g",
            "network": "host",
            "user": "1000:1000",
            "env": ["X=1", "FROM_HOST"],
            "v": "/a:/b:ro",
            "cap-add": "SYS_PTRACE",
            "t": True,
            "name": "mine",
        },
    )
    assert kwargs["mem_limit"] == "256m" and kwargs["nano_cpus"] == 1_500_000_000
    assert kwargs["device_requests"][0]["Count"] == -1
    assert kwargs["privileged"] is True and kwargs["tty"] is True
    assert kwargs["environment"] == {"X": "1", "FROM_HOST": "h"}
    assert kwargs["volumes"] == ["/a:/b:ro"] and kwargs["cap_add"] == ["SYS_PTRACE"]
    assert (kwargs["shm_size"], kwargs["network_mode"], kwargs["user"]) == (
        "1g",
        "host",
        "1000:1000",
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"rm": True}, "-A rm: not a supported docker argument (supported: add-host"),
        ({"memory": True}, "-A memory needs a value"),
        ({"cpus": "lots"}, "-A cpus=lots: expected a positive number of CPUs"),
        ({"env": "NOT_SET_ANYWHERE"}, "-A env=NOT_SET_ANYWHERE: NOT_SET_ANYWHERE is not set"),
    ],
)
def test_bad_docker_args_are_one_line(args: dict, expected: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UsageError) as err:
        validate_docker_args(args)
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_a_volume_without_container_path_is_caught_early(docker_project) -> None:
    spec = docker_project.root / "MLproject"
    spec.write_text(spec.read_text().replace('["./data:/data:ro"]', '["./data"]'))
    with pytest.raises(ProjectError) as err:
        validate_docker_env(load_project(docker_project.root))
    assert "docker_env / volumes: './data' has no container path" in str(err.value)
