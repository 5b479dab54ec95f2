"""`satchel run` imports only its own command module; the others load when asked for."""

from __future__ import annotations

import subprocess
import sys

import click

from conftest import run_cli

_PROBE = """
import sys
from satchel.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="satchel", standalone_mode=False)
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith("satchel.cli.")))
"""


def _modules_after(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_run_imports_no_other_command_module() -> None:
    loaded = _modules_after("run", "--help")
    assert "satchel.cli.run" in loaded
    for other in ("runs", "experiments", "artifacts", "envs"):
        assert f"satchel.cli.{other}'" not in loaded


def test_every_command_is_still_listed_and_reachable() -> None:
    from satchel.cli import cli

    assert set(cli.list_commands(click.Context(cli))) == {
        "artifacts",
        "db",
        "envs",
        "experiments",
        "models",
        "run",
        "runs",
        "server",
        "ui",
    }
    runs_help = run_cli("runs", "--help")
    assert runs_help.returncode == 0
    for sub in ("list", "show", "wait", "cancel"):  # wait/cancel come from the run module
        assert f"  {sub} " in runs_help.stdout
    assert run_cli("no-such-command").returncode == 2


def test_version_is_the_packages_and_reads_no_distribution_metadata() -> None:
    from importlib.metadata import version

    code = (
        "import sys\nfrom satchel.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('importlib.metadata' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [f"satchel, version {version('satchel')}", "False"]
