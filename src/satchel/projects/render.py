"""Entry point + resolved params → the shell command, every value quoted for where it lands.

The command is a string only because the MLproject spec makes it a shell template. Each
``{placeholder}`` is rendered for its quoting context in the template, so a value is one
literal piece of text whatever surrounds it:

- bare (``python x.py {a}``): ``shlex.quote`` — one shell word;
- inside double quotes (``"{a}"``): ``\\``, ``"``, ``$`` and backquote are backslash-escaped;
- inside single quotes (``'{a}'``): each ``'`` becomes ``'\\''`` (close, escaped quote, reopen);
- inside ``$'...'``: ``\\`` and ``'`` are backslash-escaped;
- inside backquotes (any depth): the text is escaped once more per level, as bash unescapes
  it before parsing the inner command.

MLflow ``shlex.quote``s every value whatever the context, so ``"{a}"`` runs ``$(...)`` in a
value and passes ``'hello world'`` with its quotes. Extras (undeclared ``-P`` keys) are
appended as ``--key value``, both quoted. Secret-named params (``tracking.secrets``) are masked by
rendering the command from masked values (``render_command(..., masked=True)``), never by
editing text.
"""

from __future__ import annotations

import re
import shlex
import string

from satchel.projects.params import ResolvedParams
from satchel.projects.spec import EntryPoint
from satchel.tracking.secrets import MASK, mask_params

__all__ = ["mask_argv", "render_command", "scrub_secrets"]


# A quoting frame: (kind, the text that closes it). "bare" frames are the top level and the
# inside of $(...) / (...) / `...`; a placeholder is rendered for the innermost frame.
_Frame = tuple[str, str]


def render_command(
    entry_point: EntryPoint, resolved: ResolvedParams, *, masked: bool = False
) -> str:
    """The command for ``resolved``; with ``masked``, secret-named values render as a bare
    ``***`` (for display: tags, logs, the printed docker command)."""
    values = resolved.for_command()
    shown = mask_params(values) if masked else values
    hidden = {key for key, value in shown.items() if value != values[key]}
    pieces = []
    frames: list[_Frame] = [("bare", "")]
    for n, (literal, field, _, _) in enumerate(string.Formatter().parse(entry_point.command)):
        pieces.append(literal)
        frames = _scan(literal, frames, at_word_start=n == 0)
        if field is not None:
            pieces.append(MASK if field in hidden else _quote_for(values[field], frames))
    command = "".join(pieces)
    if resolved.extra:
        # A trailing newline (YAML block scalars) would turn the extras into a new command.
        extras = " ".join(
            f"{shlex.quote('--' + key)} {MASK if key in hidden else shlex.quote(values[key])}"
            for key in resolved.extra
        )
        command = f"{command.rstrip()} {extras}"
    return command


def _quote_for(value: str, frames: list[_Frame]) -> str:
    kind = frames[-1][0]
    if kind == "double":
        text = re.sub(r'([\\"$`])', r"\\\1", value)
    elif kind == "single":
        text = value.replace("'", "'\\''")
    elif kind == "ansi":
        text = value.replace("\\", "\\\\").replace("'", "\\'")
    else:
        text = shlex.quote(value)
    # Inside `...` bash removes one level of backslashes (and of \" within "...") before
    # parsing the inner command: add one level per backquote frame, innermost first.
    for depth in range(len(frames) - 1, 0, -1):
        if frames[depth][1] == "`":
            special = r'[\\`$"]' if frames[depth - 1][0] == "double" else r"[\\`$]"
            text = re.sub(f"({special})", r"\\\1", text)
    return text


def _unescapes_quote(frames: list[_Frame]) -> bool:
    """Inside a backquote within "...", ``\\"`` is a plain ``"`` to the inner command."""
    for depth in range(len(frames) - 1, 0, -1):
        if frames[depth][1] == "`":
            return frames[depth - 1][0] == "double"
    return False


def _scan(text: str, frames: list[_Frame], *, at_word_start: bool) -> list[_Frame]:
    """The quoting frames after ``text``, starting from ``frames`` (POSIX shell rules)."""
    frames = list(frames)
    i = 0
    while i < len(text):
        word_start = at_word_start if i == 0 else text[i - 1] in " \t\n;&|("
        if text[i] == "#" and word_start and frames[-1][0] == "bare":
            i = text.find("\n", i)  # a comment: its quotes quote nothing
            if i < 0:
                break
        kind, closer = frames[-1]
        ch, nxt = text[i], text[i + 1 : i + 2]
        if kind == "single":
            if ch == "'":
                frames.pop()
        elif ch == "\\" and nxt == '"' and _unescapes_quote(frames):
            pass  # the quote is seen by the inner command's parser next round
        elif ch == "\\" and kind != "single":
            i += 1  # the next character is escaped
        elif kind == "ansi":
            if ch == "'":
                frames.pop()
        elif ch == closer and len(frames) > 1 and (kind == "double" or closer in ")`"):
            frames.pop()
        elif ch == "$" and nxt == "(":
            frames.append(("bare", ")"))
            i += 1
        elif ch == "`":
            frames.append(("bare", "`"))
        elif kind == "bare":
            i += _open_in_bare(ch, nxt, frames)
        i += 1
    return frames


def _open_in_bare(ch: str, nxt: str, frames: list[_Frame]) -> int:
    """Quotes and subshells that open at the top level; returns extra characters consumed."""
    if ch == "$" and nxt == "'":
        frames.append(("ansi", "'"))
        return 1
    if ch == "'":
        frames.append(("single", "'"))
    elif ch == '"':
        frames.append(("double", '"'))
    elif ch == "(":
        frames.append(("bare", ")"))
    return 0


def mask_argv(argv: list[str]) -> list[str]:
    """A command line as it may be written to a log: secret-named ``-P`` values masked (the
    value, by structure, never by searching text) and URL credentials removed."""
    from satchel.projects.fetched import redact_url

    masked: list[str] = []
    expect_param = False
    for word in argv:
        if expect_param:
            masked.append(_mask_assignment(word))
        elif word.startswith(("-P", "--param-list=")) and word not in ("-P", "--param-list"):
            flag = "-P" if word.startswith("-P") else "--param-list="
            masked.append(flag + _mask_assignment(word[len(flag) :]))
        else:
            masked.append(redact_url(word))
        expect_param = word in ("-P", "--param-list") and not expect_param
    return masked


def _mask_assignment(item: str) -> str:
    key, sep, value = item.partition("=")
    return f"{key}={mask_params({key: value})[key]}" if sep else item


def scrub_secrets(text: str, argv: list[str]) -> str:
    """Free text (a traceback) with the secret ``-P`` values of ``argv`` replaced by ``***``.

    Commands are masked by structure (``mask_argv``); a traceback has no structure, so the
    values themselves are searched for, if long enough not to hit ordinary text."""
    values = {  # a masked word is its real self with the value replaced: "k=v" → "k=***"
        real[len(shown) - len(MASK) :]
        for real, shown in zip(argv, mask_argv(argv), strict=True)
        if real != shown and shown.endswith("=" + MASK)
    }
    for value in sorted((v for v in values if len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
