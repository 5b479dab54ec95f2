"""What the uv and virtualenv kinds share: the warm path, the locks, errors, the PreparedEnv.

    prepare ─ declare (read files) ─ declared hash ─ locks/<hash>.json → env ready? → HIT
                 └─ miss: lock spec-<hash> ─ re-check ─ kind._build (resolve, lock env-<key>,
                    re-check, install into a temp dir, os.replace, ready marker) → MISS
            then: a shared lease on the env (``use-<key>``), kept by the PreparedEnv, so
                  ``satchel envs gc`` / ``rm`` leave it alone while the run lives

A subclass implements ``_build``; everything else, including turning a resolver's failure into
one line naming the missing package, lives here.
"""

from __future__ import annotations

import abc
import dataclasses
import os
import re
import sys
import time
from pathlib import Path

from satchel.envs.base import EnvManager, PreparedEnv, Reporter
from satchel.envs.cache import EnvCache, LockRecord, env_key
from satchel.envs.python_spec import DeclaredSpec, declare
from satchel.errors import EnvironmentBuildError
from satchel.process import CommandFailed, Result, run
from satchel.projects.spec import Project

__all__ = ["VenvManager", "build_error", "dropped_message", "logged_run", "progress"]

_MISSING = [
    re.compile(r"Because (\S+?) was not found in the package registry"),
    re.compile(r"there is no version of (\S+?)(?: and|,|$)"),
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"Could not find a version that satisfies the requirement (\S+)"),
]
_ATTEMPTS = 3  # prepare → lease → still there? (a concurrent gc may have just removed it)


class VenvManager(EnvManager):
    """A Python virtual environment kind backed by the content-keyed cache."""

    name = "venv"

    def prepare(self, project: Project, *, refresh: bool = False, report: Reporter) -> PreparedEnv:
        cache = EnvCache()
        cache.sweep_dead_builds()  # a build killed earlier (any project's) leaves nothing
        for _attempt in range(_ATTEMPTS):
            prepared = self._prepare(cache, project, refresh, report)
            assert prepared.key is not None and prepared.root is not None
            # The lease first, then the check: a gc that got in between is seen here.
            lease = cache.lease(prepared.key)
            if cache.is_ready(prepared.root):
                return dataclasses.replace(prepared, lease=lease)
            lease.release()
            refresh = False  # resolved already: just rebuild the env from the lock
        raise EnvironmentBuildError(
            f"environment for {project.root.name} was removed {_ATTEMPTS} times while "
            "being prepared",
            "stop the `satchel envs rm` / `gc` running in a loop and try again",
        )

    def cached_key(self, project: Project) -> str | None:
        cache = EnvCache()
        record = cache.read_record(declare(project).digest(self.name))
        if record is None or not cache.is_ready(cache.env_dir(record.key)):
            return None
        return record.key

    def adopt_lock(self, project: Project, lock_text: str, python: str) -> str:
        """Make ``project``'s declaration resolve to ``lock_text`` (a recorded run's lock), so
        the next ``prepare`` installs exactly that instead of resolving again; returns the
        env key it leads to. The newest resolution in the cache wins, as after a build."""
        cache = EnvCache()
        declared = declare(project).digest(self.name)
        key = env_key(lock_text, python, self.name)
        record = cache.read_record(declared)
        if record is None or record.key != key or record.lock_file.read_text() != lock_text:
            with cache.locked(f"spec-{declared}"):
                cache.write_record(declared, lock_text, key, python, "")
        return key

    def _prepare(
        self, cache: EnvCache, project: Project, refresh: bool, report: Reporter
    ) -> PreparedEnv:
        spec = declare(project)
        report = progress(report)
        declared = spec.digest(self.name)
        source = project.name or project.root.name
        if not refresh and (hit := self._warm(cache, declared, spec, source)):
            return hit
        with cache.locked(f"spec-{declared}"):
            # Another process may have built it while we waited for the lock.
            if not refresh and (hit := self._warm(cache, declared, spec, source)):
                return hit
            return self._cold(cache, spec, declared, project, refresh, report)

    def _warm(
        self,
        cache: EnvCache,
        declared: str,
        spec: DeclaredSpec,
        source: str,
    ) -> PreparedEnv | None:
        record = cache.read_record(declared)
        if record is None or not cache.is_ready(cache.env_dir(record.key)):
            return None
        cache.mark_used(cache.env_dir(record.key), source)
        return self._prepared(cache, record, spec, hit=True, seconds=0.0, log=None)

    def _cold(
        self,
        cache: EnvCache,
        spec: DeclaredSpec,
        declared: str,
        project: Project,
        refresh: bool,
        report: Reporter,
    ) -> PreparedEnv:
        log = cache.new_log(declared)
        start = time.monotonic()
        previous = None if refresh else cache.read_record(declared)
        try:
            record, built = self._build(cache, spec, declared, previous, project.root, log, report)
        except CommandFailed as exc:
            raise build_error(exc, spec, log) from None
        seconds = round(time.monotonic() - start, 3)
        cache.mark_used(cache.env_dir(record.key), project.name or project.root.name)
        report(f"environment {record.key[:12]} {'built' if built else 'ready'} in {seconds:.1f}s")
        if not built:
            log.unlink(missing_ok=True)
        return self._prepared(
            cache, record, spec, hit=not built, seconds=seconds, log=log if built else None
        )

    @abc.abstractmethod
    def _build(
        self,
        cache: EnvCache,
        spec: DeclaredSpec,
        declared: str,
        previous: LockRecord | None,
        root: Path,
        log: Path,
        report: Reporter,
    ) -> tuple[LockRecord, bool]:
        """Resolve (unless ``previous`` holds the lock) and build; return (record, built)."""

    def _prepared(
        self,
        cache: EnvCache,
        record: LockRecord,
        spec: DeclaredSpec,
        *,
        hit: bool,
        seconds: float,
        log: Path | None,
    ) -> PreparedEnv:
        env = cache.env_dir(record.key)
        tags = {
            "satchel.env.cache": "hit" if hit else "miss",
            "satchel.env.build_seconds": f"{seconds:.3f}",
            "satchel.env.python": record.python,
        }
        if spec.dropped:
            tags["satchel.env.conda_dropped"] = ", ".join(spec.dropped)
        return PreparedEnv(
            manager=self.name,
            key=record.key,
            root=env,
            python=str(env / "bin" / "python"),
            cache_hit=hit,
            build_seconds=seconds,
            lock_file=record.lock_file,
            build_log=log,
            extra_tags=tags,
        )


def progress(report: Reporter) -> Reporter:
    """Build progress for people: shown on a terminal (or SATCHEL_PROGRESS=1), else silent.
    The full output always goes to the build log."""
    if sys.stderr.isatty() or os.environ.get("SATCHEL_PROGRESS") == "1":
        return report
    return lambda _line: None


def dropped_message(spec: DeclaredSpec) -> str:
    names = ", ".join(spec.dropped)
    return (
        f"warning: conda.yaml lists conda packages a Python environment cannot install, "
        f"skipped: {names} (move them under `pip:` to install them from PyPI)"
    )


def logged_run(
    argv: list[str], log: Path, *, env: dict[str, str], cwd: Path | None = None
) -> Result:
    """satchel.process.run, with the command and its full output appended to the build log."""
    # own group: a runner killed mid-build takes uv and its children down with it
    result = run(argv, env=env, cwd=cwd, check=False, own_group=True)
    with open(log, "a") as fh:
        fh.write(f"$ {' '.join(result.argv)}\n{result.stdout}{result.stderr}")
        fh.write(f"[exit {result.returncode}]\n\n")
    if result.returncode != 0:
        raise CommandFailed(result)
    return result


def build_error(exc: CommandFailed, spec: DeclaredSpec, log: Path) -> EnvironmentBuildError:
    output = exc.result.stderr + exc.result.stdout
    flat = " ".join(output.split())  # uv wraps long messages to the terminal width
    for pattern in _MISSING:
        found = pattern.search(flat)
        if found:
            package = found.group(1).rstrip(".,;")
            return EnvironmentBuildError(
                f"dependency {package!r} from {spec.source} was not found in the package index",
                f"fix its name or version; build log: {log}",
                log_path=str(log),
            )
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    last = next((ln for ln in reversed(lines) if "error" in ln.lower()), lines[-1] if lines else "")
    return EnvironmentBuildError(
        f"environment build failed ({spec.source}): {last[:200]}",
        f"build log: {log}",
        log_path=str(log),
    )
