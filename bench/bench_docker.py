"""Docker benchmark: what a docker_env run costs on top of a plain ``docker run``.

    python bench/bench_docker.py     # needs a docker engine and the base image

One tiny project (``python3 train.py``, prints a line), one base image
(SATCHEL_TEST_DOCKER_IMAGE, default ``satchel-test/python:3-bookworm``), a SQLite store for
both tools. Timed: the median wall-clock time of the whole CLI over interleaved rounds, after
one warm-up each (so every timed run is a "second run of an unchanged project"):

- ``docker run --rm -v PROJECT:/satchel/project -w ... IMAGE bash -c 'python3 train.py'``:
  the floor: the engine's own cost of one container, via the docker CLI;
- ``satchel run PROJECT`` (code mounted) and ``satchel run --build-image`` (image reused);
- ``mlflow run --build-image PROJECT``: MLflow rebuilds the image on every run (its only way
  to get the code into the container since 2.0). The project does not import mlflow, so no
  MLflow is needed inside the image; MLflow still tracks the run from the host.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import mlflow_python, report, timed

IMAGE = os.environ.get("SATCHEL_TEST_DOCKER_IMAGE", "satchel-test/python:3-bookworm")
REPEAT = int(os.environ.get("SATCHEL_BENCH_REPEAT", "9"))
MLFLOW_REPEAT = min(REPEAT, 3)
MLPROJECT = f"""\
name: benchproj
docker_env:
  image: {IMAGE}
entry_points:
  main:
    command: "python3 train.py"
"""
TRAIN = 'print("trained", 42)\n'


def _check(argv: list[str], env: dict[str, str] | None = None) -> None:
    out = subprocess.run(
        argv, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if out.returncode != 0 or "trained 42" not in out.stdout + out.stderr:
        raise SystemExit(f"{argv[:4]} failed ({out.returncode}):\n{out.stderr[-3000:]}")


def _dangling() -> set[str]:
    out = subprocess.run(
        ["docker", "images", "-q", "--no-trunc", "-f", "dangling=true"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="satchel-bench-docker-") as tmp:
        project = Path(tmp, "benchproj")
        project.mkdir()
        (project / "MLproject").write_text(MLPROJECT)
        (project / "train.py").write_text(TRAIN)
        plain = [
            "docker",
            "run",
            "--rm",
            "-v",
            f"{project}:/satchel/project",
            "-w",
            "/satchel/project",
            IMAGE,
            "bash",
            "-c",
            "python3 train.py",
        ]
        satchel = [
            sys.executable,
            "-m",
            "satchel",
            "run",
            str(project),
            "--tracking-uri",
            f"sqlite:///{tmp}/satchel/satchel.db",
        ]
        mlflow = [
            str(mlflow_python().parent / "mlflow"),
            "run",
            str(project),
            "--build-image",
            "--experiment-name",
            "bench",
        ]
        mlflow_env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db"}
        dangling = _dangling()
        try:
            figures = _measure(plain, satchel, mlflow, mlflow_env)
        finally:
            _cleanup(dangling)
    _print(figures)


def _measure(
    plain: list[str], satchel: list[str], mlflow: list[str], mlflow_env: dict[str, str]
) -> dict[str, float]:
    """Interleaved rounds (one run of each per round), so load drifting on a shared machine
    hits every variant alike; the median per variant. MLflow rebuilds each time: fewer rounds."""
    runs = {
        "docker run": (plain, None, REPEAT),
        "satchel run (mounted)": (satchel, None, REPEAT),
        "satchel run --build-image (reused)": ([*satchel, "--build-image"], None, REPEAT),
        "mlflow run --build-image": (mlflow, mlflow_env, MLFLOW_REPEAT),
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for argv, env, _ in runs.values():
        _check(argv, env)  # warm-up: first build, store creation, migrations
    for round_ in range(REPEAT):
        for name, (argv, env, repeat) in runs.items():
            if round_ < repeat:
                samples[name].append(timed(lambda argv=argv, env=env: _check(argv, env), 1))
    figures = {name: statistics.median(values) for name, values in samples.items()}
    for name, seconds in figures.items():
        print(f"{name:<38} {seconds * 1000:8.0f} ms", file=sys.stderr)
    return figures


def _cleanup(dangling_before: set[str]) -> None:
    """Remove what the benchmark built: its tags and the images MLflow's rebuilds orphaned."""
    out = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ours = [ref for ref in out if ref.startswith(("benchproj:", "satchel-benchproj:"))]
    orphans = sorted(_dangling() - dangling_before)
    if ours or orphans:
        subprocess.run(["docker", "rmi", *ours, *orphans], capture_output=True, check=False)


def _print(f: dict[str, float]) -> None:
    floor = f["docker run"]
    print(
        textwrap.dedent(f"""
        ## Docker: second run of an unchanged project (median of {REPEAT} rounds, whole CLI)

        | what                                   |    ms | on top of docker run |
        |----------------------------------------|-------|----------------------|""")
    )
    for name, seconds in f.items():
        print(f"| {name:<38} | {seconds * 1000:5.0f} | {(seconds - floor) * 1000:+17.0f} ms |")
    report(
        "Docker runs (second run of an unchanged project)",
        [
            (
                "run, --build-image",
                f["satchel run --build-image (reused)"],
                f["mlflow run --build-image"],
                "s",
            ),
            (
                "overhead over plain docker run",
                f["satchel run (mounted)"] - floor,
                f["mlflow run --build-image"] - floor,
                "s",
            ),
        ],
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
