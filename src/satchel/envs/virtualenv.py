"""The fallback kind for machines without uv: the ``virtualenv`` package finds the interpreter
and seeds pip; pip resolves (``--report`` gives the exact versions, which become the lock) and
installs. Same cache, keys and locks as the uv kind."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from satchel.envs.base import Reporter
from satchel.envs.cache import EnvCache, LockRecord, env_key
from satchel.envs.python_spec import DeclaredSpec
from satchel.envs.venv_manager import VenvManager, logged_run
from satchel.errors import EnvironmentBuildError

__all__ = ["VirtualenvManager", "require_virtualenv"]

_PIP = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"]


class VirtualenvManager(VenvManager):
    name = "virtualenv"

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
        require_virtualenv()
        if spec.uv_project is not None:
            raise EnvironmentBuildError(
                "a uv.lock project needs uv to export its lock", "use --env-manager uv"
            )
        if previous is not None:  # level 1 hit: install exactly the recorded lock
            return previous, self._install_locked(cache, previous, spec, root, log, report)
        cache.sweep(declared)  # we hold spec-<declared>: its scratch dirs are stale
        scratch = cache.root / f"{declared}.tmp-{os.getpid()}"
        try:
            report(f"resolving {len(spec.requirements)} requirements with pip ...")
            self._create(scratch, spec.python, log)
            lock_text = self._pip_resolve_install(scratch, spec, root, log)
            version = _venv_version(scratch)
            key = env_key(lock_text, version, self.name, _virtualenv_version())
            record = cache.write_record(declared, lock_text, key, version, spec.python)
            with cache.locked(f"env-{key}"):
                if not cache.is_ready(cache.env_dir(key)):
                    meta = {"python": version, "manager": self.name}
                    cache.install(key, lambda tmp, final: _move(scratch, tmp, final), meta)
        finally:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
        return record, True

    def _install_locked(
        self,
        cache: EnvCache,
        record: LockRecord,
        spec: DeclaredSpec,
        root: Path,
        log: Path,
        report: Reporter,
    ) -> bool:
        with cache.locked(f"env-{record.key}"):
            if cache.is_ready(cache.env_dir(record.key)):
                return False
            report("installing the recorded lock into a new environment ...")

            def populate(tmp: Path, final: Path) -> None:
                self._create(tmp, spec.python, log)
                if record.lock_file.read_text().strip():
                    logged_run(
                        [
                            str(tmp / "bin" / "python"),
                            *_PIP,
                            "--no-deps",
                            "-r",
                            str(record.lock_file),
                        ],
                        log,
                        env=_pip_environ(),
                        cwd=root,
                    )
                _relocate(tmp, tmp, final)

            meta = {"python": record.python, "manager": self.name}
            cache.install(record.key, populate, meta)
        return True

    def _create(self, target: Path, python: str, log: Path) -> None:
        logged_run(
            [sys.executable, "-m", "virtualenv", "--quiet", "--python", python, str(target)],
            log,
            env=_pip_environ(),
            cwd=target.parent,
        )

    def _pip_resolve_install(self, venv: Path, spec: DeclaredSpec, root: Path, log: Path) -> str:
        if not spec.requirements:
            return ""
        with tempfile.TemporaryDirectory(prefix="satchel-pip-") as scratch:
            reqs, report_file = Path(scratch, "requirements.in"), Path(scratch, "report.json")
            reqs.write_text("\n".join(spec.requirements) + "\n")
            argv = [
                str(venv / "bin" / "python"),
                *_PIP,
                "--report",
                str(report_file),
                "-r",
                str(reqs),
            ]
            if spec.constraints:
                cons = Path(scratch, "constraints.txt")
                cons.write_text("\n".join(spec.constraints) + "\n")
                argv += ["-c", str(cons)]
            logged_run(argv, log, env=_pip_environ(), cwd=root)
            installed = json.loads(report_file.read_text()).get("install", [])
        pins = sorted(
            f"{i['metadata']['name'].lower()}=={i['metadata']['version']}" for i in installed
        )
        return "".join(p + "\n" for p in pins)


def require_virtualenv() -> None:
    """Fail early, before any run exists, when the ``virtualenv`` package is not importable."""
    try:
        found = importlib.util.find_spec("virtualenv") is not None
    except (ImportError, ValueError):  # a broken install, or a module without a spec
        found = False
    if not found:
        raise EnvironmentBuildError(
            f"--env-manager virtualenv needs the `virtualenv` package, which {sys.executable} "
            "cannot import",
            "pip install 'satchel[virtualenv]' or pip install virtualenv; or use --env-manager uv",
        )


def _pip_environ() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env["PIP_NO_INPUT"] = "1"
    return env


def _virtualenv_version() -> str:
    import virtualenv

    return str(virtualenv.__version__)


def _venv_version(venv: Path) -> str:
    cfg = (venv / "pyvenv.cfg").read_text()
    found = re.search(r"^version_info\s*=\s*(\d+\.\d+\.\d+)", cfg, re.MULTILINE)
    return found.group(1) if found else "unknown"


def _move(scratch: Path, tmp: Path, final: Path) -> None:
    os.replace(scratch, tmp)
    _relocate(tmp, scratch, final)


def _relocate(venv: Path, old: Path, new: Path) -> None:
    """virtualenv and pip write absolute paths into bin/ (shebangs, activate scripts): point
    them at the final directory before the rename makes it live."""
    before, after = os.fsencode(old), os.fsencode(new)
    for script in (venv / "bin").iterdir():
        if script.is_symlink() or not script.is_file() or script.stat().st_size > 1_000_000:
            continue
        data = script.read_bytes()
        if before in data and b"\0" not in data[:1024]:
            script.write_bytes(data.replace(before, after))
