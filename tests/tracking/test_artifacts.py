"""Local artifact repository: copies, listings, downloads, and no escape from the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking.artifacts import FileInfo, get_artifact_repository
from satchel.tracking.artifacts.local import LocalArtifactRepository


@pytest.fixture
def repo(tmp_path: Path) -> LocalArtifactRepository:
    return LocalArtifactRepository(tmp_path / "run" / "artifacts")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "plots" / "deep").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "plots" / "loss.png").write_bytes(b"\x89PNG")
    (src / "plots" / "deep" / "x.csv").write_text("1,2")
    return src


def test_log_and_list(repo: LocalArtifactRepository, source: Path) -> None:
    repo.log_artifact(source / "a.txt")
    repo.log_artifact(source / "a.txt", artifact_path="code")
    repo.log_artifacts(source / "plots", artifact_path="plots")
    assert repo.list_artifacts() == [
        FileInfo("a.txt", False, 1),
        FileInfo("code", True, None),
        FileInfo("plots", True, None),
    ]
    assert repo.list_artifacts("plots") == [
        FileInfo("plots/deep", True, None),
        FileInfo("plots/loss.png", False, 4),
    ]
    assert (repo.root / "plots" / "deep" / "x.csv").read_text() == "1,2"
    assert repo.list_artifacts("missing") == []


def test_download(repo: LocalArtifactRepository, source: Path, tmp_path: Path) -> None:
    repo.log_artifacts(source)
    one = repo.download_artifacts("plots/loss.png", tmp_path / "dl1")
    assert one == tmp_path / "dl1" / "loss.png" and one.read_bytes() == b"\x89PNG"
    folder = repo.download_artifacts("plots", tmp_path / "dl2")
    assert (folder / "deep" / "x.csv").read_text() == "1,2"
    everything = repo.download_artifacts(None, tmp_path / "dl3")
    assert (everything / "a.txt").read_text() == "A"
    with pytest.raises(NotFoundError, match="nope"):
        repo.download_artifacts("nope", tmp_path / "dl4")


def test_local_path_and_write_bytes(repo: LocalArtifactRepository) -> None:
    path = repo.local_path("logs/console.txt")
    assert path.parent.is_dir() and path == repo.root / "logs" / "console.txt"
    repo.write_bytes("notes/readme.txt", b"hello")
    assert (repo.root / "notes" / "readme.txt").read_bytes() == b"hello"
    assert not [p for p in (repo.root / "notes").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("bad", ["../escape", "a/../../b", "/etc/passwd", "..", "a/..//.."])
def test_paths_cannot_escape(
    repo: LocalArtifactRepository, source: Path, tmp_path: Path, bad: str
) -> None:
    with pytest.raises(InvalidValueError) as err:
        repo.log_artifact(source / "a.txt", artifact_path=bad)
    assert "\n" not in str(err.value)
    with pytest.raises(InvalidValueError):
        repo.local_path(bad)
    with pytest.raises(InvalidValueError):
        repo.download_artifacts(bad, tmp_path / "dl")
    with pytest.raises(InvalidValueError):
        repo.list_artifacts(bad)
    assert not (tmp_path / "run" / "escape").exists()


def test_symlink_in_source_pointing_outside_is_refused(
    repo: LocalArtifactRepository, source: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    os.symlink(secret, source / "plots" / "link.txt")
    with pytest.raises(InvalidValueError, match="outside"):
        repo.log_artifacts(source)
    assert not repo.root.exists() or not any(repo.root.rglob("*"))  # nothing half-logged


def test_symlink_inside_source_is_copied_as_file(
    repo: LocalArtifactRepository, source: Path
) -> None:
    os.symlink(source / "a.txt", source / "plots" / "alias.txt")
    repo.log_artifacts(source)
    copied = repo.root / "plots" / "alias.txt"
    assert copied.read_text() == "A" and not copied.is_symlink()


def test_symlink_in_repository_pointing_outside(
    repo: LocalArtifactRepository, tmp_path: Path, source: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo.root.mkdir(parents=True)
    os.symlink(outside, repo.root / "evil")
    with pytest.raises(InvalidValueError, match="symlink"):
        repo.log_artifact(source / "a.txt", artifact_path="evil")
    with pytest.raises(InvalidValueError):
        repo.local_path("evil/x.txt")
    with pytest.raises(InvalidValueError):
        repo.download_artifacts("evil", tmp_path / "dl")
    assert list(outside.iterdir()) == []


def test_missing_sources(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        repo.log_artifact(tmp_path / "nope.txt")
    with pytest.raises(NotFoundError):
        repo.log_artifacts(tmp_path / "nope")


def test_get_artifact_repository(tmp_path: Path) -> None:
    repo = get_artifact_repository(f"file://{tmp_path}/x/artifacts")
    assert repo.root == tmp_path / "x" / "artifacts"
    assert get_artifact_repository(str(tmp_path)).root == tmp_path
    with pytest.raises(InvalidValueError, match="s3"):
        get_artifact_repository("s3://bucket/key")
