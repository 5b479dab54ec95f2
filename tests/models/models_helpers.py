"""Helpers of the model tests: uv-built framework environments and scripts run inside them.

Model code runs where the model's framework is installed, as in a user's project: the test
scripts run in that environment with satchel on the PYTHONPATH (``run_py``), while the
test process itself keeps only Satchel's own dependencies.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Trains a small classifier on two features; scripts below build on it.
TRAIN = """
import json, sys, warnings
import numpy as np
import satchel
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.2], [0.1, 0.8], [0.7, 0.1]])
y = np.array([0, 1, 0, 1, 0, 1])
from sklearn.linear_model import LogisticRegression
model = LogisticRegression().fit(X, y)
"""


def ml_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_py(
    python: Path, code: str, check: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python`` in the current directory (the test's work dir)."""
    done = subprocess.run(
        [str(python), "-c", code], env=ml_env(**extra), capture_output=True, text=True, timeout=300
    )
    if check and done.returncode != 0:
        pytest.fail(f"script failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


class Served:
    """A ``satchel models serve`` process and the port it listens on."""

    def __init__(self, argv: list[str], env: dict[str, str], timeout: float = 600) -> None:
        import re
        import threading

        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        threading.Thread(
            target=lambda: self.stderr.extend(self.proc.stderr or []), daemon=True
        ).start()
        ready: list[str] = []
        reader = threading.Thread(
            target=lambda: ready.append(self.proc.stdout.readline() if self.proc.stdout else "")
        )
        reader.start()
        reader.join(timeout)
        found = re.search(r"listening on http://[\d.]+:(\d+)", ready[0] if ready else "")
        if not found:
            self.stop()
            pytest.fail(f"serve did not start: {''.join(self.stderr)[-3000:]}")
        self.port = int(found.group(1))

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=60)
