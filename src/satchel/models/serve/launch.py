"""``satchel models serve``: locate and verify the model, get its environment, start serving.

--env-manager local   serve from this process (the current Python must have the
                      model's packages)
--env-manager uv      build the model's environment from its python_env.yaml and
                      requirements.txt through the same content-keyed cache as project
                      environments (a second serve reuses it), then run the scoring
                      server inside it with satchel on the PYTHONPATH
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from satchel.errors import ModelError

__all__ = ["model_env", "serve_model"]


def model_env(model_dir: Path, refresh: bool = False) -> tuple[str, dict[str, str]]:
    """The interpreter of the model's own (cached) uv environment and its process env."""
    from satchel.envs import get_manager
    from satchel.projects.spec import EnvDecl, Project
    from satchel.runner.client_path import client_path

    spec = model_dir / "python_env.yaml"
    if not spec.is_file():
        raise ModelError(
            f"model at {model_dir} has no python_env.yaml", hint="serve it with --env-manager local"
        )
    # Byte-compiled at install: a served model's first start must not compile scipy.
    os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
    project = Project(
        root=model_dir,
        name=f"model-{model_dir.name}",
        spec_path=None,
        env=EnvDecl("python_env", spec),
    )
    prepared = get_manager("uv").prepare(
        project, refresh=refresh, report=lambda line: click.echo(line, err=True)
    )
    assert prepared.key is not None
    how = "reused" if prepared.cache_hit else f"built in {prepared.build_seconds:.1f}s"
    click.echo(f"model environment {prepared.key[:12]} {how}", err=True)
    env = prepared.process_env(os.environ)
    env["PYTHONPATH"] = str(client_path())
    assert prepared.root is not None
    return str(prepared.root / "bin" / "python"), env


def serve_model(
    model_uri: str, *, host: str, port: int, env_manager: str, tracking_uri: str | None = None
) -> int:
    from satchel.models.load import open_model
    from satchel.tracking.client import Client

    located, _meta = open_model(model_uri, Client(tracking_uri))
    try:
        if env_manager == "local":
            from satchel.models.serve.server import make_server, serve_forever

            try:
                server = make_server(located.path, host, port)
            except OSError as exc:
                raise ModelError(
                    f"cannot listen on {host}:{port}: {exc.strerror}", hint="pick another --port"
                ) from None
            serve_forever(server)  # SIGTERM ends it like Ctrl-C: the temp copy goes
            return 0
        python, env = model_env(located.path)
        argv = [
            python,
            "-m",
            "satchel.models.serve.server",
            "--model-dir",
            str(located.path),
            "--host",
            host,
            "--port",
            str(port),
        ]
        return _run_child(argv, env)
    finally:
        located.cleanup()


def _run_child(argv: list[str], env: dict[str, str]) -> int:
    """Run the server in the foreground; SIGTERM/SIGINT stop it; its exit code is ours."""
    child = subprocess.Popen(argv, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.kill()
            child.wait()
        sys.stdout.flush()
