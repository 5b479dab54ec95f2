"""Reproduction: `satchel run --skip-if-done` on a hit, and `satchel runs rerun` of a run whose
environment is cached, side by side with what MLflow users do instead.

    python bench/bench_reproduce.py [--repeat 7]

One small project in a git repository (MLproject, a script logging 2 params and 10 metrics,
a data file passed as a `path` param), a SQLite store for each tool. Median wall time of
whole commands, after one warm-up each:

- skip-if-done hit: ``satchel run P --skip-if-done`` when a FINISHED run has the same run key
  (target: at most 100 ms). MLflow has no such option; its multistep example's answer is
  ``_already_ran``: a Python process that imports mlflow and searches the experiment's runs
  for the same params and git commit (best effort: it ignores uncommitted code and data).
- rerun: ``satchel runs rerun RUN`` (code restored from the git cache + the recorded diff,
  env rebuilt from the recorded lock = a cache hit) vs the original ``satchel run P``; and
  ``mlflow run P``, MLflow's nearest (it has no rerun: run the working copy again).

Satchel runs the project in a uv environment (cached after the first run); MLflow runs it with
``--env-manager local`` (no environment at all), which favours MLflow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

MLPROJECT = """name: bench-reproduce
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      data: {type: path, default: data.csv}
      alpha: {type: float, default: 0.5}
    command: "python train.py --data {data} --alpha {alpha}"
"""

SCRIPT = """import argparse
import {lib}

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--alpha", type=float)
args = parser.parse_args()
rows = open(args.data).read().splitlines()
{lib}.log_param("rows", len(rows))
for step in range(10):
    {lib}.log_metric("loss", args.alpha / (step + 1), step=step)
"""

ALREADY_RAN = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    import mlflow
    from mlflow.tracking import MlflowClient
    client = MlflowClient()
    # MLflow's multistep example, _already_ran: same entry point, params and git commit
    found = None
    for run in client.search_runs(["0"], "attributes.status = 'FINISHED'"):
        tags = run.data.tags
        if tags.get("mlflow.project.entryPoint") != "main":
            continue
        if run.data.params.get("alpha") != "0.5":
            continue
        found = run.info.run_id
        break
    assert found, "no finished run"
    print(json.dumps({"seconds": time.perf_counter() - start}))
    """
)


def make_repo(root: Path, lib: str) -> Path:
    root.mkdir(parents=True)
    (root / "MLproject").write_text(MLPROJECT)
    (root / "python_env.yaml").write_text("dependencies: []\n")
    (root / "train.py").write_text(SCRIPT.format(lib=lib))
    (root / "data.csv").write_text("".join(f"{i},{i * i}\n" for i in range(1000)))
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid"}
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *argv], cwd=root, env=env, check=True)
    return root


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    environ = {**os.environ, **env}
    # as installed: bytecode cached (a CI shell may forbid writing it, and then every process
    # compiles every module it imports, which would be most of what is timed here)
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    mlflow_python = common.mlflow_python()
    mlflow_bin = str(Path(mlflow_python).parent / "mlflow")
    satchel = [sys.executable, "-m", "satchel"]
    with tempfile.TemporaryDirectory(prefix="satchel-bench-reproduce-") as tmp:
        work = Path(tmp)
        ours = make_repo(work / "satchel-proj", "satchel")
        theirs = make_repo(work / "mlflow-proj", "mlflow")
        env = {
            **common.pip_env_for_uv(),
            "SATCHEL_HOME": str(work / "home"),
            "SATCHEL_TRACKING_URI": f"sqlite:///{work / 'satchel.db'}",
            "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        }
        run([*satchel, "run", str(ours)], work, env)  # builds and caches the env
        first = run([*satchel, "runs", "list", "-o", "csv"], work, env).splitlines()[1]
        run_id = first.split(",")[0]
        # --env-manager local runs `python` from PATH: MLflow's own interpreter comes first
        m_env = {**env, "PATH": f"{Path(mlflow_bin).parent}{os.pathsep}{os.environ['PATH']}"}
        # MLflow anchors a relative `path` default at the caller's directory: run it from there
        run([mlflow_bin, "run", str(theirs), "--env-manager", "local"], theirs, m_env)

        def skip_hit() -> None:
            out = run([*satchel, "run", str(ours), "--skip-if-done"], work, env)
            assert out.strip() == run_id, out

        floor = common.timed(lambda: run([*satchel, "--version"], work, env), repeat)
        hit = common.timed(skip_hit, repeat)
        already = common.timed(lambda: common.run_python(mlflow_python, ALREADY_RAN, env), repeat)
        original = common.timed(lambda: run([*satchel, "run", str(ours)], work, env), repeat)
        again = common.timed(lambda: run([*satchel, "runs", "rerun", run_id], work, env), repeat)
        mlflow_run = common.timed(
            lambda: run([mlflow_bin, "run", str(theirs), "--env-manager", "local"], theirs, m_env),
            repeat,
        )
    ms = 1000
    common.report(
        "Reproduction: skip work already done, rerun a recorded run",
        [
            ("skip-if-done hit vs MLflow _already_ran", hit * ms, already * ms, "ms"),
            ("skip-if-done hit vs mlflow run (no skip)", hit * ms, mlflow_run * ms, "ms"),
            ("runs rerun (cached env) vs mlflow run", again * ms, mlflow_run * ms, "ms"),
        ],
        higher_is_better=False,
    )
    print(f"\nsatchel --version (interpreter + CLI start, the floor): {floor * ms:.0f} ms")
    print(f"satchel run --skip-if-done, hit: {hit * ms:.0f} ms (target <= 100 ms)")
    print(f"satchel runs rerun (cached env): {again * ms:.0f} ms")
    print(f"satchel run, the original (warm env): {original * ms:.0f} ms")
    print(f"rerun / original: {again / original:.2f}x")


if __name__ == "__main__":
    main()
