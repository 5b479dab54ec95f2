"""Property: whatever the values and extra keys, the launched program receives exactly them as
arguments — no injection, no quoting leak — through the real renderer, bash and launcher."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runner_helpers import PROJECTS

from satchel.envs.base import PreparedEnv
from satchel.runner import lifecycle
from satchel.runner.backends.base import LaunchSpec
from satchel.runner.backends.local import LocalLauncher

# Any text an argv can carry: no NUL, no lone surrogates (not encodable as a file name).
VALUES = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
EXTRA_KEYS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}", fullmatch=True).filter(
    lambda k: k not in ("a", "b")
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=VALUES, b=VALUES, extra=st.dictionaries(EXTRA_KEYS, VALUES, max_size=3))
def test_program_receives_exactly_the_values(a: str, b: str, extra: dict[str, str]) -> None:
    root = PROJECTS / "basic"
    _, entry_point = lifecycle.load_spec(root, "args")
    _, command, _ = lifecycle.render(entry_point, {"a": a, "b": b, **extra}, root)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "console.log")
        project, _ = lifecycle.load_spec(root, "main")
        spec = LaunchSpec(
            run_id="r" * 32,
            command=command,
            workdir=root,
            env={"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
            project=project,
            prepared=PreparedEnv("local"),
            log_path=log,
            tracking_uri="sqlite:////nowhere.db",
            client_path=Path(tmp),
        )
        handle = LocalLauncher(watchdog=False).launch(spec)
        assert handle.wait() == 0, log.read_text(errors="replace")
        line = next(x for x in log.read_text().splitlines() if x.startswith("ARGS "))
    expected = [a, b]
    for key, value in extra.items():
        expected += [f"--{key}", value]
    assert json.loads(line[len("ARGS ") :]) == expected
