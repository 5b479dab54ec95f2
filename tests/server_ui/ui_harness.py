"""Fixtures and helpers for the UI tests, imported by them (a conftest.py here would shadow
the root conftest module that other tests import from): a store holding a 9-run ElasticNet
sweep, `satchel ui` running on it as a real process, and Chromium driven by Playwright.

Chromium is Debian's (``SATCHEL_TEST_CHROMIUM``, exported by ``.ci/services.sh``'s
``ci_up browser``); Playwright never downloads a browser. The variable is read at import
time because the autouse isolation fixture clears SATCHEL_* variables for each test.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from satchel.tracking.client import Client

CHROMIUM = os.environ.get("SATCHEL_TEST_CHROMIUM", "")
SHOTS = Path(__file__).resolve().parents[2] / "tests-output" / "ui"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ALPHAS = (0.1, 0.5, 1.0)
L1_RATIOS = (0.1, 0.5, 0.9)
STEPS = 30


DIFF = """diff --git a/train.py b/train.py
--- a/train.py
+++ b/train.py
@@ -1,2 +1,2 @@
-alpha = 0.5
+alpha = float(sys.argv[1])
"""


def sweep_rmse(alpha: float, l1: float, step: int) -> float:
    return round(0.55 + 0.25 * alpha + 0.2 * l1 + 0.4 / (step + 1), 6)


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    """A small gradient PNG written with zlib (no imaging library needed)."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 4 % 256, y * 5 % 256, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_sweep(client: Client, tmp: Path) -> dict[str, Any]:
    """Experiment "wine-elasticnet": a parent run and 9 nested ElasticNet runs (alpha x
    l1_ratio), each with params, an rmse/mae/r2 history, a plot and a predictions CSV."""
    exp = client.create_experiment("wine-elasticnet")
    other = client.create_experiment("wine-archive")
    parent = client.create_run(exp, run_name="sweep", tags={"mlflow.source.name": "train.py"})
    plot = tmp / "plot.png"
    plot.write_bytes(png_bytes())
    runs = {}
    for alpha in ALPHAS:
        for l1 in L1_RATIOS:
            name = f"en-a{alpha}-l{l1}"
            run = client.create_run(
                exp,
                run_name=name,
                tags={
                    "mlflow.parentRunId": parent.info.run_id,
                    "mlflow.source.name": "train.py",
                    "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
                    "satchel.source.dirty": "true" if alpha == 1.0 else "false",
                },
            )
            rid = run.info.run_id
            client.log_param(rid, "alpha", alpha)
            client.log_param(rid, "l1_ratio", l1)
            for step in range(STEPS):
                client.log_metric(rid, "rmse", sweep_rmse(alpha, l1, step), step=step)
                client.log_metric(rid, "mae", sweep_rmse(alpha, l1, step) * 0.8, step=step)
            client.log_metric(rid, "r2", round(0.6 - 0.2 * alpha - 0.1 * l1, 6))
            client.log_artifact(rid, str(plot), "plots")
            rows = "\n".join(f"{i},{round(5 + math.sin(i), 3)},{6}" for i in range(25))
            client.log_text(rid, "row,predicted,actual\n" + rows + "\n", "predictions.csv")
            client.set_terminated(rid)
            runs[name] = rid
    first = runs["en-a0.1-l0.1"]
    client.log_text(first, DIFF, "source/diff.patch")
    client.log_text(first, "numpy==2.1.0\nscikit-learn==1.5.2\n", "env/requirements.lock")
    client.log_text(first, "Resolved 2 packages\n", "env/build.log")
    client.log_text(first, "\x1b[32mepoch 1\x1b[0m rmse=0.9\n", "logs/console.log")
    client.set_terminated(parent.info.run_id)
    return {"experiment_id": exp, "other_id": other, "parent": parent.info.run_id, "runs": runs}


@pytest.fixture
def sweep(tmp_path: Path) -> dict[str, Any]:
    uri = f"sqlite:///{tmp_path / 'store' / 'satchel.db'}"
    client = Client(uri)
    data = make_sweep(client, tmp_path)
    data.update(uri=uri, client=client)
    return data


@contextlib.contextmanager
def running_ui(tracking_uri: str, cwd: Path | None = None) -> Iterator[str]:
    """`satchel ui --tracking-uri URI` as the user runs it; yields the URL it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "satchel", "ui", "--tracking-uri", tracking_uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server printed its URL
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, f"satchel ui printed {line!r}"
        yield found.group()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def ui_url(sweep: dict[str, Any]) -> Iterator[str]:
    with running_ui(sweep["uri"]) as url:
        yield url


# Module scope: each test module imports this fixture (so each has its own copy), and two
# Playwright drivers must never be alive at once in one thread.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM:
        pytest.fail(
            "SATCHEL_TEST_CHROMIUM is not set: run `source .ci/services.sh && ci_up browser`"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page plus what must never happen on it: dialogs and script errors."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        page.on("dialog", self._dialog)
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Watched(page)
    context.close()
