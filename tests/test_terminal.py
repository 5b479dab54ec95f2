"""``printable``: every control character but tab and newline becomes a visible escape."""

from __future__ import annotations

from satchel.terminal import printable


def test_controls_become_escapes_and_text_stays() -> None:
    assert printable("a\x1b]0;t\x07b\x08\x7f\x9b\u202ez\tq\n") == (
        "a\\x1b]0;t\\x07b\\x08\\x7f\\x9b\\u202ez\tq\n"
    )
    assert printable("plain — ünïcode ✓") == "plain — ünïcode ✓"
