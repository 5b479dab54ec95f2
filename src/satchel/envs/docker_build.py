"""``--build-image``: the project's code baked into an image tagged by a content key.

The key covers what the build reads and nothing else: the build context (relative paths, file
modes, contents and symlink targets, after ``.dockerignore``), the base image id and the
Dockerfile template version. Timestamps are left out on purpose, so a fresh checkout of the
same commit reuses the image. A failed build leaves no tag, no intermediate container (rm +
forcerm) and no untagged intermediate image; its log is kept for the run's artifacts.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from satchel.errors import EnvironmentBuildError
from satchel.home import satchel_home
from satchel.projects.spec import Project

if TYPE_CHECKING:
    import docker
    from docker.models.images import Image

__all__ = ["BuildContext", "build", "existing_image", "image_tag"]

TEMPLATE_VERSION = "1"  # bump when DOCKERFILE changes: every key changes with it
DOCKERFILE = """\
FROM {base_id}
COPY project/ {workdir}/
WORKDIR {workdir}
LABEL satchel.key="{key}"
"""
# Never part of the image unless .dockerignore re-includes them (`!.git`): VCS internals,
# bytecode and Satchel's own default store when it sits inside the project (it changes on
# every run, which would otherwise defeat the content key).
DEFAULT_IGNORES = (
    ".git",
    "**/__pycache__",
    "**/*.pyc",
    "mlruns",
    "satchel/satchel.db*",
    "satchel/artifacts",
)
_STEP_ID = re.compile(r"^ ---> ([0-9a-f]{12,64})\s*$")


def _ignore_patterns(root: Path) -> list[str]:
    # Same parsing as docker's CLI and SDK: one pattern a line, `#` comments, blanks skipped.
    patterns = list(DEFAULT_IGNORES)
    ignore_file = root / ".dockerignore"
    if ignore_file.is_file():
        for line in ignore_file.read_text(errors="replace").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line)
    return patterns


@dataclass(frozen=True)
class BuildContext:
    root: Path
    files: tuple[str, ...]  # relative paths (files, symlinks, directories), sorted

    @classmethod
    def scan(cls, root: Path) -> BuildContext:
        from docker.utils.build import PatternMatcher

        kept = PatternMatcher(_ignore_patterns(root)).walk(str(root))
        return cls(root=root, files=tuple(sorted(p.replace(os.sep, "/") for p in kept)))

    def key(self, base_id: str) -> str:
        digest = hashlib.sha256(f"satchel-docker-{TEMPLATE_VERSION}\0{base_id}\0".encode())
        for rel in self.files:
            path = self.root / rel
            info = path.lstat()
            digest.update(f"{rel}\0{stat.S_IMODE(info.st_mode):o}\0".encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(b"L" + os.readlink(path).encode() + b"\0")
            elif stat.S_ISREG(info.st_mode):
                digest.update(b"F" + _file_digest(path) + b"\0")
            else:
                digest.update(b"D\0")
        return digest.hexdigest()[:12]

    def write_tar(self, fileobj: IO[bytes], dockerfile: str) -> None:
        with tarfile.open(fileobj=fileobj, mode="w") as tar:
            data = dockerfile.encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, _bytes_io(data))
            for rel in self.files:
                path = self.root / rel
                info = tar.gettarinfo(str(path), arcname=f"project/{rel}")  # lstat: links kept
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.isreg():
                    with path.open("rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def _bytes_io(data: bytes) -> IO[bytes]:
    import io

    return io.BytesIO(data)


def image_tag(project: Project, key: str) -> str:
    """``satchel-<name>:<key>``: a valid docker repository name from the project's name."""
    name = project.name or project.root.name
    repo = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("._-")[:100] or "project"
    return f"satchel-{repo}:{key}"


def existing_image(client: docker.DockerClient, tag: str) -> Image | None:
    import docker

    from satchel.envs.docker_engine import remember_image

    try:
        return remember_image(client.images.get(tag))
    except docker.errors.ImageNotFound:
        return None


def _log_path(tag: str) -> Path:
    folder = satchel_home() / "envs" / "docker"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"build-{tag.replace(':', '-').replace('/', '-')}-{stamp}.log"


def build(
    client: docker.DockerClient, context: BuildContext, base: Image, tag: str, workdir: str
) -> tuple[Image, Path]:
    """Build ``tag`` with the code copied to ``workdir``; the image and the path of its build
    log. EnvironmentBuildError on failure."""
    import docker

    log_path = _log_path(tag)
    dockerfile = DOCKERFILE.format(base_id=base.id, workdir=workdir, key=tag)
    step_ids: list[str] = []
    had_tag = existing_image(client, tag) is not None  # --refresh: a failure keeps the old one
    ok = False
    try:
        with tempfile.TemporaryFile() as tar, log_path.open("w") as log:
            context.write_tar(tar, dockerfile)
            tar.seek(0)
            error = _stream_build(client, tar, tag, log, step_ids)
        if error is None:
            ok = True
            return client.images.get(tag), log_path
    except docker.errors.DockerException as exc:
        error = " ".join(str(exc).split())[:300]
    finally:
        if not ok:
            _remove_leftovers(client, None if had_tag else tag, step_ids, base.id)
    raise EnvironmentBuildError(
        f"docker build of {tag} failed: {error}",
        hint=f"see the build log {log_path}",
        log_path=str(log_path),
    )


def _stream_build(
    client: docker.DockerClient, tar: IO[bytes], tag: str, log: IO[str], step_ids: list[str]
) -> str | None:
    """Run the build, writing its output to ``log``; the error line, or None on success."""
    chunks = client.api.build(
        fileobj=tar, custom_context=True, tag=tag, rm=True, forcerm=True, pull=False, decode=True
    )
    for chunk in chunks:
        if "error" in chunk:
            log.write(chunk["error"].rstrip("\n") + "\n")
            return " ".join(str(chunk["error"]).split())[:300]
        text = chunk.get("stream") or ""
        log.write(text)
        for line in text.splitlines():
            found = _STEP_ID.match(line)
            if found:
                step_ids.append(found.group(1))
    return None


def _remove_leftovers(
    client: docker.DockerClient, tag: str | None, step_ids: list[str], base_id: str
) -> None:
    """Best effort: the partial tag and the untagged intermediate images of a failed build."""
    import docker

    if tag is not None:
        with contextlib.suppress(docker.errors.DockerException):
            client.images.remove(tag, noprune=False)
    for ref in reversed(step_ids):
        try:
            image = client.images.get(ref)
            if image.id == base_id or image.tags:
                continue  # the base, or an image someone tagged: not ours to delete
            # A parent of another image is refused by the engine (conflict): it stays, as it must.
            client.images.remove(image.id, noprune=False)
        except docker.errors.DockerException:
            continue
