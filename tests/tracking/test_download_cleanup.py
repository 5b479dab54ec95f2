"""A failed download into a temporary directory leaves no directory behind (found in review)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from satchel.errors import SatchelError
from satchel.tracking.client import Client


def test_failed_download_removes_its_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where mkdtemp puts it
    client = Client(f"sqlite:///{tmp_path / 'runs.db'}")
    run_id = client.create_run("0").info.run_id
    for bad in ("nothere", "../../etc"):
        with pytest.raises(SatchelError):
            client.download_artifacts(run_id, bad)
    assert list(scratch.iterdir()) == []
    (scratch / "src.txt").write_text("hi")
    client.log_artifact(run_id, str(scratch / "src.txt"))
    (scratch / "src.txt").unlink()
    got = Path(client.download_artifacts(run_id, "src.txt"))
    assert got.read_text() == "hi" and got.parent.parent == scratch
