"""Docs that cannot rot: every CLI command has help text and is listed in README.md."""

from __future__ import annotations

import click

from conftest import REPO
from satchel.cli import cli


def _commands(group: click.Group, prefix: str = "satchel") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def test_every_command_has_help_text() -> None:
    missing = [path for path, cmd in _commands(cli) if not (cmd.help or "").strip()]
    assert missing == []


def test_every_command_is_listed_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    leaves = [path for path, cmd in _commands(cli) if not isinstance(cmd, click.Group)]
    assert leaves, "the CLI lost its commands"
    assert [path for path in leaves if f"`{path}" not in readme] == []


def test_readme_artifact_examples_work_on_a_clean_run(tmp_path) -> None:
    """Each `satchel artifacts download RUN_ID ...` line of the README, on a run of a clean
    git work tree (the common case), downloads something."""
    import re

    from conftest import make_git_repo, run_cli

    readme = (REPO / "README.md").read_text()
    examples = re.findall(r"^satchel (artifacts download RUN_ID[^#\n]*)", readme, re.M)
    assert examples
    project = tmp_path / "clean"
    make_git_repo(project, {"MLproject": "entry_points:\n  main:\n    command: echo hi\n"})
    done = run_cli("run", str(project), "--env-manager", "local")
    assert done.returncode == 0, done.stderr
    run_id = re.search(r"run ([0-9a-f]{32})", done.stderr).group(1)
    for example in examples:
        args = example.replace("RUN_ID", run_id).split()
        dst = tmp_path / f"dl{examples.index(example)}"
        out = run_cli(*args, "--dst-path", str(dst))
        assert out.returncode == 0, (example, out.stderr)
        assert [p for p in dst.rglob("*") if p.is_file()], f"{example}: nothing downloaded"
