"""MLmodel-sized YAML without a dependency: write block YAML, read it back.

Model code runs inside project environments that may not have PyYAML, so Satchel writes
MLmodel, python_env.yaml and conda.yaml itself: block mappings, lists of scalars, and every
scalar in JSON form (a JSON string is a valid YAML double-quoted scalar). ``load`` uses PyYAML
when it is installed (files written by MLflow) and otherwise parses exactly what ``dump``
writes. Standard library only.
"""

from __future__ import annotations

import json
from typing import Any

from satchel.errors import InvalidValueError

__all__ = ["dump", "load"]


def _scalar(value: Any) -> str:
    # a plain word reads better unquoted and means the same
    if (
        isinstance(value, str)
        and value.replace("_", "").replace("-", "").isalnum()
        and value.lower() not in ("null", "true", "false", "yes", "no", "on", "off", "none")
        and not value[0].isdigit()
        and not value.startswith("-")
    ):
        return value
    return json.dumps(value)


def _lines(obj: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, (dict, list)) and value:
                out.append(f"{pad}{_scalar(str(key))}:")
                out += _lines(value, indent + 2)
            else:
                empty = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else ""
                out.append(f"{pad}{_scalar(str(key))}: {empty or _scalar(value)}")
        return out
    for item in obj:
        if isinstance(item, (dict, list)):
            raise TypeError("lists hold scalars only in Satchel's YAML")
        out.append(f"{pad}- {_scalar(item)}")
    return out


def dump(obj: dict[str, Any]) -> str:
    return "\n".join(_lines(obj, 0)) + "\n"


def load(text: str, where: str = "MLmodel") -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        return _parse(text, where)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidValueError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidValueError(f"{where} is not a mapping of keys")
    return doc


def _value(text: str, where: str, lineno: int) -> Any:
    text = text.strip()
    if text in ("", "null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if len(text) > 1 and text[0] == text[-1] == "'":  # YAML's single-quoted scalar
        return text[1:-1].replace("''", "'")
    try:
        return json.loads(text)
    except ValueError:
        if text[0] in "\"'[{":
            raise InvalidValueError(
                f"{where} line {lineno}: cannot read {text[:40]!r} without PyYAML",
                hint="install PyYAML to read MLmodel files written by other tools",
            ) from None
        return text


def _parse(text: str, where: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    # (indent, container) — a key with no value opens a dict or list decided by its first child
    stack: list[tuple[int, Any]] = [(-1, root)]
    pending: tuple[dict[str, Any], str] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        while stack and indent <= stack[-1][0]:
            stack.pop()
        if pending is not None:
            parent, key = pending
            parent[key] = [] if line.startswith("- ") or line == "-" else {}
            stack.append((indent - 1, parent[key]))
            pending = None
        container = stack[-1][1]
        if isinstance(container, list) and not line.startswith("-"):
            stack.pop()  # the end of a list written at its key's indent (PyYAML's style)
            container = stack[-1][1]
        if line.startswith("-"):
            if not isinstance(container, list):
                raise InvalidValueError(f"{where} line {lineno}: unexpected list item")
            container.append(_value(line[1:], where, lineno))
            continue
        key_text, sep, rest = line.partition(": ") if ": " in line else line.partition(":")
        if not sep or not isinstance(container, dict):
            raise InvalidValueError(f"{where} line {lineno}: expected 'key: value'")
        key = str(_value(key_text, where, lineno))
        if rest.strip():
            container[key] = _value(rest, where, lineno)
        else:
            container[key] = None
            pending = (container, key)
    return root
