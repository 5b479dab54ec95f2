"""Hostile text everywhere a user can put it; in Chromium, no script of it ever runs.

Each payload would call alert() if it executed, so the test listens for dialogs (and for
uncaught page errors). Console errors are allowed only when they report the defence
itself (a CSP or sandbox refusal)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ui_harness import Watched, browser  # noqa: F401 - fixture

from satchel.tracking.client import Client

pytestmark = pytest.mark.slow

PAYLOADS = [
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "javascript:alert('url')",
    "<svg onload=alert('svg')>",
    "\"><svg/onload=alert('attr')>",
    "'><iframe src=javascript:alert('frame')>",
    "</script><script>alert('close')</script>",
    "\x1b]8;;javascript:alert('osc')\x1b\\link\x1b]8;;\x1b\\ \x1b[31mred\x1b[0m\x07",
    "{{7*7}} ${alert('tpl')}",
]
HOSTILE = " ".join(PAYLOADS)
DESCRIPTION = (
    "# Notes\n[click](javascript:alert('md-link')) ![x](javascript:alert('md-img'))\n\n"
    "<script>alert('md-script')</script> <img src=x onerror=alert('md-raw')>\n"
)
EVIL_HTML = "<html><body><h1>report</h1><script>alert('html-artifact')</script></body></html>"
EVIL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'svg-file\')" width="10" '
    'height="10"><script>alert("svg-script")</script><rect width="10" height="10"/></svg>'
)
ALLOWED_CONSOLE = re.compile(r"Content Security Policy|Blocked script execution|sandbox", re.I)


def hostile_store(tmp: Path) -> tuple[str, str, str]:
    uri = f"sqlite:///{tmp / 'store' / 'satchel.db'}"
    client = Client(uri)
    exp = client.create_experiment("<script>alert('exp')</script><img src=x onerror=alert(2)>")
    run = client.create_run(
        exp,
        run_name="<img src=x onerror=alert('run')>",
        tags={
            "mlflow.source.git.repoURL": "javascript:alert('repo')",
            "mlflow.source.name": HOSTILE,
            "note": HOSTILE,
            "mlflow.note.content": DESCRIPTION,
        },
    )
    rid = run.info.run_id
    client.log_param(rid, "evil", HOSTILE)
    client.log_param(rid, "alpha", "<b onmouseover=alert('p')>0.5</b>")
    client.log_metric(rid, "rmse", 0.5, step=0)
    client.log_metric(rid, "rmse", 0.4, step=1)
    files = tmp / "files"
    files.mkdir()
    (files / "<img src=x onerror=alert('name')>.txt").write_text(HOSTILE)
    (files / "report.html").write_text(EVIL_HTML)
    (files / "evil.svg").write_text(EVIL_SVG)
    (files / "table.csv").write_text("a,b\n" + ",".join(PAYLOADS[:2]) + "\n")
    (files / "conf.json").write_text('{"x": "' + PAYLOADS[0].replace('"', "") + '"}')
    client.log_artifacts(rid, str(files))
    client.log_text(rid, HOSTILE, "logs/console.log")
    other = client.create_run(exp, run_name="</title><script>alert('run2')</script>")
    client.log_param(other.info.run_id, "evil", "x")
    return uri, exp, rid + "," + other.info.run_id


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[str, str, str]:
    return hostile_store(tmp_path)


def test_no_user_supplied_text_runs_script_anywhere(
    tmp_path: Path,
    hostile: tuple[str, str, str],
    browser: Any,  # noqa: F811 - fixture
) -> None:
    import subprocess
    import sys

    uri, exp, runs = hostile
    proc = subprocess.Popen(
        [sys.executable, "-m", "satchel", "ui", "--tracking-uri", uri],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = re.search(r"http://[\d.:]+/", proc.stdout.readline()).group()  # type: ignore[union-attr]
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        watched = Watched(context.new_page())
        visit_everything(watched, url, exp, runs.split(","))
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert watched.dialogs == [], watched.dialogs
    assert watched.errors == [], watched.errors
    unexpected = [m for m in watched.console_errors if not ALLOWED_CONSOLE.search(m)]
    assert unexpected == [], (unexpected, watched.failed)


def visit_everything(watched: Watched, url: str, exp: str, runs: list[str]) -> None:
    page = watched.page
    cols = "col=params.evil&col=params.alpha&col=tags.note&col=metrics.rmse"
    page.goto(f"{url}experiments/{exp}?{cols}")
    page.wait_for_selector("body[data-ready]")
    assert "<script>alert('exp')</script>" in page.locator("h1").inner_text()
    assert "<img src=x onerror=alert('run')>" in page.locator("#runs-table").inner_text()
    watched.shot("xss-experiment")
    # a hostile filter echoed back in the error box
    page.goto(
        f"{url}experiments/{exp}?filter=" + "params.evil+%3D%3D+'%3Cscript%3Ealert(1)%3C/script%3E'"
    )
    page.wait_for_selector("#filter-error")
    page.goto(f"{url}?q=%3Cscript%3Ealert('q')%3C/script%3E")
    page.goto(f"{url}runs/{runs[0]}")
    page.wait_for_selector("#metric-chart[data-drawn]")
    assert page.locator("#description-view h1").inner_text() == "Notes"  # Markdown rendered
    assert page.locator("#description-view script, #description-view img").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    for link in page.locator(".artifact-link").all():
        link.click()
        page.wait_for_selector(".preview-body")
        page.wait_for_timeout(300)  # let an image or frame load (and try its tricks)
    page.click('.artifact-link[data-path="report.html"]')
    page.wait_for_selector("iframe.preview-html")
    page.wait_for_timeout(500)
    watched.shot("xss-run")
    for name in ("report.html", "evil.svg"):  # opened directly, as a shared link would
        page.goto(f"{url}runs/{runs[0]}/artifact?path={name}")
        page.wait_for_timeout(300)
    page.goto(f"{url}compare?runs={','.join(runs)}")
    page.wait_for_selector("#compare-plot[data-drawn]")
    for kind in ("scatter", "contour", "box"):
        page.select_option("#plot-kind", kind)
        page.wait_for_selector(f'#compare-plot[data-drawn="{kind}"]')
    watched.shot("xss-compare")
