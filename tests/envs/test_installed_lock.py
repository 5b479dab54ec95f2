"""The lock read back from an installed venv: names normalised, sorted like uv, direct refs kept."""

from __future__ import annotations

import json
from pathlib import Path

from satchel.envs.uv import installed_lock


def _dist(site: Path, name: str, version: str, direct: dict | None = None) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    body = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n\nName: not-a-header\n"
    (info / "METADATA").write_text(body.format(name, version))
    if direct is not None:
        (info / "direct_url.json").write_text(json.dumps(direct))


def test_installed_lock_reads_dist_info(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    _dist(site, "mypy", "1.0")
    _dist(site, "Mypy_Extensions", "1.0.0")
    _dist(site, "six", "1.16.0")
    _dist(site, "tool", "0.1", {"url": "file:///src/tool.whl", "archive_info": {}})
    vcs = {"url": "https://example.org/r.git", "vcs_info": {"vcs": "git", "commit_id": "abc"}}
    _dist(site, "fromgit", "2.0", vcs)
    (site / "_virtualenv.py").write_text("")  # what uv venv adds: not a distribution
    assert installed_lock(tmp_path) == (
        "fromgit @ git+https://example.org/r.git@abc\n"
        "mypy==1.0\n"
        "mypy-extensions==1.0.0\n"
        "six==1.16.0\n"
        "tool @ file:///src/tool.whl\n"
    )


def test_installed_lock_of_an_empty_venv_is_empty(tmp_path: Path) -> None:
    (tmp_path / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    assert installed_lock(tmp_path) == ""
