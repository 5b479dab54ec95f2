"""Environments: Satchel vs bare uv vs ``mlflow run --env-manager uv|virtualenv``.

Same project (one small dependency, six==1.16.0), warm package caches. Measures:
new env (Satchel's prepare vs bare ``uv venv`` + ``uv pip install``), a whole run with a new
env and with a cached env (``satchel run`` vs ``mlflow run``), and env sizes on disk.

    python bench/bench_envs.py [--repeat 3] [--skip-virtualenv]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import mlflow_python, pip_env_for_uv, report, uv_bin

PY = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
MLPROJECT = (
    "name: envbench\npython_env: python_env.yaml\nentry_points:\n  main:\n"
    "    command: python main.py\n"
)
MAIN = "import six\nprint('six', six.__version__)\n"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLproject").write_text(MLPROJECT)
    (root / "python_env.yaml").write_text(f'python: "{PY}"\ndependencies: [six==1.16.0]\n')
    (root / "main.py").write_text(MAIN)
    return root


def base_env() -> dict[str, str]:
    env = {**os.environ, **pip_env_for_uv()}
    env["PATH"] = f"{Path(uv_bin()).parent}:{env.get('PATH', '')}"
    return env


def timed_cmd(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed:\n{out.stderr[-2000:]}")
    return elapsed


def du(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def bench_satchel(work: Path, project: Path, repeat: int) -> dict[str, float]:
    env = base_env()
    satchel = [sys.executable, "-m", "satchel", "run", str(project)]
    prepare_code = (
        "import sys, time; from pathlib import Path; "
        "from satchel.projects.spec import load_project; "
        "from satchel.envs import get_manager; p = load_project(Path(sys.argv[1])); "
        "t = time.perf_counter(); get_manager('uv').prepare(p, report=print); "
        "print('SECONDS', time.perf_counter() - t)"
    )
    prep, bare, new_run, warm_run = [], [], [], []
    for i in range(repeat):
        # Interleaved with Satchel's samples so load drift on a shared machine hits both alike.
        bare.append(bare_uv_once(work / f"bare-{i}"))
        env["SATCHEL_HOME"] = str(work / f"sh-prep-{i}")
        out = subprocess.run(
            [sys.executable, "-c", prepare_code, str(project)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        prep.append(float(out.split("SECONDS")[-1]))
        env["SATCHEL_HOME"] = str(work / f"sh-run-{i}")
        new_run.append(timed_cmd(satchel, env, work))
    for _ in range(repeat):
        warm_run.append(timed_cmd(satchel, env, work))
    envs = [p for p in (work / "sh-run-0" / "envs").iterdir() if len(p.name) == 24]
    return {
        "prepare": median(prep),
        "bare": median(bare),
        "new_run": median(new_run),
        "warm_run": median(warm_run),
        "size": du(envs[0]),
    }


def bare_uv_once(venv: Path) -> float:
    """Seconds for bare ``uv venv`` + ``uv pip install six==1.16.0``: the floor we compare to."""
    env = base_env()
    start = time.perf_counter()
    subprocess.run(
        [uv_bin(), "venv", "-q", "--python", sys.executable, str(venv)], env=env, check=True
    )
    subprocess.run(
        [uv_bin(), "pip", "install", "-q", "--python", str(venv / "bin/python"), "six==1.16.0"],
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def bench_mlflow(work: Path, project: Path, manager: str, repeat: int) -> dict[str, float]:
    mlflow = str(mlflow_python().parent / "mlflow")
    env = base_env()
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / f'mlflow-{manager}.db'}"
    pyenv_bin = Path.home() / ".pyenv" / "bin"
    env["PATH"] = f"{pyenv_bin}:{mlflow_python().parent}:{env['PATH']}"
    argv = [mlflow, "run", str(project), "--env-manager", manager]
    new_run, warm_run = [], []
    for i in range(repeat):
        env["MLFLOW_ENV_ROOT"] = str(work / f"mlenv-{manager}-{i}")
        new_run.append(timed_cmd(argv, env, work))
    for _ in range(repeat):
        warm_run.append(timed_cmd(argv, env, work))
    return {
        "new_run": median(new_run),
        "warm_run": median(warm_run),
        "size": du(work / f"mlenv-{manager}-0"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-virtualenv", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="satchel-bench-envs-"))
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    try:
        project = make_project(work / "project")
        ours = bench_satchel(work, project, args.repeat)
        bare = ours["bare"]
        print(
            f"new env: satchel prepare {ours['prepare']:.3f}s vs bare uv venv+pip install "
            f"{bare:.3f}s = {ours['prepare'] / bare:.2f}x (target <= 1.3x)"
        )
        theirs = bench_mlflow(work, project, "uv", args.repeat)
        report(
            "envs: satchel (uv) vs mlflow run --env-manager uv",
            [
                ("whole run, new env", ours["new_run"], theirs["new_run"], "s"),
                ("whole run, cached env", ours["warm_run"], theirs["warm_run"], "s"),
            ],
            higher_is_better=False,
        )
        report(
            "envs: size on disk",
            [("env size", ours["size"] / 1e6, theirs["size"] / 1e6, "MB")],
            higher_is_better=False,
        )
        if not args.skip_virtualenv:
            try:
                venv = bench_mlflow(work, project, "virtualenv", 1)
            except RuntimeError as exc:
                print(
                    f"\nmlflow --env-manager virtualenv could not run here: "
                    f"{str(exc).strip().splitlines()[-1]}"
                )
            else:
                report(
                    "envs: satchel (uv) vs mlflow run --env-manager virtualenv",
                    [
                        ("whole run, new env", ours["new_run"], venv["new_run"], "s"),
                        ("whole run, cached env", ours["warm_run"], venv["warm_run"], "s"),
                        ("env size", ours["size"] / 1e6, venv["size"] / 1e6, "MB"),
                    ],
                    higher_is_better=False,
                )
    finally:
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
