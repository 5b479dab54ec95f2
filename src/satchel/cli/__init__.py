"""``satchel``: thin click commands over the library.

Each command calls one library function; this module turns what escapes into an exit code:
SatchelError → its one line, exit 1 (2 for usage); Ctrl-C → exit 130; anything else is our
bug → a short message plus the path of a log file holding the traceback, exit 3.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from satchel._version import __version__
from satchel.errors import SatchelError

__all__ = ["main"]

# Shared by every command's --tracking-uri (kept here, not in _options: `satchel run` must not
# pay for importing the table/CSV machinery).
TRACKING_URI_HELP = (
    "Tracking store: sqlite:///path/to/file.db, a path ending in .db (the database file), any "
    "other path (a store directory holding satchel.db and artifacts/) or "
    "postgresql://user:pass@host:5432/db or a satchel server's http(s)://host:port "
    "[env SATCHEL_TRACKING_URI; default ./satchel/]."
)


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when one is invoked (or listed), so
    `satchel run` does not pay for the modules of every other command."""

    def __init__(self, *args: Any, lazy: dict[str, Callable[[], click.Command]], **kw: Any):
        self._lazy = dict(lazy)
        self.invoked: str | None = None
        super().__init__(*args, **kw)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        for name in list(self._lazy):  # whoever walks the whole tree gets all of it
            self._load(name)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = value

    def _load(self, name: str) -> None:
        loader = self._lazy.pop(name, None)
        if loader is not None:
            self._commands[name] = loader()

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._lazy.pop(name, None)
        self._commands[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(cmd_name)
        return self._commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._commands, *self._lazy})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        self.invoked = name  # main() ends a `satchel run` process without the teardown
        return name, command, rest


def _run() -> click.Command:
    from satchel.cli import run

    return run.run_command


def _runs() -> click.Command:
    from satchel.cli import rerun, run, runs

    for command in run.runs_commands:  # wait, cancel: the runner's side of `satchel runs`
        runs.runs.add_command(command)
    runs.runs.add_command(rerun.rerun)
    runs.runs.add_command(rerun.diff)
    return runs.runs


def _experiments() -> click.Command:
    from satchel.cli import experiments

    return experiments.experiments


def _artifacts() -> click.Command:
    from satchel.cli import artifacts

    return artifacts.artifacts


def _envs() -> click.Command:
    from satchel.cli import envs

    return envs.envs


def _server() -> click.Command:
    from satchel.cli import server

    return server.server_command


def _db() -> click.Command:
    from satchel.cli import db

    return db.db


def _models() -> click.Command:
    from satchel.cli import models

    return models.models


def _ui() -> click.Command:
    from satchel.cli import ui

    return ui.ui


_COMMANDS: dict[str, Callable[[], click.Command]] = {
    "run": _run,
    "experiments": _experiments,
    "runs": _runs,
    "artifacts": _artifacts,
    "envs": _envs,
    "server": _server,
    "db": _db,
    "models": _models,
    "ui": _ui,
}


@click.group(
    cls=LazyGroup,
    lazy=_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(version=__version__, prog_name="satchel")  # no metadata scan
def cli() -> None:
    """Package, share and run ML projects reproducibly, with every run tracked."""


def _printable(text: str) -> str:
    from satchel.terminal import printable

    return printable(text)


def main(argv: list[str] | None = None) -> None:
    try:
        _main(argv)
    except SystemExit as done:
        if argv is None and cli.invoked == "run" and isinstance(done.code, (int, type(None))):
            _end_process(done.code or 0)
        raise


def _end_process(code: int) -> None:
    """End a `satchel run` process without the interpreter's teardown: freeing a few hundred
    modules one by one costs ~15 ms, a tenth of a whole local run. Everything that matters
    has happened by now (the run is finished and its store closed); atexit handlers still
    run and the standard streams are flushed. Only for the process entry point (``argv`` is
    None): a caller of ``main([...])`` in its own process keeps its interpreter."""
    import atexit
    import contextlib
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _undecodable_argument(argv: list[str]) -> str | None:
    """The first argument that is not valid UTF-8 (Python keeps such bytes as surrogates,
    which no store, log or terminal can take), shown with its bytes escaped."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return os.fsencode(arg).decode("utf-8", "backslashreplace")
    return None


def _main(argv: list[str] | None) -> None:
    bad = _undecodable_argument(sys.argv[1:] if argv is None else argv)
    if bad is not None:
        click.echo(_printable(f"Error: argument {bad!r} is not valid UTF-8; re-type it"), err=True)
        sys.exit(2)
    try:
        cli.main(args=argv, prog_name="satchel", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SatchelError as exc:
        click.echo(_printable(f"Error: {exc}"), err=True)  # it may quote stored/given text
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # our bug: short message, traceback in a log
        from satchel.crashlog import write_crash_log

        path = write_crash_log(exc)
        click.echo(
            f"Internal error in satchel: {type(exc).__name__}: {_printable(str(exc))}\n"
            f"This is a bug; the traceback is in {path}",
            err=True,
        )
        sys.exit(3)
    sys.exit(0)
