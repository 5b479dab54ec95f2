"""Text that is safe to print to a terminal: no control character reaches it raw.

A run name, tag or param (anyone with write access to the store sets them) holding
``ESC ] 0; title BEL``, backspaces or C1 codes could retitle the window, hide text or fake
lines when printed. Every human-readable line Satchel prints about stored data goes through
``printable``, on a terminal and when piped alike (a pipe often ends in a terminal). Controls
are shown as escapes (``\\x1b``), so nothing is lost from sight; JSON output escapes them its
own way (see ``cli._output.to_json``) and CSV stays byte-exact for programs.

Standard library only: the runner's progress lines use it too.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 (but tab and newline), DEL, C1, and the bidirectional overrides/isolates that can make
# text read differently from what it is ("Trojan source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character but tab and newline shown as an escape."""
    return _UNSAFE.sub(_escape, text)
