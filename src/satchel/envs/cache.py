"""The two-level, content-keyed environment cache under ``SATCHEL_HOME/envs/``.

    locks/<declared>.txt   level 1: declared-spec hash → the resolved lock (requirements)
    locks/<declared>.json           ... and which env key / python it led to
    <key>/                 level 2: an environment, keyed by the resolved lock + the python
                                    actually found + platform + builder + ENV_FORMAT_VERSION
    <key>.tmp-<pid>-<rnd>  a build in progress (swept when its builder is gone)
    .locks/<name>.lock     fcntl locks (satchel.envs.locks): ``spec-``/``env-`` one build per
                           declaration / key, re-checked after acquiring; ``use-<key>`` the
                           shared leases of the runs using an env, which gc / rm respect
    logs/build-*.log       full builder output, kept for the run's artifacts

A warm start reads one small JSON file and stats a few paths: no resolver, no subprocess.
Builds happen in a temp dir next to the final one, are moved with ``os.replace`` and get
their ready marker last, so an interrupted build never looks usable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from satchel.envs.locks import Lease, acquire, remove_if_free
from satchel.envs.python_spec import platform_tag
from satchel.errors import SatchelError, UsageError
from satchel.home import satchel_home

__all__ = ["ENV_FORMAT_VERSION", "EnvCache", "EnvInfo", "GcReport", "LockRecord", "env_key"]

ENV_FORMAT_VERSION = "1"
READY = ".satchel-ready"  # JSON metadata, written last
USED = ".satchel-used"  # mtime = last use
PROJECTS = ".satchel-projects"  # one source name per line
_KEY_RE = re.compile(r"^[0-9a-f]{24}$")
IN_USE = "in use by a running run"
BUILDING = "being built right now"
_BUSY_HINT = {
    IN_USE: "wait for the run to finish, or stop it first",
    BUILDING: "try again when the build finishes",
}


def env_key(lock_text: str, python_version: str, manager: str, extra: str = "") -> str:
    material = "\0".join(
        [lock_text, python_version, platform_tag(), manager, extra, ENV_FORMAT_VERSION]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class LockRecord:
    """A declared spec's resolved lock: the env key it maps to and its python."""

    key: str
    python: str  # version actually found, "3.11.7"
    python_path: str
    lock_file: Path


@dataclass(frozen=True)
class EnvInfo:
    """One cached environment, as ``satchel envs list`` shows it."""

    key: str
    path: Path
    python: str
    manager: str
    size: int
    created: float
    last_used: float
    projects: tuple[str, ...]


@dataclass(frozen=True)
class GcReport:
    """What ``satchel envs gc`` removed, and what it kept and why."""

    freed: tuple[tuple[str, int], ...]  # (what, bytes) for each thing removed
    skipped: tuple[tuple[str, str], ...]  # (env key, why) for each env kept although old


class EnvCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or satchel_home() / "envs"

    # -- paths and level 1 ------------------------------------------------------------------
    def env_dir(self, key: str) -> Path:
        return self.root / key

    def lock_file(self, declared: str) -> Path:
        return self.root / "locks" / f"{declared}.txt"

    def read_record(self, declared: str) -> LockRecord | None:
        try:
            data = json.loads((self.root / "locks" / f"{declared}.json").read_text())
            record = LockRecord(
                data["key"], data["python"], data["python_path"], self.lock_file(declared)
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return record if record.lock_file.is_file() else None

    def write_record(
        self, declared: str, lock_text: str, key: str, python: str, python_path: str
    ) -> LockRecord:
        _write_atomic(self.lock_file(declared), lock_text)
        meta = {"key": key, "python": python, "python_path": python_path}
        _write_atomic(self.root / "locks" / f"{declared}.json", json.dumps(meta))
        return LockRecord(key, python, python_path, self.lock_file(declared))

    def new_log(self, tag: str) -> Path:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return logs / f"build-{tag}-{stamp}-{os.getpid()}.log"

    # -- level 2 ----------------------------------------------------------------------------
    def is_ready(self, env: Path) -> bool:
        """Ready marker + a cheap health check: the venv's python and its base interpreter."""
        if not (env / READY).is_file() or not (env / "bin" / "python").exists():
            return False
        try:
            cfg = (env / "pyvenv.cfg").read_text()
        except OSError:
            return False
        home = re.search(r"^home\s*=\s*(.+)$", cfg, re.MULTILINE)
        return home is not None and Path(home.group(1).strip()).is_dir()

    def lock_path(self, name: str) -> Path:
        return self.root / ".locks" / f"{name}.lock"

    @contextlib.contextmanager
    def locked(self, name: str, *, blocking: bool = True) -> Iterator[bool]:
        """An exclusive lock; yields False (instead of waiting) when not ``blocking``."""
        fh = acquire(self.lock_path(name), blocking=blocking)
        if fh is None:
            yield False
            return
        with fh:
            yield True

    def lease(self, key: str) -> Lease:
        """Hold env ``key`` for a run: ``gc`` and ``rm`` skip it until the lease is released
        (or its process ends). Waits only while ``gc`` / ``rm`` is deleting it right now —
        the caller must check ``is_ready`` AFTER taking the lease."""
        fh = acquire(self.lock_path(f"use-{key}"), shared=True)
        assert fh is not None  # a blocking acquire always returns the lock
        return Lease(key, fh)

    def install(self, key: str, populate: Callable[[Path, Path], None], meta: dict) -> Path:
        """Build env ``key`` via ``populate(tmp, final)``; the caller holds the key's lock."""
        import shutil  # not on a warm run's path

        final = self.env_dir(key)
        self.sweep(key)
        if final.exists():  # present but not ready/healthy: a leftover, never in use
            _remove_tree(final)
        tmp = self.root / f"{key}.tmp-{os.getpid()}-{os.urandom(3).hex()}"
        try:
            populate(tmp, final)
            meta = {**meta, "size": _dir_size(tmp), "created": time.time()}
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        (final / USED).touch()
        _write_atomic(final / READY, json.dumps(meta))
        return final

    def sweep(self, name: str) -> None:
        import shutil  # not on a warm run's path

        # Called under the name's lock: any temp dir for it belongs to a dead builder.
        for stale in self.root.glob(f"{name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def mark_used(self, env: Path, project: str | None) -> None:
        with contextlib.suppress(OSError):
            os.utime(env / USED)
            if project:
                path = env / PROJECTS
                known = path.read_text().splitlines() if path.exists() else []
                if project not in known:
                    with open(path, "a") as fh:
                        fh.write(project + "\n")

    # -- listing and cleanup ----------------------------------------------------------------
    def entries(self) -> list[EnvInfo]:
        found = []
        for env in sorted(self.root.glob("*")) if self.root.is_dir() else []:
            if not _KEY_RE.match(env.name) or not (env / READY).is_file():
                continue
            try:
                meta = json.loads((env / READY).read_text())
            except (OSError, ValueError):
                meta = {}
            used = env / USED
            projects = (env / PROJECTS).read_text().split() if (env / PROJECTS).exists() else []
            found.append(
                EnvInfo(
                    key=env.name,
                    path=env,
                    python=str(meta.get("python", "?")),
                    manager=str(meta.get("manager", "?")),
                    size=int(meta.get("size", 0)),
                    created=float(meta.get("created", 0.0)),
                    last_used=used.stat().st_mtime if used.exists() else 0.0,
                    projects=tuple(projects),
                )
            )
        return found

    def remove(self, prefix: str) -> EnvInfo:
        """Remove the one environment whose key starts with ``prefix``, unless a run uses it."""
        if not prefix.strip():
            raise UsageError(
                "`satchel envs rm` needs an environment key", "see `satchel envs list`"
            )
        matches = [e for e in self.entries() if e.key.startswith(prefix)]
        if not matches:
            raise SatchelError(
                f"no environment key starts with {prefix!r}", "see `satchel envs list`"
            )
        if len(matches) > 1:
            keys = ", ".join(e.key for e in matches)
            raise UsageError(f"{prefix!r} is ambiguous: {keys}", "give more characters")
        env = matches[0]
        busy = self._remove_env(env)
        if busy:
            raise SatchelError(f"environment {env.key} not removed: {busy}", _BUSY_HINT[busy])
        return env

    def gc(self, older_than: float) -> GcReport:
        """Remove envs unused for ``older_than`` seconds (skipping those in use), stale temp
        dirs, orphaned records and lock files, and old build logs."""
        freed: list[tuple[str, int]] = []
        skipped: list[tuple[str, str]] = []
        cutoff = time.time() - older_than
        for env in self.entries():
            if env.last_used < cutoff:
                busy = self._remove_env(env)
                if busy:
                    skipped.append((env.key, busy))
                else:
                    freed.append((f"env {env.key}", env.size))
        freed += self.sweep_dead_builds()
        freed += self._gc_records()
        for log in (self.root / "logs").glob("*.log") if (self.root / "logs").is_dir() else []:
            if log.stat().st_mtime < cutoff:
                freed.append((f"build log {log.name}", log.stat().st_size))
                log.unlink()
        freed += self._gc_lock_files()
        freed += _gc_parsed_specs(cutoff)
        return GcReport(tuple(freed), tuple(skipped))

    def _remove_env(self, env: EnvInfo) -> str | None:
        """Delete ``env`` unless it is leased or being built; returns why it was not."""
        with self.locked(f"use-{env.key}", blocking=False) as unused:
            if not unused:
                return IN_USE
            with self.locked(f"env-{env.key}", blocking=False) as idle:
                if not idle:
                    return BUILDING
                _remove_tree(env.path)
                # still holding both: unlinking them now is safe (see satchel.envs.locks)
                self.lock_path(f"env-{env.key}").unlink(missing_ok=True)
            self.lock_path(f"use-{env.key}").unlink(missing_ok=True)
        return None

    def sweep_dead_builds(self) -> list[tuple[str, int]]:
        """Remove the temp dirs of builds whose builder is gone (killed mid-build: they can be
        hundreds of MB). Run at every prepare, not only by ``gc``: one directory listing."""
        try:
            names = [e.name for e in os.scandir(self.root) if ".tmp-" in e.name]
        except OSError:  # no cache yet
            return []
        if not names:
            return []
        import shutil  # not on a warm run's path

        freed = []
        for tmp in (self.root / name for name in names):
            name = tmp.name.split(".tmp-")[0]  # an env key, or a declared hash (virtualenv)
            with (
                self.locked(f"env-{name}", blocking=False) as got,
                self.locked(f"spec-{name}", blocking=False) as got_spec,
            ):
                if got and got_spec and tmp.exists():
                    size = _dir_size(tmp)
                    shutil.rmtree(tmp, ignore_errors=True)
                    freed.append((f"temp dir {tmp.name}", size))
        return freed

    def _gc_records(self) -> list[tuple[str, int]]:
        freed = []
        for record in (self.root / "locks").glob("*.json") if self.root.is_dir() else []:
            declared = record.stem
            info = self.read_record(declared)
            if info is None or not self.env_dir(info.key).is_dir():
                size = 0
                for path in (record, self.lock_file(declared)):
                    with contextlib.suppress(OSError):
                        size += path.stat().st_size
                        path.unlink()
                freed.append((f"lock {declared}", size))
        return freed

    def _gc_lock_files(self) -> list[tuple[str, int]]:
        """``.locks/<kind>-<name>.lock`` whose env / record / build is gone and nobody holds."""
        freed = []
        locks = self.root / ".locks"
        for path in sorted(locks.glob("*.lock")) if locks.is_dir() else []:
            name = path.stem.partition("-")[2]
            if name and self._owns(name):
                continue
            if remove_if_free(path):
                freed.append((f"lock file {path.name}", 0))
        return freed

    def _owns(self, name: str) -> bool:
        """Whether the cache still holds something a lock called ``*-<name>`` guards."""
        import glob  # not on a warm run's path

        return (
            self.env_dir(name).exists()
            or (self.root / "locks" / f"{name}.json").exists()
            or any(self.root.glob(f"{glob.escape(name)}.tmp-*"))
        )


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(3).hex()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _remove_tree(path: Path) -> None:
    import shutil  # not on a warm run's path

    # Rename first so a half-deleted env can never be mistaken for the real one.
    doomed = path.with_name(f"{path.name}.tmp-rm-{os.getpid()}-{os.urandom(3).hex()}")
    try:
        os.replace(path, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _dir_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _gc_parsed_specs(cutoff: float) -> list[tuple[str, int]]:
    """Parsed MLproject / python_env.yaml documents written before ``cutoff``: a cache of
    parses only (any later run re-parses what it needs), so age alone decides."""
    from satchel.projects._yamlcache import cache_dir

    freed = []
    for entry in cache_dir().glob("*.json") if cache_dir().is_dir() else []:
        with contextlib.suppress(OSError):
            stat = entry.stat()
            if stat.st_mtime < cutoff:
                entry.unlink()
                freed.append((f"parsed spec {entry.name}", stat.st_size))
    return freed
