"""The default kind: uv builds a relocatable venv next to its final place and renames it there.

A new declaration is resolved *by installing it*: ``uv venv`` + ``uv pip install -r`` into a
scratch dir, then the lock is read back from what landed in site-packages (no subprocess). One
resolver pass instead of ``uv pip compile`` followed by ``uv pip sync``, so a new env costs what
bare uv costs. A known lock (level-1 hit, ``uv.lock`` export, no packages) is installed with
``uv pip sync`` under the env key's lock.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from satchel.envs.base import Reporter
from satchel.envs.cache import EnvCache, LockRecord, env_key
from satchel.envs.python_spec import DeclaredSpec
from satchel.envs.venv_manager import VenvManager, logged_run

if TYPE_CHECKING:  # the interpreter lookup is imported by a build only, not a cached run
    from satchel.envs.interpreters import Interpreter

__all__ = ["UvManager", "installed_lock"]

_EXPORT = [
    "export",
    "--frozen",
    "--no-hashes",
    "--no-header",
    "--no-dev",
    "--no-emit-project",
    "--no-annotate",
    "--format",
    "requirements-txt",
]


class UvManager(VenvManager):
    name = "uv"

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
        from satchel.envs.interpreters import find_python, uv_bin, uv_environ

        interp = find_python(spec.python, where=spec.source, log_path=log)
        cache.sweep(declared)  # we hold spec-<declared>: its scratch dirs are a dead build's
        if previous is not None and previous.python == interp.version:
            return previous, self._install_lock(cache, previous, interp, root, log, report)
        if spec.uv_project is None and spec.requirements:
            return self._resolve_by_installing(cache, spec, declared, interp, root, log, report)
        lock_text = ""
        if spec.uv_project is not None:  # uv.lock already pins everything: export, no resolver
            report(f"exporting uv.lock for Python {interp.version} ...")
            argv = [uv_bin(), *_EXPORT]
            lock_text = logged_run(argv, log, env=uv_environ(), cwd=spec.uv_project).stdout
        key = env_key(lock_text, interp.version, self.name)
        record = cache.write_record(declared, lock_text, key, interp.version, str(interp.path))
        return record, self._install_lock(cache, record, interp, root, log, report)

    def _resolve_by_installing(
        self,
        cache: EnvCache,
        spec: DeclaredSpec,
        declared: str,
        interp: Interpreter,
        root: Path,
        log: Path,
        report: Reporter,
    ) -> tuple[LockRecord, bool]:
        report(
            f"resolving and installing {len(spec.requirements)} requirements "
            f"for Python {interp.version} ..."
        )
        import secrets  # build path only: a warm run skips their imports (~4 ms)
        import shutil
        import tempfile

        scratch = cache.root / f"{declared}.tmp-{os.getpid()}-{secrets.token_hex(3)}"
        try:
            with tempfile.TemporaryDirectory(prefix="satchel-resolve-") as inputs:
                reqs = Path(inputs, "requirements.in")
                reqs.write_text("\n".join(spec.requirements) + "\n")
                args = ["install", "-r", str(reqs)]
                if spec.constraints:
                    cons = Path(inputs, "constraints.txt")
                    cons.write_text("\n".join(spec.constraints) + "\n")
                    args += ["--constraint", str(cons)]
                self._populate(scratch, interp, args, root, log)
            lock_text = installed_lock(scratch)
            key = env_key(lock_text, interp.version, self.name)
            record = cache.write_record(declared, lock_text, key, interp.version, str(interp.path))
            with cache.locked(f"env-{key}"):
                if cache.is_ready(cache.env_dir(key)):  # another spec resolved to the same lock
                    return record, False
                meta = {"python": interp.version, "manager": self.name}
                cache.install(key, lambda tmp, _final: os.replace(scratch, tmp), meta)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return record, True

    def _install_lock(
        self,
        cache: EnvCache,
        record: LockRecord,
        interp: Interpreter,
        root: Path,
        log: Path,
        report: Reporter,
    ) -> bool:
        with cache.locked(f"env-{record.key}"):
            if cache.is_ready(cache.env_dir(record.key)):
                return False
            lock_text = record.lock_file.read_text()
            count = sum(1 for ln in lock_text.splitlines() if ln.strip() and ln[0] not in "#-")
            report(f"installing {count} packages from the recorded lock ...")
            args = ["sync", str(record.lock_file)] if lock_text.strip() else []
            meta = {"python": interp.version, "manager": self.name}
            cache.install(
                record.key, lambda tmp, _final: self._populate(tmp, interp, args, root, log), meta
            )
        return True

    def _populate(
        self, tmp: Path, interp: Interpreter, pip_args: list[str], root: Path, log: Path
    ) -> None:
        """``uv venv`` at ``tmp``, then ``uv pip <pip_args>`` into it (nothing if empty)."""
        from satchel.envs.interpreters import uv_bin, uv_environ

        env = uv_environ()
        # --relocatable: scripts find their python relative to themselves, so the rename
        # from the temp dir to the final directory leaves every console script working.
        venv = [uv_bin(), "venv", "--relocatable", "--no-project", "--python", str(interp.path)]
        logged_run([*venv, str(tmp)], log, env=env, cwd=tmp.parent)
        if pip_args:
            target = ["--python", str(tmp / "bin" / "python")]
            # cwd = project root so relative paths in requirement lines mean what they say
            logged_run([uv_bin(), "pip", *pip_args, *target], log, env=env, cwd=root)


def installed_lock(venv: Path) -> str:
    """The lock of what is installed in ``venv``: ``name==version`` (or ``name @ url`` for
    direct references), sorted — read from the dist-info directories, like ``pip freeze``."""
    pins: list[tuple[str, str]] = []
    for site in venv.glob("lib/python*/site-packages"):
        for info in site.glob("*.dist-info"):
            pin = _pin(info)
            if pin:
                pins.append((re.split(r"[ =]", pin, maxsplit=1)[0], pin))  # by name, as uv orders
    return "".join(pin + "\n" for _name, pin in sorted(pins))


def _pin(info: Path) -> str | None:
    try:
        headers = (info / "METADATA").read_text(errors="replace").split("\n\n", 1)[0]
    except OSError:
        return None
    fields = dict(re.findall(r"^(Name|Version):\s*(.+?)\s*$", headers, re.MULTILINE))
    if "Name" not in fields or "Version" not in fields:
        return None
    name = re.sub(r"[-_.]+", "-", fields["Name"]).lower()
    try:
        direct = json.loads((info / "direct_url.json").read_text())
    except (OSError, ValueError):
        return f"{name}=={fields['Version']}"
    url = str(direct.get("url", ""))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        url = f"{vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    return f"{name} @ {url}" if url else f"{name}=={fields['Version']}"
