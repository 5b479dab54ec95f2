"""`satchel run --backend ray`: a real local Ray cluster (``.ci/services.sh``: ray), reached
through its Jobs REST API. Never skipped: without the cluster these tests fail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from runner_helpers import PROJECTS, cli_env, satchel_cli, wait_for
from tests.server.server_helpers import running_server

from conftest import RAY_ADDRESS
from satchel.runner.control import control_path
from satchel.tracking.client import Client
from satchel.tracking.entities import Run, RunStatus

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]


def _client() -> Client:
    return Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")


def _project(tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "ray-proj"
    shutil.copytree(PROJECTS / "ray_uv", dest)
    return dest


def _job(job_id: str) -> dict:
    with urllib.request.urlopen(f"{RAY_ADDRESS}/api/jobs/{job_id}", timeout=30) as answer:
        return json.loads(answer.read())


def _only_run() -> Run:
    (run,) = _client().search_runs(["0"])
    return run


def _console(run_id: str) -> str:
    return Path(_client().download_artifacts(run_id, "logs/console.log")).read_text()


def test_a_project_runs_on_ray_with_its_params_metrics_and_environment(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    out = satchel_cli("run", str(proj), "--backend", "ray", "-P", "alpha=0.4", "-P", "steps=4")
    assert out.returncode == 0, out.stderr
    run = _only_run()
    assert run.info.status is RunStatus.FINISHED
    assert run.data.params == {"alpha": "0.4", "steps": "4"}
    history = _client().get_metric_history(run.info.run_id, "loss")
    assert [(m.step, round(m.value, 4)) for m in history] == [
        (0, 0.4),
        (1, 0.2),
        (2, 0.1333),
        (3, 0.1),
    ]
    tags = run.data.tags
    assert tags["mlflow.project.backend"] == "ray" and tags["mlflow.project.env"] == "uv"
    assert tags["six"] == "1.16.0"  # the lock's packages, installed on the cluster
    assert tags["satchel.ray.address"] == RAY_ADDRESS
    job = _job(tags["satchel.ray.job_id"])
    assert job["status"] == "SUCCEEDED" and job["metadata"]["satchel_run_id"] == run.info.run_id
    console = _console(run.info.run_id)
    assert "ENV " in console and console in out.stdout  # streamed live and kept
    assert "0.4" not in job["entrypoint"]  # the command travels in env_vars, not argv
    assert not control_path(run.info.run_id).exists()

    again = satchel_cli("run", str(proj), "--backend", "ray", "-P", "alpha=0.1")
    assert again.returncode == 0, again.stderr
    envs = {line for line in (out.stdout + again.stdout).splitlines() if line.startswith("ENV ")}
    assert len(envs) == 1, envs  # the same cluster env (path and inode): reused, not rebuilt
    runs = _client().search_runs(["0"])
    assert {r.data.tags["satchel.env.key"] for r in runs} == {tags["satchel.env.key"]}


def test_a_failing_project_ends_failed_with_rays_message(tmp_path: Path) -> None:
    out = satchel_cli("run", str(_project(tmp_path)), "-e", "fail", "--backend", "ray")
    assert out.returncode == 1
    run = _only_run()
    assert run.info.status is RunStatus.FAILED
    reason = run.data.tags["satchel.failure.reason"]
    assert "Job entrypoint command failed with exit code 3" in reason
    assert run.data.tags["satchel.exit_code"] == "3"
    assert "failing on purpose" in _console(run.info.run_id)
    assert _job(run.data.tags["satchel.ray.job_id"])["status"] == "FAILED"


def _ready_run() -> Run:
    def ready() -> bool:
        runs = _client().search_runs(["0"])
        return bool(runs) and "ready" in runs[0].data.metrics

    assert wait_for(ready, 120)
    return _only_run()


def test_cancel_of_a_detached_ray_run_stops_the_job(tmp_path: Path) -> None:
    out = satchel_cli("run", str(_project(tmp_path)), "-e", "sleep", "--backend", "ray", "--detach")
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    run = _ready_run()
    job_id = run.data.tags["satchel.ray.job_id"]
    assert _job(job_id)["status"] == "RUNNING"
    cancelled = satchel_cli("runs", "cancel", run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert _client().get_run(run_id).info.status is RunStatus.KILLED
    assert wait_for(lambda: _job(job_id)["status"] == "STOPPED", 30)
    assert wait_for(lambda: not control_path(run_id).exists(), 15)
    assert satchel_cli("runs", "wait", run_id).returncode == 1


def test_ctrl_c_stops_the_job_and_the_run_ends_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "satchel", "run", str(_project(tmp_path)), "-e", "sleep",
         "--backend", "ray"],
        env={**os.environ, **cli_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    run = _ready_run()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _client().get_run(run.info.run_id).info.status is RunStatus.KILLED
    assert wait_for(lambda: _job(run.data.tags["satchel.ray.job_id"])["status"] == "STOPPED", 30)


def test_project_code_on_the_cluster_logs_to_a_satchel_server(tmp_path: Path) -> None:
    token = "s3cr3t-token-value"
    with running_server(
        "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}", cwd=tmp_path
    ) as url:
        out = satchel_cli(
            "run", str(_project(tmp_path)), "--backend", "ray", "--tracking-uri", url,
            env={"SATCHEL_TRACKING_TOKEN": token},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        client = Client(url)
        (run,) = client.search_runs(["0"])
        assert run.info.status is RunStatus.FINISHED
        assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [0, 1, 2]
        console = Path(client.download_artifacts(run.info.run_id, "logs/console.log")).read_text()
        assert "token seen: True" in console  # handed over through the job's env_vars ...
        shown = out.stdout + out.stderr + console + json.dumps(run.data.tags)
        assert token not in shown  # ... and never printed or tagged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", '{"address": "http://127.0.0.1:9"}'], "cannot reach the Ray cluster"),
        (["-c", '{"num_cpu": 1}'], "unknown key 'num_cpu'"),
        (["-c", '{"num_cpus": -1}'], "num_cpus: expected a number >= 0"),
        (["-c", '{"address": "ray://127.0.0.1:10001"}'], "not the dashboard's http(s) URL"),
        (["-c", '{"address": "http://10.1.2.3:8265"}'], "cannot write into the local store"),
        (["-A", "gpus=all"], "docker_env projects and -A/--build-image run on the local"),
    ],
)
def test_bad_ray_options_are_one_line_and_no_run(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = satchel_cli("run", str(_project(tmp_path)), "--backend", "ray", *args)
    assert out.returncode in (1, 2)
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (Path.cwd() / "satchel").exists() or not _client().search_runs(["0"])


def test_a_job_waiting_for_resources_is_scheduled_and_can_be_cancelled(tmp_path: Path) -> None:
    out = satchel_cli(
        "run", str(_project(tmp_path)), "-e", "sleep", "--backend", "ray", "--detach",
        "-c", '{"num_cpus": 512}',
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    client = _client()
    assert wait_for(lambda: client.get_run(run_id).info.status is RunStatus.SCHEDULED, 120)
    job_id = client.get_run(run_id).data.tags["satchel.ray.job_id"]
    assert _job(job_id)["status"] == "PENDING"
    assert satchel_cli("runs", "cancel", run_id).returncode == 0
    assert client.get_run(run_id).info.status is RunStatus.KILLED
    # Ray queues the stop of a job that never got its resources (its supervisor actor is not
    # scheduled): it stops when it could start, or fails at Ray's start timeout; never runs
    assert _job(job_id)["status"] in ("PENDING", "STOPPED")
    assert wait_for(lambda: not control_path(run_id).exists(), 30)  # the runner did not hang
