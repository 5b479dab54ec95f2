"""Crash logs: one file per crash, however many happen in the same second, and one even when
SATCHEL_HOME cannot take it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from satchel.crashlog import write_crash_log


def _boom(n: int) -> BaseException:
    try:
        raise RuntimeError(f"bug number {n}")
    except RuntimeError as exc:
        return exc


def test_three_crashes_in_one_second_keep_three_logs(tmp_path: Path) -> None:
    frozen = 1_800_000_000.0  # an injected clock: all three crashes happen in the same second
    paths = [write_crash_log(_boom(n), clock=lambda: frozen) for n in range(3)]
    assert len(set(paths)) == 3
    assert [p.parent for p in paths] == [tmp_path / "satchel-home" / "logs"] * 3
    for n, path in enumerate(paths):
        assert f"RuntimeError: bug number {n}" in path.read_text()


def test_an_unusable_home_still_gets_a_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "not-a-dir"
    home.write_text("a file where SATCHEL_HOME should be a directory")
    monkeypatch.setenv("SATCHEL_HOME", str(home))
    path = write_crash_log(_boom(7))
    assert "bug number 7" in path.read_text()
    assert path.parent == tmp_path / "_tmpdir"  # the system temp dir (the test's own)


def test_the_cli_prints_the_crash_log_path(tmp_path: Path) -> None:
    """A real crash of the real CLI, twice in a row: exit 3 and two logs."""
    code = (
        "import sys\n"
        "import satchel.cli as cli\n"
        "def crash(**kw):\n"
        "    raise ZeroDivisionError('our bug')\n"
        "cli.cli.add_command(__import__('click').command('crash')(crash))\n"
        "cli.main(['crash'])\n"
    )
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 3, done.stderr
        assert "This is a bug; the traceback is in" in done.stderr
    logs = sorted((tmp_path / "satchel-home" / "logs").glob("crash-*.log"))
    assert len(logs) == 2


def test_crash_log_masks_secret_params() -> None:
    import sys

    from satchel.crashlog import write_crash_log

    argv = ["satchel", "run", ".", "-P", "api_token=tok-12345", "-P", "password=o"]
    saved, sys.argv = sys.argv, argv
    try:
        try:
            raise RuntimeError("failed with tok-12345 in hand")
        except RuntimeError as exc:
            log = write_crash_log(exc).read_text()
    finally:
        sys.argv = saved
    assert "tok-12345" not in log and "api_token=***" in log and "password=***" in log
