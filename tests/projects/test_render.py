"""Command rendering: quoting, literal braces, extras, secret masking, and no injection."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satchel.projects.params import ResolvedParams, resolve_parameters
from satchel.projects.render import render_command
from satchel.projects.spec import EntryPoint, ParamSpec

GREETER = EntryPoint(
    "greeter",
    "python greeter.py {greeting} {name}",
    {"greeting": ParamSpec("greeting", default="hi", required=False), "name": ParamSpec("name")},
)


def test_mlflow_greeter_example() -> None:
    resolved = resolve_parameters(GREETER, {"name": "friend", "excitement": "10"}, cwd=Path.cwd())
    assert render_command(GREETER, resolved) == "python greeter.py hi friend --excitement 10"


def test_values_are_single_shell_words() -> None:
    resolved = ResolvedParams({"greeting": "hi", "name": "friend; echo 'hi'"}, {})
    assert (
        render_command(GREETER, resolved) == "python greeter.py hi 'friend; echo '\"'\"'hi'\"'\"''"
    )


def test_literal_braces_and_multiline_with_extras() -> None:
    ep = EntryPoint(
        "m", "python -c \"print({{'a': {a}}})\"\necho {a}\n", {"a": ParamSpec("a", "int")}
    )
    rendered = render_command(ep, ResolvedParams({"a": 3}, {"k": "v w"}))
    assert rendered == "python -c \"print({'a': 3})\"\necho 3 --k 'v w'"


def test_typed_values_are_rendered_normalised() -> None:
    ep = EntryPoint("m", "x {f} {b}", {"f": ParamSpec("f", "float"), "b": ParamSpec("b", "bool")})
    resolved = resolve_parameters(ep, {"f": ".5", "b": "yes"}, cwd=Path.cwd())
    assert render_command(ep, resolved) == "x 0.5 True"


def test_masked_command_is_rendered_from_masked_values() -> None:
    ep = EntryPoint(
        "m", "x {api_key} {user}", {"api_key": ParamSpec("api_key"), "user": ParamSpec("user")}
    )
    resolved = ResolvedParams({"api_key": "s e c", "user": "bob"}, {"db-password": "hunter2"})
    masked = render_command(ep, resolved, masked=True)
    assert masked == "x *** bob --db-password ***"
    assert "hunter2" not in masked and "s e c" not in masked


def test_masking_never_edits_the_rest_of_the_command() -> None:
    # text replacement turned `python` into `pyth***n` for password=o
    ep = EntryPoint(
        "m", "python train.py --password {password}", {"password": ParamSpec("password")}
    )
    masked = render_command(ep, ResolvedParams({"password": "o"}, {}), masked=True)
    assert masked == "python train.py --password ***"


def test_placeholder_inside_quotes_never_runs_a_value(tmp_path: Path) -> None:
    ep = EntryPoint("m", "echo \"{s}\" '{s}' x{s}y", {"s": ParamSpec("s")})
    value = "$(touch pwned)`touch pwned2`'\"; touch pwned3"
    command = render_command(ep, ResolvedParams({"s": value}, {}))
    work = tmp_path / "sandbox"
    work.mkdir()
    out = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True, text=True)
    assert out.returncode == 0 and list(work.iterdir()) == []
    assert out.stdout == f"{value} {value} x{value}y\n"


ARGV_SCRIPT = "import json, sys; print(json.dumps(sys.argv[1:]))"
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
keys = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}", fullmatch=True)


# The same value reaches the program whatever quoting context its placeholder sits in:
# bare, "double", 'single', $'ansi', glued into a word, inside "$(...)" and "`...`"
# (command substitution drops trailing newlines: that is the shell, not the quoting).
def _subst(value: str) -> str:
    return value.rstrip("\n")


CONTEXTS: dict[str, Callable[[str, str], list[str]]] = {
    "{a} {b}": lambda a, b: [a, b],
    '"{a}" "{b}"': lambda a, b: [a, b],
    "'{a}' '{b}'": lambda a, b: [a, b],
    "$'{a}' \"x{b}\"": lambda a, b: [a, "x" + b],
    'pre{a}post \'\' "$(printf %s "{b}")"': lambda a, b: [f"pre{a}post", "", _subst(b)],
    '"`printf %s \\"{a}\\"`" "`printf %s \'{b}\'`"': lambda a, b: [_subst(a), _subst(b)],
    '"`printf %s {a}`" "$(printf %s \'{b}\')"': lambda a, b: [_subst(a), _subst(b)],
}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    a=text,
    b=text,
    extras=st.dictionaries(keys, text, max_size=3),
    template=st.sampled_from(sorted(CONTEXTS)),
)
def test_launched_program_receives_exactly_the_values(
    a: str, b: str, extras: dict[str, str], template: str, tmp_path: Path
) -> None:
    work = tmp_path / "sandbox"
    work.mkdir(exist_ok=True)
    script = work / "argv.py"
    script.write_text(ARGV_SCRIPT)
    extras = {k: v for k, v in extras.items() if k not in ("a", "b")}
    ep = EntryPoint(
        "m", f"{sys.executable} {script} {template}", {"a": ParamSpec("a"), "b": ParamSpec("b")}
    )
    resolved = resolve_parameters(ep, {"a": a, "b": b, **extras}, cwd=tmp_path)
    out = subprocess.run(
        ["bash", "-c", render_command(ep, resolved)],
        capture_output=True,
        check=True,
        cwd=work,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    expected = CONTEXTS[template](a, b) + [x for k, v in extras.items() for x in (f"--{k}", v)]
    assert json.loads(out.stdout) == expected
    assert sorted(p.name for p in work.iterdir()) == ["argv.py"]  # nothing else ran


def test_mask_argv_masks_secret_params_and_url_credentials() -> None:
    from satchel.projects.render import mask_argv

    argv = [
        "satchel", "run", "https://bob:TOK@host/r.git", "-P", "password=o", "-P", "alpha=o",
        "-Papi_key=k", "--param-list=db-token=t", "--param-list", "name=python",
    ]  # fmt: skip
    assert mask_argv(argv) == [
        "satchel", "run", "https://host/r.git", "-P", "password=***", "-P", "alpha=o",
        "-Papi_key=***", "--param-list=db-token=***", "--param-list", "name=python",
    ]  # fmt: skip
