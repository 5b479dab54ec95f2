"""``satchel run --backend ray`` and Satchel's Tune callback, side by side with Ray's own tools.

    RAY_ADDRESS=http://127.0.0.1:8265 python bench/bench_ray.py

Needs a running Ray cluster (its dashboard URL in RAY_ADDRESS or SATCHEL_TEST_RAY_ADDRESS) and
the ``ray`` CLI of the cluster's version (SATCHEL_TEST_RAY_PYTHON's, else installed into
bench/.venvs/ray). MLflow is installed into bench/.venvs/mlflow, as for the other benchmarks.

1. A trivial project: ``satchel run --backend ray`` (validate, record, snapshot, submit, stream,
   finish) vs ``ray job submit --working-dir`` of the same command; median wall time of 3.
2. A Tune sweep of 16 trials x 100 iterations, run as a Ray job: tracked by Satchel's
   ``SatchelLoggerCallback`` against ``satchel server`` vs by Ray's ``MLflowLoggerCallback``
   against ``mlflow server`` (both on SQLite). Wall time of ``tuner.fit()`` and the number of
   HTTP requests each tracker made, counted by one small forwarding proxy in front of each
   server (the same per-request cost for both).
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench_server import free_port, start, stop
from common import ensure_venv, mlflow_python, report

RAY_SPEC = os.environ.get("SATCHEL_BENCH_RAY", "ray[default,tune]==2.60.0")
TRIALS, ITERATIONS = 16, 100
MLFLOW_CLIENT = os.environ.get("SATCHEL_BENCH_MLFLOW_CLIENT", "mlflow-skinny==3.17.2")

SWEEP = textwrap.dedent("""
    import json, os, time
    import ray
    from ray import tune

    URI, TRACKER = os.environ["BENCH_TRACKING_URI"], os.environ["BENCH_TRACKER"]
    if TRACKER == "satchel":
        from satchel.integrations.ray_tune import SatchelLoggerCallback
        callback = SatchelLoggerCallback(tracking_uri=URI, experiment_name="bench-sweep")
    else:
        from ray.air.integrations.mlflow import MLflowLoggerCallback
        callback = MLflowLoggerCallback(tracking_uri=URI, experiment_name="bench-sweep")

    def train(config):
        for i in range(config["iterations"]):
            tune.report({"score": config["x"] * i, "loss": 1.0 / (i + 1)})

    ray.init()
    tuner = tune.Tuner(
        tune.with_resources(train, {"cpu": 0.5}),
        param_space={"x": tune.grid_search(list(range(TRIALS))), "iterations": ITERATIONS},
        run_config=tune.RunConfig(
            callbacks=[callback], storage_path=os.path.abspath("results"), verbose=0
        ),
    )
    began = time.perf_counter()
    grid = tuner.fit()
    print("BENCH " + json.dumps({"fit_s": time.perf_counter() - began, "trials": len(grid)}))
""")


# -- a counting forwarding proxy ---------------------------------------------------------
class CountingProxy:
    """Forwards every request to ``target`` and counts them."""

    def __init__(self, target_port: int) -> None:
        self.count = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                proxy.count += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- 1. a trivial project ----------------------------------------------------------------
def trivial_project(base: Path) -> Path:
    project = base / "trivial"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: trivial\nentry_points:\n  main:\n    command: python hello.py\n"
    )
    (project / "hello.py").write_text("print('hello from the cluster')\n")
    return project


def wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    began = time.perf_counter()
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return time.perf_counter() - began


def trivial_runs(base: Path, ray_bin: Path, address: str) -> tuple[float, float]:
    project = trivial_project(base)
    env = {**os.environ, "RAY_ADDRESS": address, "SATCHEL_HOME": str(base / "home")}
    satchel = [sys.executable, "-m", "satchel", "run", str(project), "--backend", "ray"]
    satchel += ["--env-manager", "local"]
    ray = [str(ray_bin), "job", "submit", "--working-dir", str(project), "--", "python", "hello.py"]
    ours, theirs = [], []
    for _ in range(3):
        ours.append(wall(satchel, env, base))
        theirs.append(wall(ray, env, base))
    return statistics.median(ours), statistics.median(theirs)


# -- 2. a Tune sweep ----------------------------------------------------------------------
def sweep(base: Path, ray_bin: Path, address: str, tracker: str, server_url: str) -> dict:
    work = base / f"sweep-{tracker}"
    work.mkdir()
    code = SWEEP.replace("TRIALS", str(TRIALS), 1).replace("ITERATIONS", str(ITERATIONS), 1)
    (work / "sweep.py").write_text(code)
    env_vars = {"BENCH_TRACKING_URI": server_url, "BENCH_TRACKER": tracker}
    # the same driver environment for both (the cluster's Ray plus the mlflow client)
    runtime_env: dict[str, object] = {"env_vars": env_vars, "uv": [MLFLOW_CLIENT]}
    if tracker == "satchel":
        runtime_env["py_modules"] = [str(Path(__file__).resolve().parents[1] / "src" / "satchel")]
    argv = [str(ray_bin), "job", "submit", "--working-dir", str(work)]
    argv += ["--runtime-env-json", json.dumps(runtime_env), "--", "python", "sweep.py"]
    out = subprocess.run(
        argv,
        env={**os.environ, "RAY_ADDRESS": address},
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"BENCH (\{.*\})", out.stdout)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"the {tracker} sweep failed:\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
    return dict(json.loads(found.group(1)))


def serve(kind: str, base: Path) -> tuple[subprocess.Popen, int]:
    work = base / f"server-{kind}"
    work.mkdir()
    port = free_port()
    python = sys.executable if kind == "satchel" else str(mlflow_python())
    module = "satchel" if kind == "satchel" else "mlflow"
    argv = [python, "-m", module, "server", "--backend-store-uri", f"sqlite:///{work / 'db'}"]
    argv += ["--artifacts-destination", str(work / "artifacts")]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    proc, _ = start(argv, port, work)
    return proc, port


def tracked_sweep(base: Path, ray_bin: Path, address: str, kind: str) -> dict:
    proc, port = serve(kind, base)
    proxy = CountingProxy(port)
    try:
        began = time.perf_counter()
        result = sweep(base, ray_bin, address, kind, proxy.url)
        result["job_s"] = time.perf_counter() - began
        result["requests"] = proxy.count
    finally:
        proxy.close()
        stop(proc)
    return result


def ray_cli() -> Path:
    python = os.environ.get("SATCHEL_TEST_RAY_PYTHON") or str(ensure_venv("ray", [RAY_SPEC]))
    return Path(python).parent / "ray"


def main() -> None:
    address = os.environ.get("RAY_ADDRESS") or os.environ.get("SATCHEL_TEST_RAY_ADDRESS", "")
    if urlsplit(address).scheme not in ("http", "https"):
        raise SystemExit("set RAY_ADDRESS to a running Ray cluster's dashboard URL")
    ray_bin = ray_cli()
    mlflow_python()  # installed before anything is timed
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        base = Path(tmp)
        ours, theirs = trivial_runs(base, ray_bin, address)
        report(
            "a trivial project on Ray: satchel run --backend ray vs ray job submit",
            [("wall time, median of 3", ours, theirs, "s")],
            higher_is_better=False,
        )
        s = tracked_sweep(base, ray_bin, address, "satchel")
        m = tracked_sweep(base, ray_bin, address, "mlflow")
        shutil.rmtree(base, ignore_errors=True)
    report(
        f"Tune sweep, {TRIALS} trials x {ITERATIONS} iterations: Satchel's callback + satchel "
        "server vs MLflowLoggerCallback + mlflow server",
        [
            ("tuner.fit() wall time", s["fit_s"], m["fit_s"], "s"),
            ("whole Ray job wall time", s["job_s"], m["job_s"], "s"),
            ("HTTP requests to the tracking server", s["requests"], m["requests"], "requests"),
        ],
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
