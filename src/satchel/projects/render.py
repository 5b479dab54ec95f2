"""Entry point + resolved params → the shell command, every value quoted.

The command is a string only because the MLproject spec makes it a shell template; every
value that reaches it goes through ``shlex.quote`` (keys of extra params included).
"""

from __future__ import annotations

import re
import shlex

from satchel.projects.params import ResolvedParams
from satchel.projects.spec import EntryPoint

__all__ = ["SECRET_WORDS", "is_secret_name", "mask_secrets", "render_command"]

SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
    "auth",
)
MASK = "***"


def render_command(entry_point: EntryPoint, resolved: ResolvedParams) -> str:
    """``str.format`` the template with quoted values, then append ``--key value`` extras."""
    quoted = {name: shlex.quote(str(value)) for name, value in resolved.declared.items()}
    command = entry_point.command.format(**quoted)
    if resolved.extra:
        # A trailing newline (YAML block scalars) would turn the extras into a new command.
        extras = " ".join(
            f"{shlex.quote('--' + key)} {shlex.quote(value)}"
            for key, value in resolved.extra.items()
        )
        command = f"{command.rstrip()} {extras}"
    return command


def is_secret_name(name: str) -> bool:
    lowered = re.sub(r"[-.]", "_", name.lower())
    return any(word in lowered for word in SECRET_WORDS)


def mask_secrets(command_or_value: str, resolved: ResolvedParams) -> str:
    """Replace the values of secret-looking params (quoted or not) by ``***``."""
    values = {**{k: str(v) for k, v in resolved.declared.items()}, **resolved.extra}
    secrets = {v for k, v in values.items() if is_secret_name(k) and v}
    forms = {form for v in secrets for form in (shlex.quote(v), v)}
    # Longest first, so a quoted form is replaced whole before its bare inner text.
    for form in sorted(forms, key=len, reverse=True):
        command_or_value = command_or_value.replace(form, MASK)
    return command_or_value
