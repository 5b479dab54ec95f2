"""Each lifecycle step alone, against real directories, a real SQLite store and real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from runner_helpers import (
    WaitingHandle,
    git_repo,
    pid_alive,
    project_copy,
    signal_main_thread,
    wait_for,
)

from satchel.envs.base import PreparedEnv
from satchel.errors import EntryPointError, ParameterError, UsageError
from satchel.runner import lifecycle
from satchel.runner.backends import get_launcher
from satchel.runner.backends.base import LaunchSpec
from satchel.runner.backends.local import LocalLauncher, launch_env
from satchel.runner.client_path import client_path, package_dir
from satchel.runner.heartbeat import Heartbeat
from satchel.runner.record import env_tags, run_tags
from satchel.runner.request import Outcome, RunRequest
from satchel.runner.submitted import pinned_request, runner_argv
from satchel.runner.watch import start_without_stop_signals
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus
from satchel.tracking.liveness import owner_id


# -- validate ---------------------------------------------------------------------------
def test_load_spec_and_render_quote_values(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    project, ep = lifecycle.load_spec(root, "args")
    resolved, command, masked = lifecycle.render(ep, {"a": "x; rm -rf /", "b": "it's"}, root)
    assert project.name == "basic"
    assert command == "python show_args.py 'x; rm -rf /' 'it'\"'\"'s'"
    assert masked == command  # nothing secret here
    assert resolved.for_logging() == {"a": "x; rm -rf /", "b": "it's"}


def test_render_masks_secret_params(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    _, ep = lifecycle.load_spec(root, "args")
    _, command, masked = lifecycle.render(ep, {"a": "x", "api_token": "s3cr3t"}, root)
    assert "s3cr3t" in command
    assert "s3cr3t" not in masked and "***" in masked


def test_load_spec_unknown_entry_point(tmp_path: Path) -> None:
    with pytest.raises(EntryPointError):
        lifecycle.load_spec(project_copy(tmp_path), "nope")


def test_render_missing_param(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    _, ep = lifecycle.load_spec(root, "sleep")
    with pytest.raises(ParameterError, match="pidfile"):
        lifecycle.render(ep, {}, root)


def test_choose_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lifecycle.choose_backend(None) == "local"
    with pytest.raises(UsageError, match="kubernetes"):
        lifecycle.choose_backend("kubernetes")
    monkeypatch.setenv("SATCHEL_BACKEND", "local")
    assert lifecycle.choose_backend(None) == "local"


def test_choose_env_inherits_parent_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project, _ = lifecycle.load_spec(project_copy(tmp_path), "main")
    assert lifecycle.choose_env(project, "local") == "local"
    monkeypatch.setenv("SATCHEL_ENV_MANAGER", "local")
    assert lifecycle.choose_env(project, None) == "local"
    with pytest.raises(UsageError):
        lifecycle.choose_env(project, "conda")


def test_validate_builds_a_plan_and_creates_nothing(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    request = RunRequest(str(root), parameters={"alpha": ".25"}, env_manager="local")
    with lifecycle.validate(request) as plan:
        assert plan.resolved.declared["alpha"] == 0.25
        assert plan.command.startswith("python log_it.py --alpha 0.25")
        assert plan.tracking_uri.startswith("sqlite:////")
        assert plan.env_manager == "local" and plan.backend == "local"
    assert not (Path.cwd() / "satchel").exists()


def test_validate_cleans_the_checkout_even_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    fresh = tmp_path / "tmp"
    fresh.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fresh))
    repo = git_repo(tmp_path)
    request = RunRequest(f"file://{repo}", entry_point="nope", version="main", env_manager="local")
    seen: list[Path] = []
    real = lifecycle.load_spec

    def spy(root: Path, name: str):
        seen.append(root)
        return real(root, name)

    lifecycle.load_spec = spy  # type: ignore[assignment]
    try:
        with pytest.raises(EntryPointError), lifecycle.validate(request):
            pass
    finally:
        lifecycle.load_spec = real  # type: ignore[assignment]
    assert seen and not seen[0].exists()  # the checkout is gone
    assert os.listdir(fresh) == []


def test_validate_rejects_both_experiment_options(tmp_path: Path) -> None:
    request = RunRequest(str(project_copy(tmp_path)), experiment_name="a", experiment_id="1")
    with pytest.raises(UsageError), lifecycle.validate(request):
        pass


# -- record -----------------------------------------------------------------------------
def test_record_creates_run_with_tags_and_typed_params(tmp_path: Path) -> None:
    repo = git_repo(tmp_path)
    request = RunRequest(
        str(repo),
        parameters={"alpha": "1e-05", "x": "y"},
        env_manager="local",
        run_name="r1",
        experiment_name="exp",
    )
    with lifecycle.validate(request) as plan:
        client = Client(plan.tracking_uri)
        run = lifecycle.start_record(plan, client)
    got = client.get_run(run.info.run_id)
    assert got.info.status is RunStatus.RUNNING
    assert got.data.params == {"alpha": "1e-05", "name": "world", "steps": "3", "x": "y"}
    tags = got.data.tags
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.source.name"] == f"file://{repo.resolve()}"
    assert tags["mlflow.source.git.commit"] == plan.fetched.source.commit
    assert tags["mlflow.runName"] == "r1"
    assert tags["satchel.source.dirty"] == "false"
    assert tags["satchel.command"].startswith("python log_it.py")
    assert client.get_experiment_by_name("exp").experiment_id == got.info.experiment_id


def test_run_tags_nested_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_RUN_ID", "a" * 32)
    with lifecycle.validate(RunRequest(str(project_copy(tmp_path)), env_manager="local")) as p:
        tags = run_tags(p, "a" * 32)
    assert tags["mlflow.parentRunId"] == "a" * 32
    assert tags["mlflow.project.entryPoint"] == "main"


def test_env_tags() -> None:
    prepared = PreparedEnv(
        "uv",
        key="k1",
        cache_hit=False,
        build_seconds=1.5,
        image=None,
        extra_tags={"satchel.env.python": "3.11"},
    )
    assert env_tags(prepared) == {
        "mlflow.project.env": "uv",
        "satchel.env.key": "k1",
        "satchel.env.cache": "miss",
        "satchel.env.build_seconds": "1.500",
        "satchel.env.python": "3.11",
    }
    docker = env_tags(PreparedEnv("docker", image="img:1", image_id="sha256:abc"))
    assert docker["mlflow.docker.image.uri"] == "img:1"
    assert docker["mlflow.docker.image.id"] == "sha256:abc"


# -- launch -----------------------------------------------------------------------------
def _spec(tmp_path: Path, command: str, echo=None) -> LaunchSpec:
    root = project_copy(tmp_path)
    project, _ = lifecycle.load_spec(root, "main")
    return LaunchSpec(
        run_id="r" * 32,
        command=command,
        workdir=root,
        env={"SATCHEL_RUN_ID": "r" * 32},
        project=project,
        prepared=PreparedEnv("local"),
        log_path=tmp_path / "logs" / "c.log",
        tracking_uri="sqlite:////nowhere.db",
        client_path=tmp_path / "cp",
        echo=echo,
    )


def test_child_env_carries_the_run(tmp_path: Path) -> None:
    with lifecycle.validate(RunRequest(str(project_copy(tmp_path)), env_manager="local")) as p:
        client = Client(p.tracking_uri)
        run = lifecycle.start_record(p, client)
        env = lifecycle.child_env(p, run)
    assert env == {
        "SATCHEL_TRACKING_URI": p.tracking_uri,
        "SATCHEL_RUN_ID": run.info.run_id,
        "SATCHEL_EXPERIMENT_ID": "0",
        "SATCHEL_ENV_MANAGER": "local",
        "SATCHEL_BACKEND": "local",
        "SATCHEL_RUNNER_PYTHON": sys.executable,
    }


def test_launch_env_puts_client_path_first(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "true")
    env = launch_env(spec, {"PYTHONPATH": "/elsewhere", "PATH": "/bin"})
    assert env["PYTHONPATH"] == f"{tmp_path / 'cp'}{os.pathsep}/elsewhere"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["SATCHEL_RUN_ID"] == "r" * 32


def test_local_launcher_streams_merged_output(tmp_path: Path) -> None:
    seen: list[bytes] = []
    spec = _spec(tmp_path, "echo out; echo err >&2; exit 4", echo=seen.append)
    handle = get_launcher("local").launch(spec)
    assert handle.wait() == 4
    assert b"".join(seen) == b"out\nerr\n"
    assert spec.log_path.read_bytes() == b"out\nerr\n"


def test_local_launcher_runs_in_own_group_and_terminate_kills_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    spec = _spec(tmp_path, f"python sleeper.py {pidfile}")
    spec = LaunchSpec(
        **{
            **spec.__dict__,
            "env": {
                **spec.env,
                "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
            },
        }
    )
    handle = LocalLauncher(grace_seconds=2).launch(spec)
    assert wait_for(pidfile.exists, 20)
    leader, grandchild, pgid = map(int, pidfile.read_text().split())
    assert pgid == handle.pgid != os.getpgid(0)
    handle.terminate(grace_seconds=2)
    code = handle.wait()
    assert code != 0
    assert wait_for(lambda: not pid_alive(grandchild), 10)
    assert not pid_alive(leader)


def test_watch_turns_a_signal_into_a_stop(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    spec = _spec(tmp_path, f"touch {ready} && sleep 30")
    handle = WaitingHandle(LocalLauncher().launch(spec))

    def stop() -> None:
        # once the command runs (a SIGTERM landing while bash starts up can be lost: bash
        # catches it for its own cleanup, then execs; the kill timer's SIGKILL covers that
        # in real runs, but not within this test's hour of grace) and watch() waits
        assert wait_for(ready.exists, 120) and handle.waiting.wait(120)
        signal_main_thread(signal.SIGTERM)

    with lifecycle.stop_signals():
        start_without_stop_signals(threading.Thread(target=stop, daemon=True))
        code, stopped = lifecycle.watch(handle, grace=3600)
    assert stopped
    assert code == -signal.SIGTERM  # stopped by us, not by `sleep 30` running out
    assert not handle.group_alive()


# -- finish -----------------------------------------------------------------------------
def test_outcome_for() -> None:
    assert lifecycle.outcome_for("r", 0, False, 1).status is RunStatus.FINISHED
    failed = lifecycle.outcome_for("r", 2, False, 1)
    assert failed.status is RunStatus.FAILED and failed.exit_code == 2
    assert lifecycle.outcome_for("r", -15, True, 1).status is RunStatus.KILLED


def test_finish_respects_a_run_already_ended(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run = client.create_run("0")
    client.set_terminated(run.info.run_id, "FINISHED")
    lifecycle.finish(client, run.info.run_id, Outcome(run.info.run_id, RunStatus.FAILED, 1))
    got = client.get_run(run.info.run_id)
    assert got.info.status is RunStatus.FINISHED
    assert got.data.tags["satchel.exit_code"] == "1"


def test_finish_records_reason(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run_id = client.create_run("0").info.run_id
    lifecycle.finish(client, run_id, Outcome(run_id, RunStatus.FAILED, None, 0, "env broke"))
    got = client.get_run(run_id)
    assert got.info.status is RunStatus.FAILED
    assert got.data.tags["satchel.failure.reason"] == "env broke"


# -- liveness and the client path -------------------------------------------------------
class ManualClock(threading.Event):
    """An injected clock for the heartbeat: an interval passes when the test says ``tick``."""

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._pending = 0
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            self.waits += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._pending > 0 or self.is_set())
            if self.is_set():
                return True
            self._pending -= 1
            return False

    def set(self) -> None:
        super().set()
        with self._cond:
            self._cond.notify_all()

    def tick(self) -> None:
        """One interval passes; returns once the loop is waiting again (its beat done)."""
        with self._cond:
            self._cond.wait_for(lambda: self.waits > 0)
            target = self.waits + 1
            self._pending += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.waits >= target)


def test_heartbeat_beats_at_once_then_every_interval(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run_id = client.create_run("0").info.run_id
    clock = ManualClock()
    with Heartbeat(client, run_id, interval=3600, stop_event=clock) as beat:
        assert beat.beats == 1  # at once, before any interval
        clock.tick()
        assert beat.beats == 2
        clock.tick()
        assert beat.beats == 3
    assert beat.owner == owner_id() and beat.owner.endswith(f":{os.getpid()}")
    # this runner is alive: the reaper leaves its run alone
    assert run_id not in client.reap_dead_runs(stale_after_ms=60_000)


def test_client_path_holds_only_satchel(tmp_path: Path) -> None:
    path = client_path()
    assert os.listdir(path) == ["satchel"]
    assert (path / "satchel").resolve() == package_dir()
    assert client_path() == path  # idempotent
    # -S: no site-packages; satchel must still import, and nothing else from the host
    out = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import satchel, importlib.util as u; print(u.find_spec('click') is None)",
        ],
        env={"PYTHONPATH": str(path), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def test_runner_gets_everything_through_its_request() -> None:
    request = RunRequest(
        "proj#sub",
        entry_point="train",
        parameters={"a": "1=2"},
        docker_args={"gpus": "all", "privileged": True},
        build_image=True,
    )
    pinned = pinned_request(request, "r1", "sqlite:////x.db", "abc123", "docker", "local")
    assert (pinned.run_id, pinned.version, pinned.env_manager) == ("r1", "abc123", "docker")
    assert pinned.parameters == {"a": "1=2"} and pinned.build_image and not pinned.echo
    assert runner_argv(Path("/r.json"))[1:] == ["-m", "satchel", "run", "--request-file", "/r.json"]
