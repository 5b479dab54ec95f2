"""Human-readable output never lets a control character reach the terminal; JSON and CSV
keep the exact values."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys

import pytest
from tests.conftest import run_cli

import satchel
from satchel.cli._output import table, to_json

HOSTILE = "\x1b]0;pwned\x07name\x08\x08\x9b31m\u202eevil\x1b[31mred"
RAW = ("\x1b", "\x07", "\x08", "\x9b", "\u202e")


@pytest.fixture()
def hostile_run() -> str:
    client = satchel.Client()
    run_id = client.create_run("0", run_name=HOSTILE).info.run_id
    client.log_param(run_id, "p", HOSTILE)
    client.set_tag(run_id, "t", HOSTILE)
    client.log_metric(run_id, "m", 1.0)
    client.set_terminated(run_id)
    return run_id


def _assert_clean(text: str) -> None:
    assert not any(ch in text for ch in RAW), repr(text)
    assert "\\x1b]0;pwned\\x07name" in text  # shown as escapes, not dropped


@pytest.mark.parametrize(
    "args", [("runs", "list"), ("runs", "show", "RUN"), ("runs", "compare", "RUN", "RUN")]
)
def test_tables_escape_control_characters_when_piped(hostile_run: str, args: tuple) -> None:
    out = run_cli(*(hostile_run if a == "RUN" else a for a in args))
    assert out.returncode == 0, out.stderr
    _assert_clean(out.stdout + out.stderr)


def test_tables_escape_control_characters_on_a_terminal(hostile_run: str) -> None:
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "satchel", "runs", "show", hostile_run],
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=60) == 0
    os.close(primary)
    _assert_clean(b"".join(chunks).decode())


def test_json_and_csv_keep_the_exact_values(hostile_run: str) -> None:
    shown = run_cli("runs", "show", hostile_run, "-o", "json").stdout
    assert not any(ch in shown for ch in RAW)  # escaped inside the JSON strings
    data = json.loads(shown)
    tags = {t["key"]: t["value"] for t in data["data"]["tags"]}
    assert data["info"]["run_name"] == HOSTILE and tags["t"] == HOSTILE
    rows = list(csv.DictReader(io.StringIO(run_cli("runs", "list", "-o", "csv").stdout)))
    assert rows[0]["name"] == HOSTILE  # byte-exact for programs, colour sequences included
    shown_csv = run_cli("runs", "show", hostile_run, "-o", "csv").stdout
    assert HOSTILE in shown_csv


def test_error_lines_are_printable() -> None:
    out = run_cli("runs", "show", "\x1b]0;x\x07")
    assert out.returncode == 1 and not any(ch in out.stderr for ch in RAW)


def test_one_function_cleans_every_table_cell_and_header() -> None:
    text = table([[HOSTILE, "a\tb\nc"]], ["h\x1b", "v"])
    assert not any(ch in text for ch in RAW) and "a b c" in text
    assert json.loads(to_json({"k": HOSTILE})) == {"k": HOSTILE}
