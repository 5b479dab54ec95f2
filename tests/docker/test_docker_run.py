"""``satchel run`` of docker_env projects, end to end, on a real engine and a SQLite store."""

# ruff: noqa: F811  (fixtures imported from docker_helpers are test parameters)

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docker_helpers import (  # noqa: F401  (fixtures)
    IMAGE,
    broken_base,
    docker_project,
    engine,
    no_leftovers,
)

from conftest import run_cli
from satchel.envs.base import PreparedEnv
from satchel.projects.spec import load_project
from satchel.runner.backends.base import LaunchSpec
from satchel.runner.backends.docker import (
    DockerLauncher,
    docker_run_line,
    run_kwargs,
    stop_run_containers,
)
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SECRET = "hunter2-do-not-print"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_TEST_SECRET", SECRET)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'satchel.db'}"


def _run(project, store: str, *args: str):  # type: ignore[no-untyped-def]
    result = run_cli("run", str(project.root), "--tracking-uri", store, *args, timeout=180)
    found = re.search(r"run ([0-9a-f]{32}) started", result.stderr)
    run = Client(store).get_run(found.group(1)) if found else None
    return result, run


def _log(store: str, run) -> str:  # type: ignore[no-untyped-def]
    folder = Client(store).download_artifacts(run.info.run_id, "logs")
    return "".join(p.read_text() for p in Path(folder).rglob("*") if p.is_file())


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


def test_mount_mode_tracks_from_inside_the_container(docker_project, store: str) -> None:
    result, run = _run(docker_project, store, "-P", "alpha=0.8")
    assert result.returncode == 0, result.stderr
    assert run is not None and run.info.status is RunStatus.FINISHED
    assert run.data.metrics["rmse"] == pytest.approx(0.4)  # logged by `import satchel` inside
    assert run.data.params["cwd"] == "/satchel/project"
    tags = run.data.tags
    assert tags["mlflow.project.env"] == "docker"
    assert tags["mlflow.docker.image.uri"] == IMAGE
    assert tags["mlflow.docker.image.id"] == docker_project.engine.images.get(IMAGE).id
    assert (docker_project.root / "outputs.txt").read_text() == "alpha=0.8\n"  # mounted rw
    assert "trained with alpha 0.8 mode fast" in result.stdout
    log = _log(store, run)
    assert "trained with alpha 0.8 mode fast" in log and "secret length 20" in log
    assert "SATCHEL_TEST_SECRET=***" in result.stderr  # the printed docker run line
    _no_secret(result.stdout, result.stderr, log, repr(tags), repr(run.data.params))


def test_secret_named_parameters_are_masked_in_the_printed_docker_command(
    docker_project, store: str
) -> None:
    token = "tok-" + "9" * 24
    result, run = _run(docker_project, store, "-P", f"api_token={token}")
    assert result.returncode == 0, result.stderr
    assert "satchel: docker run" in result.stderr and "--api_token ***" in result.stderr
    assert token not in result.stderr
    assert token not in run.data.tags["satchel.command"]


def test_build_image_runs_the_baked_code_and_reuses_the_image(docker_project, store: str) -> None:
    first, run1 = _run(docker_project, store, "--build-image")
    assert first.returncode == 0, first.stderr
    assert run1.data.tags["satchel.docker.code"] == "baked"
    image = run1.data.tags["mlflow.docker.image.uri"]
    assert image.startswith(f"satchel-{docker_project.name}:")
    assert run1.data.metrics["rmse"] == pytest.approx(0.25)
    assert not (docker_project.root / "outputs.txt").exists()  # written inside the image copy
    assert "env/build.log" in _artifacts(store, run1, "env")
    created = docker_project.engine.images.get(image).attrs["Created"]

    second, run2 = _run(docker_project, store, "--build-image")
    assert second.returncode == 0, second.stderr
    assert run2.data.tags["mlflow.docker.image.id"] == run1.data.tags["mlflow.docker.image.id"]
    assert run2.data.tags["satchel.env.cache"] == "hit"
    assert docker_project.engine.images.get(image).attrs["Created"] == created  # not rebuilt
    assert f"reusing docker image {image}" in second.stderr


def _artifacts(store: str, run, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [info.path for info in Client(store).list_artifacts(run.info.run_id, path)]


def test_volumes_environment_and_docker_args_reach_the_container(
    docker_project, store: str
) -> None:
    result, run = _run(
        docker_project, store, "-e", "probe", "-A", "memory=256m", "-A", "env=EXTRA=1"
    )
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert seen["data"] == "42"  # docker_env volume ./data, resolved against the project
    assert seen["memory"] in ("268435456", str(256 * 1024 * 1024))
    assert seen["extra"] == "1"
    assert seen["cwd"] == "/satchel/project"
    assert "-A" not in run.data.tags.get("mlflow.docker.image.uri", "")


def test_a_failing_command_fails_the_run_with_its_exit_code(docker_project, store: str) -> None:
    result, run = _run(docker_project, store, "-e", "fail")
    assert result.returncode == 1
    assert run.info.status is RunStatus.FAILED
    assert run.data.tags["satchel.exit_code"] == "3"
    assert "about to fail" in _log(store, run)


def test_a_failing_build_is_one_line_and_keeps_its_log(
    docker_project, broken_base, store: str
) -> None:
    docker_project.set_image(broken_base)
    result, run = _run(docker_project, store, "--build-image")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "docker build of" in line]
    assert len(errors) >= 1 and f"satchel-{docker_project.name}:" in errors[0]
    assert run is not None and run.info.status is RunStatus.FAILED
    assert "env/build.log" in _artifacts(store, run, "env")
    assert docker_project.images() == []


def test_a_missing_host_variable_fails_before_any_run(
    docker_project, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SATCHEL_TEST_SECRET")
    result, run = _run(docker_project, store)
    assert result.returncode == 1
    assert "SATCHEL_TEST_SECRET" in result.stderr and "not set" in result.stderr
    assert run is None


def _container_of(engine, run_id: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = engine.containers.list(filters={"label": f"satchel.run_id={run_id}"})
        if found and found[0].status == "running":
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no running container for run {run_id}")


def _wait_for_run_id(proc: subprocess.Popen, timeout: float = 60) -> str:  # type: ignore[type-arg]
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"run ([0-9a-f]{32}) started", line)
        if found:
            return found.group(1)
    raise AssertionError("the run never started")


def test_ctrl_c_kills_the_run_and_removes_its_container(docker_project, store: str) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "satchel",
            "run",
            str(docker_project.root),
            "-e",
            "sleep",
            "--tracking-uri",
            store,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        run_id = _wait_for_run_id(proc)
        container = _container_of(docker_project.engine, run_id)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        assert time.monotonic() - started < 8  # SIGTERM reached the command: no grace wait
    finally:
        proc.kill()
        proc.communicate()
    assert Client(store).get_run(run_id).info.status is RunStatus.KILLED
    assert docker_project.engine.containers.list(all=True, filters={"id": container.id}) == []


def test_runs_cancel_stops_a_detached_docker_run(docker_project, store: str) -> None:
    result = run_cli(
        "run", str(docker_project.root), "-e", "sleep", "--detach", "--tracking-uri", store
    )
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    container = _container_of(docker_project.engine, run_id)
    cancel = run_cli("runs", "cancel", run_id, "--tracking-uri", store)
    assert cancel.returncode == 0, cancel.stderr
    assert Client(store).get_run(run_id).info.status is RunStatus.KILLED
    deadline = time.monotonic() + 30
    while docker_project.engine.containers.list(all=True, filters={"id": container.id}):
        assert time.monotonic() < deadline, "container left after cancel"
        time.sleep(0.1)


def _spec(
    project_root: Path, tracking_uri: str, command: str = "python3 train.py", **env: str
) -> LaunchSpec:
    client = project_root.parent / "client"
    (client / "satchel").mkdir(parents=True, exist_ok=True)
    return LaunchSpec(
        run_id="a" * 32,
        command=command,
        workdir=project_root,
        env={"SATCHEL_TRACKING_URI": tracking_uri, **env},
        project=load_project(project_root),
        prepared=PreparedEnv(manager="docker", image=IMAGE, image_id=IMAGE),
        log_path=project_root.parent / "log.txt",
        tracking_uri=tracking_uri,
        client_path=client,
    )


def test_stop_run_containers_reaches_a_run_from_another_process(docker_project) -> None:
    import concurrent.futures

    spec = _spec(docker_project.root, "https://tracking.example", "echo up; sleep 300")
    handle = DockerLauncher().launch(spec)
    assert handle.poll() is None
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(handle.wait)  # streams the output, as the runner does
        deadline = time.monotonic() + 30
        while "up" not in (spec.log_path.read_text() if spec.log_path.exists() else ""):
            assert time.monotonic() < deadline, "no output streamed"
            time.sleep(0.05)
        started = time.monotonic()
        assert stop_run_containers(spec.run_id, grace_seconds=5) == 1
        assert time.monotonic() - started < 5  # the init forwarded SIGTERM: no grace wait
        assert waiting.result(timeout=30) in (137, 143)  # its container went; the handle copes


def test_a_server_on_the_host_loopback_is_reached_with_host_networking(docker_project) -> None:
    kwargs = run_kwargs(_spec(docker_project.root, "http://127.0.0.1:5005"), {})
    assert kwargs["network_mode"] == "host"
    remote = run_kwargs(_spec(docker_project.root, "https://tracking.example"), {})
    assert "network_mode" not in remote


def test_a_sqlite_store_is_mounted_at_the_same_path(docker_project, tmp_path: Path) -> None:
    db_dir = tmp_path / "elsewhere"
    artifacts = tmp_path / "artifacts-root" / "run"
    spec = _spec(
        docker_project.root,
        f"sqlite:///{db_dir}/satchel.db",
        SATCHEL_ARTIFACT_URI=f"file://{artifacts}",
    )
    kwargs = run_kwargs(spec, {"PYTHONPATH": "/image/lib"})
    assert f"{db_dir}:{db_dir}:rw" in kwargs["volumes"]
    assert f"{artifacts}:{artifacts}:rw" in kwargs["volumes"]
    assert f"{docker_project.root}:/satchel/project:rw" in kwargs["volumes"]
    assert f"{docker_project.root}/data:/data:ro" in kwargs["volumes"]
    assert kwargs["environment"]["PYTHONPATH"] == "/opt/satchel-client:/image/lib"
    assert kwargs["environment"]["SATCHEL_TEST_SECRET"] == SECRET
    line = docker_run_line(kwargs, IMAGE)
    assert SECRET not in line and "SATCHEL_TEST_SECRET=***" in line
