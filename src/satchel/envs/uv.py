"""The default kind: uv resolves (``uv pip compile`` / ``uv export --frozen``) and installs
(``uv pip sync``) into a relocatable venv built next to its final place and renamed there."""

from __future__ import annotations

import tempfile
from pathlib import Path

from satchel.envs.base import Reporter
from satchel.envs.cache import EnvCache, LockRecord, env_key
from satchel.envs.interpreters import Interpreter, find_python, uv_bin, uv_environ
from satchel.envs.python_spec import DeclaredSpec
from satchel.envs.venv_manager import VenvManager, logged_run

__all__ = ["UvManager"]


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
        interp = find_python(spec.python, where=spec.source, log_path=log)
        if previous is not None and previous.python == interp.version:
            lock_text = previous.lock_file.read_text()  # level 1 hit: no resolver
        else:
            report(
                f"resolving {len(spec.requirements) or 'locked'} requirements "
                f"for Python {interp.version} ..."
            )
            lock_text = self._resolve(spec, interp, root, log)
        key = env_key(lock_text, interp.version, self.name)
        record = cache.write_record(declared, lock_text, key, interp.version, str(interp.path))
        with cache.locked(f"env-{key}"):
            if cache.is_ready(cache.env_dir(key)):  # another spec resolved to the same lock
                return record, False
            count = sum(1 for ln in lock_text.splitlines() if ln.strip() and ln[0] not in "#-")
            report(f"installing {count} packages into a new environment ...")
            meta = {"python": interp.version, "manager": self.name}
            cache.install(
                key, lambda tmp, _final: self._populate(tmp, interp, record, root, log), meta
            )
        return record, True

    def _resolve(self, spec: DeclaredSpec, interp: Interpreter, root: Path, log: Path) -> str:
        env = uv_environ()
        if spec.uv_project is not None:
            argv = [
                uv_bin(),
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
            return logged_run(argv, log, env=env, cwd=spec.uv_project).stdout
        if not spec.requirements:
            return ""
        with tempfile.TemporaryDirectory(prefix="satchel-resolve-") as scratch:
            reqs = Path(scratch, "requirements.in")
            reqs.write_text("\n".join(spec.requirements) + "\n")
            argv = [
                uv_bin(),
                "pip",
                "compile",
                str(reqs),
                "--python",
                str(interp.path),
                "--no-header",
                "--no-annotate",
                "--quiet",
            ]
            if spec.constraints:
                cons = Path(scratch, "constraints.txt")
                cons.write_text("\n".join(spec.constraints) + "\n")
                argv += ["--constraint", str(cons)]
            # cwd = project root so relative paths in requirement lines mean what they say
            return logged_run(argv, log, env=env, cwd=root).stdout

    def _populate(
        self, tmp: Path, interp: Interpreter, record: LockRecord, root: Path, log: Path
    ) -> None:
        env = uv_environ()
        # --relocatable: scripts find their python relative to themselves, so the rename
        # from the temp dir to the final directory leaves every console script working.
        logged_run(
            [
                uv_bin(),
                "venv",
                "--relocatable",
                "--no-project",
                "--python",
                str(interp.path),
                str(tmp),
            ],
            log,
            env=env,
            cwd=tmp.parent,
        )
        if record.lock_file.read_text().strip():
            logged_run(
                [
                    uv_bin(),
                    "pip",
                    "sync",
                    "--python",
                    str(tmp / "bin" / "python"),
                    str(record.lock_file),
                ],
                log,
                env=env,
                cwd=root,
            )
