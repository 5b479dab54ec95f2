"""`satchel run --env-manager local` vs `mlflow run --env-manager local`, side by side.

The same trivial project for both (one entry point, two params; the script logs 2 params and
10 metrics through `import satchel` / `import mlflow`), both with a SQLite store, the median
wall time of whole commands. Then a second run of the same git file:// URL at the same commit:
the time spent fetching (the clone cache should make it a few milliseconds).

    python bench/bench_run.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

MLPROJECT = """name: bench
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      l1_ratio: {type: float, default: 0.1}
    command: "python train.py --alpha {alpha} --l1-ratio {l1_ratio}"
"""

SCRIPT = """import argparse
import {lib}

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--l1-ratio", type=float)
args = parser.parse_args()
{lib}.log_param("alpha", args.alpha)
{lib}.log_param("l1_ratio", args.l1_ratio)
for step in range(10):
    {lib}.log_metric("loss", 1.0 / (step + 1), step=step)
"""


def make_project(root: Path, lib: str) -> Path:
    root.mkdir(parents=True)
    (root / "MLproject").write_text(MLPROJECT)
    (root / "train.py").write_text(SCRIPT.format(lib=lib))
    return root


def git_repo(project: Path) -> str:
    """A bare repository holding ``project``, served as a file:// URL; returns its commit."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "bench"],
    ):
        subprocess.run(argv, cwd=project, check=True, env=env)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()


def run_checked(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return out


def path_first(python: Path | str) -> str:
    """PATH with this interpreter's bin first: the project's `python` is that interpreter."""
    return f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def bench_whole_run(work: Path, repeat: int) -> tuple[float, float]:
    ours = make_project(work / "satchel-project", "satchel")
    theirs = make_project(work / "mlflow-project", "mlflow")
    s_env = {
        **os.environ,
        "PATH": path_first(sys.executable),
        "SATCHEL_TRACKING_URI": f"sqlite:///{work / 'satchel.db'}",
        "SATCHEL_HOME": str(work / "satchel-home"),
    }
    m_python = common.mlflow_python()
    m_env = {
        **os.environ,
        "PATH": path_first(m_python),
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
    }
    s_argv = [
        sys.executable,
        "-m",
        "satchel",
        "run",
        str(ours),
        "--env-manager",
        "local",
        "-P",
        "alpha=0.3",
        "-P",
        "l1_ratio=0.2",
    ]
    m_argv = [
        str(m_python),
        "-m",
        "mlflow",
        "run",
        str(theirs),
        "--env-manager",
        "local",
        "-P",
        "alpha=0.3",
        "-P",
        "l1_ratio=0.2",
    ]
    run_checked(s_argv, s_env, work)  # warm-up: store creation, client path, page cache
    run_checked(m_argv, m_env, work)
    # Interleaved rounds (one run of each per round): load drifting on a shared machine hits
    # both tools alike, so the ratio does not depend on which one ran during a busy spell.
    satchel_runs, mlflow_runs = [], []
    for _ in range(repeat):
        satchel_runs.append(common.timed(lambda: run_checked(s_argv, s_env, work), 1))
        mlflow_runs.append(common.timed(lambda: run_checked(m_argv, m_env, work), 1))
    return statistics.median(satchel_runs), statistics.median(mlflow_runs)


def bench_git_fetch(work: Path, repeat: int) -> tuple[float, float, float]:
    """(in-process fetch ms, fetch ms reported by a whole `satchel run`, whole run s)."""
    from satchel.projects.fetch import fetch_project

    project = make_project(work / "git-project", "satchel")
    commit = git_repo(project)
    bare = work / "served.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(project), str(bare)], check=True)
    url = f"file://{bare}"
    home = work / "fetch-home"
    os.environ["SATCHEL_HOME"] = str(home)  # the in-process fetches use the same cache
    env = {
        **os.environ,
        "PATH": path_first(sys.executable),
        "SATCHEL_HOME": str(home),
        "SATCHEL_TRACKING_URI": f"sqlite:///{work / 'fetch.db'}",
        "SATCHEL_DEBUG_TIMING": "1",
    }
    argv = [sys.executable, "-m", "satchel", "run", url, "-v", commit, "--env-manager", "local"]
    run_checked(argv, env, work)  # the first run fills the clone cache
    reported, wholes = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        out = run_checked(argv, env, work)
        wholes.append(time.perf_counter() - started)
        found = re.search(r"timing fetch ([\d.]+) ms", out.stderr)
        assert found, out.stderr
        reported.append(float(found.group(1)))

    def fetch_once() -> None:
        fetched = fetch_project(url, commit)
        fetched.cleanup()

    in_process = common.timed(fetch_once, repeat) * 1000
    return in_process, statistics.median(reported), statistics.median(wholes)


def main() -> None:
    # Both tools get their bytecode cached after the warm-up run, as on a user's machine
    # (this setting, when inherited, makes every run recompile every module).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="satchel-bench-run-"))
    try:
        satchel_s, mlflow_s = bench_whole_run(work, args.repeat)
        fetch_ms, reported_ms, git_run_s = bench_git_fetch(work, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    common.report(
        "run a trivial project (--env-manager local, SQLite store)",
        [("whole `run` command, median", satchel_s, mlflow_s, "s")],
        higher_is_better=False,
    )
    print(
        f"\nsecond run of the same git file:// URL at the same commit:"
        f"\n  fetch_project in-process, median: {fetch_ms:.1f} ms (target <= 50 ms)"
        f"\n  fetch step inside `satchel run`, median: {reported_ms:.1f} ms"
        f"\n  whole `satchel run` of the git URL, median: {git_run_s * 1000:.0f} ms"
    )
    print(
        f"\ntarget: satchel >= 30x faster than mlflow run: "
        f"{'met' if mlflow_s / satchel_s >= 30 else 'NOT met'} ({mlflow_s / satchel_s:.1f}x)"
    )


if __name__ == "__main__":
    main()
