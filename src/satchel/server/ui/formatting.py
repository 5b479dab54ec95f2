"""Turning stored values into page text: times, durations, numbers, logs and Markdown.

Nothing here returns markup built from raw user text: ``markdown`` renders with raw HTML
disabled and links limited to safe schemes (markdown-it's validator), ``terminal_text``
removes escape sequences and control characters so a console log cannot restyle or spoof
the page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from satchel.cli._output import fmt_duration, fmt_time, readable

__all__ = ["FILTERS", "markdown", "short_id", "terminal_text"]

# CSI / OSC / other ESC sequences, then every C0/C1 control except tab and newline.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))


@lru_cache(maxsize=1)
def _markdown_renderer() -> Any:
    from markdown_it import MarkdownIt

    # commonmark with html disabled: raw HTML in the text is shown as text; markdown-it's
    # validateLink refuses javascript:, vbscript:, file: and non-image data: URLs.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str | None) -> Markup:
    return Markup(_markdown_renderer().render(text or ""))  # noqa: S704 - html disabled


def short_id(run_id: str) -> str:
    return run_id[:8]


def number(value: Any) -> str:
    return readable(value)


FILTERS = {
    "time": fmt_time,
    "number": number,
    "short_id": short_id,
    "markdown": markdown,
    "terminal": terminal_text,
    "duration": fmt_duration,
}
