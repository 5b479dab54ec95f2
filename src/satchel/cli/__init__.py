"""``satchel``: thin click commands over the library.

Each command calls one library function; this module turns what escapes into an exit code:
SatchelError → its one line, exit 1 (2 for usage); Ctrl-C → exit 130; anything else is our
bug → a short message plus the path of a log file holding the traceback, exit 3.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

import click

from satchel.errors import SatchelError

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="satchel")
def cli() -> None:
    """Package, share and run ML projects reproducibly, with every run tracked."""


def _register() -> None:
    from satchel.cli import artifacts, envs, experiments, run, runs

    cli.add_command(run.run_command)
    for command in run.runs_commands:  # wait, cancel, reap: the runner's side of `satchel runs`
        runs.runs.add_command(command)
    cli.add_command(experiments.experiments)
    cli.add_command(runs.runs)
    cli.add_command(artifacts.artifacts)
    cli.add_command(envs.envs)


_register()


def _bug_log(exc: BaseException) -> Path:
    from satchel.home import satchel_home

    log_dir = satchel_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
    import platform

    from satchel import __version__

    header = f"satchel {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
    header += f"argv: {sys.argv}\n\n"
    path.write_text(header + "".join(traceback.format_exception(exc)))
    return path


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="satchel", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SatchelError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # our bug: short message, traceback in a log
        path = _bug_log(exc)
        click.echo(
            f"Internal error in satchel: {type(exc).__name__}: {exc}\n"
            f"This is a bug; the traceback is in {path}",
            err=True,
        )
        sys.exit(3)
    sys.exit(0)
