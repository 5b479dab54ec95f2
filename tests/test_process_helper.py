"""``satchel.process``: the one-line reason of a failed helper command (found in review)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from satchel import process


def test_stderr_tail_is_the_reason_not_the_advice(tmp_path: Path) -> None:
    with pytest.raises(process.CommandFailed) as failed:
        process.run(["git", "ls-remote", f"file://{tmp_path / 'no-such-repo.git'}"])
    tail = failed.value.stderr_tail
    assert tail.startswith("fatal:") and "does not appear to be a git repository" in tail


def test_stderr_tail_falls_back_to_the_last_line() -> None:
    code = "import sys; sys.stderr.write('one\\ntwo\\n'); sys.exit(2)"
    with pytest.raises(process.CommandFailed) as failed:
        process.run([sys.executable, "-c", code])
    assert failed.value.stderr_tail == "two"
