"""Model serving benchmark: ``satchel models serve`` vs ``mlflow models serve``, in one go.

    python bench/bench_models.py        # installs MLflow + scikit-learn into bench/.venvs/

One scikit-learn model, saved once in MLflow's format by Satchel (MLflow loads it as its own),
is served by each tool on 127.0.0.1:
- start → first successful prediction: from launching the command to the first
  ``{"predictions": ...}``. Satchel serves with ``--env-manager uv`` from its cached model
  environment (built once before timing, as a second ``serve`` finds it); MLflow with
  ``--env-manager local`` (its fastest mode: no environment to build at all).
- single-row predictions per second: one client, one kept-alive connection, sequential
  ``{"inputs": [[...]]}`` requests.
Medians of ``ROUNDS`` starts; the machine's load makes absolute numbers noisy, ratios less so.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import MLFLOW_SPEC, ensure_venv, pip_env_for_uv, report

REPO = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("SATCHEL_BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("SATCHEL_BENCH_REQUESTS", "500"))
BODY = json.dumps({"inputs": [[0.3, 0.7]]}).encode()

SAVE = """
import numpy as np, satchel
from sklearn.linear_model import LogisticRegression
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.2]])
satchel.sklearn.save_model(LogisticRegression().fit(X, [0, 1, 0, 1]), {path!r},
                           input_example=X[:2])
print("{{}}")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def predict(port: int, conn: http.client.HTTPConnection | None = None) -> bool:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/invocations", BODY, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status == 200 and b"predictions" in response.read()
    except OSError:
        conn.close()
        return False


def start_to_first_prediction(
    argv: list[str], port: int, env: dict[str, str]
) -> tuple[float, subprocess.Popen[bytes]]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not predict(port):
        if proc.poll() is not None:
            raise SystemExit(f"{argv[:4]} exited with {proc.returncode}")
        if time.perf_counter() - start > 300:
            proc.kill()
            raise SystemExit(f"{argv[:4]} did not answer within 300 s")
        time.sleep(0.05)
    return time.perf_counter() - start, proc


def predictions_per_second(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    predict(port, conn)
    start = time.perf_counter()
    for _ in range(REQUESTS):
        if not predict(port, conn):
            raise SystemExit("a prediction failed during the throughput run")
    return REQUESTS / (time.perf_counter() - start)


def measure(make_argv: object, env: dict[str, str]) -> tuple[float, float]:
    starts, rates = [], []
    for _ in range(ROUNDS):
        port = free_port()
        seconds, proc = start_to_first_prediction(make_argv(port), port, env)  # type: ignore[operator]
        starts.append(seconds)
        rates.append(predictions_per_second(port))
        proc.terminate()
        proc.wait(timeout=60)
    return statistics.median(starts), statistics.median(rates)


def main() -> None:
    mlflow = ensure_venv("mlflow-models", [MLFLOW_SPEC, "scikit-learn", "skops"])
    work = Path(tempfile.mkdtemp(prefix="satchel-bench-models-"))
    model = work / "model"
    env = {
        **os.environ,
        **pip_env_for_uv(),
        "SATCHEL_HOME": str(work / "home"),
        "PYTHONPATH": str(REPO / "src"),
    }
    subprocess.run([str(mlflow), "-c", SAVE.format(path=str(model))], env=env, check=True)

    def satchel(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "satchel",
            "models",
            "serve",
            "-m",
            str(model),
            "--port",
            str(port),
            "--env-manager",
            "uv",
        ]

    def mlflow_serve(port: int) -> list[str]:
        return [
            str(mlflow),
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            str(model),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--env-manager",
            "local",
        ]

    print("building Satchel's model environment once (cached afterwards) ...", flush=True)
    _, proc = start_to_first_prediction(satchel(port := free_port()), port, env)
    proc.terminate()
    proc.wait(timeout=60)
    ours = measure(satchel, env)
    # mlflow runs `uvicorn` from PATH: its own virtualenv's, as after activating it
    path = f"{mlflow.parent}:{os.environ.get('PATH', '')}"
    theirs = measure(mlflow_serve, {**env, "PYTHONPATH": "", "PATH": path})
    report(
        "models serve: start → first prediction",
        [
            ("start to first prediction", ours[0], theirs[0], "s"),
        ],
        higher_is_better=False,
    )
    report(
        "models serve: single-row requests, one kept-alive client",
        [
            ("predictions per second", ours[1], theirs[1], "req/s"),
        ],
        higher_is_better=True,
    )


if __name__ == "__main__":
    main()
