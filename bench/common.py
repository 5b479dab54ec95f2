"""Shared helpers for the benchmarks: MLflow in its own virtualenv, timing, ratio reports.

Benchmarks run on demand (``python bench/bench_tracking.py``), never as CI pass/fail. MLflow is
installed with uv into ``bench/.venvs/mlflow`` the first time, so it never touches the
environment Satchel itself runs in.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / ".venvs"
RESULTS = BENCH / "results"
MLFLOW_SPEC = os.environ.get("SATCHEL_BENCH_MLFLOW", "mlflow>=3,<4")


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


def ensure_venv(name: str, packages: list[str]) -> Path:
    """A virtualenv under bench/.venvs/NAME holding ``packages``; returns its python."""
    root = VENVS / name
    python = root / "bin" / "python"
    marker = root / ".bench-ready"
    if marker.exists() and marker.read_text() == "\n".join(packages):
        return python
    subprocess.run([uv_bin(), "venv", "--clear", "-q", "--seed", str(root)], check=True)
    subprocess.run(
        [uv_bin(), "pip", "install", "-q", "--python", str(python), *packages], check=True
    )
    marker.write_text("\n".join(packages))
    return python


def mlflow_python() -> Path:
    return ensure_venv("mlflow", [MLFLOW_SPEC])


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall-clock seconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_python(
    python: Path | str, code: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict:
    """Run ``code`` in ``python``; the code prints one JSON object as its last line."""
    out = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(
    title: str,
    rows: list[tuple[str, float, float, str]],
    *,
    higher_is_better: bool,
) -> None:
    """Print a table: metric, satchel, mlflow, ratio (satchel advantage), unit."""
    print(f"\n## {title}\n")
    print(f"| {'measure':<42} | {'satchel':>12} | {'mlflow':>12} | {'ratio':>8} |")
    print(f"|{'-' * 44}|{'-' * 14}|{'-' * 14}|{'-' * 10}|")
    for name, ours, theirs, unit in rows:
        ratio = (ours / theirs) if higher_is_better else (theirs / ours)
        print(
            f"| {name + ' (' + unit + ')':<42} | {ours:>12.4g} | {theirs:>12.4g} | {ratio:>7.1f}x |"
        )
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "results.jsonl").open("a") as fh:
        for name, ours, theirs, unit in rows:
            fh.write(
                json.dumps(
                    {
                        "title": title,
                        "measure": name,
                        "satchel": ours,
                        "mlflow": theirs,
                        "unit": unit,
                        "time": time.time(),
                    }
                )
                + "\n"
            )


def pip_env_for_uv() -> dict[str, str]:
    """uv ignores pip's configuration; mirror the index settings pip would use."""
    env: dict[str, str] = {}
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    conf = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        conf[key.split(".")[-1]] = value.strip().strip("'")
    if "index-url" in conf:
        env["UV_DEFAULT_INDEX"] = conf["index-url"]
    if "extra-index-url" in conf:
        env["UV_INDEX"] = conf["extra-index-url"]
    if "find-links" in conf:
        env["UV_FIND_LINKS"] = conf["find-links"].replace(" ", ",")
    if "constraint" in conf:
        env["UV_CONSTRAINT"] = conf["constraint"]
    if "UV_INDEX" in env or "UV_FIND_LINKS" in env:
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return env
