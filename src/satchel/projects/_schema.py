"""The MLproject schema: raw YAML → validated records (plus warnings), or one SpecError line.

Every error reads ``<file>: <key path>: <problem>; <what is allowed>``. MLflow validates
nothing: it ignores unknown keys and passes parameters of unknown types (and defaults that do
not fit their type) as strings. A file MLflow runs must run here too, so those become
warnings on the ``Project`` (same ``<file>: <key path>:`` form, with the fix and a
did-you-mean: ``{type:float}`` is a key named ``type:float``), and the project runs as MLflow
would run it. What MLflow itself cannot run (no command, a placeholder without a parameter,
broken YAML) stays an error.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from satchel.errors import SpecError
from satchel.projects._yamlsafe import load_yaml_file
from satchel.projects.params import PARAM_TYPES, convert_value
from satchel.projects.records import DockerEnv, EntryPoint, EnvDecl, ParamSpec, ParamType, Project

TOP_KEYS = ("name", "python_env", "conda_env", "docker_env", "entry_points")
ENV_KEYS = ("docker_env", "python_env", "conda_env")
ENTRY_KEYS = ("command", "parameters")
PARAM_KEYS = ("type", "default", "choices", "min", "max")
DOCKER_KEYS = ("image", "volumes", "environment")
# Declared names are looked up by str.format, so they must be plain words.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Ctx:
    """Where we are in the file, to name it in errors; collects the file's warnings."""

    def __init__(
        self, spec_path: Path, keys: tuple[str, ...] = (), warnings: list[str] | None = None
    ) -> None:
        self.spec_path = spec_path
        self.keys = keys
        self.warnings = [] if warnings is None else warnings

    def child(self, key: Any) -> _Ctx:
        return _Ctx(self.spec_path, (*self.keys, str(key)), self.warnings)

    def _where(self) -> str:
        where = " / ".join(self.keys) if self.keys else "top level"
        return f"{self.spec_path}: {where}"

    def error(self, problem: str) -> SpecError:
        return SpecError(f"{self._where()}: {problem}")

    def warn(self, problem: str) -> None:
        self.warnings.append(f"{self._where()}: {problem}")


def read_yaml(path: Path) -> Any:
    return load_yaml_file(path, unique_keys=True)


def parse_project(root: Path, spec_path: Path) -> Project:
    raw = read_yaml(spec_path)
    ctx = _Ctx(spec_path)
    if raw is None:
        raw = {}
    data = _mapping(ctx, raw, TOP_KEYS)
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        ctx.child("name").warn(f"expected a string, got {_kind(name)}; the name is ignored")
        name = None
    entry_raw = data.get("entry_points") or {}
    ectx = ctx.child("entry_points")
    entries = _mapping(ectx, entry_raw, None)
    entry_points = {
        _key(ectx, n): _entry_point(ectx.child(n), str(n), e) for n, e in entries.items()
    }
    env = _env(ctx, root, data)
    return Project(root, name, spec_path, env, entry_points, tuple(ctx.warnings))


def conventional_env(root: Path) -> EnvDecl:
    """No env key: python_env.yaml, then conda.yaml, found by convention (like MLflow)."""
    for kind, file in (("python_env", "python_env.yaml"), ("conda_env", "conda.yaml")):
        if (root / file).is_file():
            return EnvDecl(kind, path=root / file)  # type: ignore[arg-type]
    return EnvDecl("none")


def _env(ctx: _Ctx, root: Path, data: Mapping[str, Any]) -> EnvDecl:
    present = [k for k in ENV_KEYS if k in data]
    if len(present) > 1:
        raise ctx.error(
            f"Project cannot contain multiple environment fields: {', '.join(present)}; "
            "keep one of docker_env, python_env, conda_env"
        )
    if "docker_env" in present:
        return EnvDecl("docker", docker=_docker(ctx.child("docker_env"), data["docker_env"]))
    for key in ("python_env", "conda_env"):
        if key in present:
            return EnvDecl(key, path=_env_file(ctx.child(key), root, data[key]))
    return conventional_env(root)


def _env_file(ctx: _Ctx, root: Path, value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ctx.error(f"expected a file path relative to the project, got {_kind(value)}")
    path = (root / value).resolve()
    if root != path and root not in path.parents:
        raise ctx.error(f"{value!r} points outside the project directory {root}")
    if not path.is_file():
        raise ctx.error(f"no such file {value!r} in {root}; create it or fix the path")
    return path


def _docker(ctx: _Ctx, value: Any) -> DockerEnv:
    data = _mapping(ctx, value, DOCKER_KEYS)
    image = data.get("image")
    if not isinstance(image, str) or not image.strip():
        raise ctx.error(
            "Docker environment specified but no image attribute found; add image: <name[:tag]>"
        )
    volumes = data.get("volumes") or []
    if not isinstance(volumes, list) or not all(isinstance(v, str) for v in volumes):
        raise ctx.child("volumes").error('expected a list of strings ("/host:/container")')
    raw_envs = data.get("environment") or []
    if not isinstance(raw_envs, list):
        raise ctx.child("environment").error("expected a list of NAME or [NAME, value]")
    envs = [_docker_env_item(ctx.child("environment"), item) for item in raw_envs]
    return DockerEnv(image=image, volumes=tuple(volumes), environment=tuple(envs))


def _docker_env_item(ctx: _Ctx, item: Any) -> tuple[str, str | None]:
    if isinstance(item, str) and item:
        return (item, None)
    if (
        isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], (str, int, float))
    ):
        return (item[0], str(item[1]))
    raise ctx.error(f"bad item {item!r}; expected NAME (copied from the host) or [NAME, value]")


def _entry_point(ctx: _Ctx, name: str, value: Any) -> EntryPoint:
    data = _mapping(ctx, value, ENTRY_KEYS)
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ctx.child("command").error(
            f"expected a non-empty command string{_misspelt(value, 'command')}"
        )
    pctx = ctx.child("parameters")
    raw_params = _mapping(pctx, data.get("parameters") or {}, None)
    params = {}
    for pname, pvalue in raw_params.items():
        key = _key(pctx, pname)
        if not _NAME.match(key):
            pctx.child(key).warn(
                "this name cannot be a {placeholder} in the command; rename it with letters, "
                "digits, '_' and '-', starting with a letter"
            )
        params[key] = _param(pctx.child(key), key, pvalue)
    _check_placeholders(ctx.child("command"), command, params)
    return EntryPoint(name=name, command=command, parameters=params)


def _param(ctx: _Ctx, name: str, value: Any) -> ParamSpec:
    data = {"type": value} if isinstance(value, str) else _mapping(ctx, value, PARAM_KEYS)
    ptype = _param_type(ctx.child("type"), data.get("type", "string"))
    base = ParamSpec(name=name, type=ptype)
    choices = _choices(ctx.child("choices"), base, data.get("choices"))
    low, high = (_bound(ctx.child(k), ptype, data.get(k)) for k in ("min", "max"))
    if low is not None and high is not None and low > high:
        raise ctx.error(f"min ({low}) is greater than max ({high})")
    spec = ParamSpec(name, ptype, None, True, choices, low, high)
    default = data.get("default")
    if default is None:
        return spec
    try:
        converted = convert_value(spec, default, cwd=None)
    except ValueError as err:
        if choices is not None or low is not None or high is not None:
            problem = f"default {default!r} is not a valid {ptype}: {err}"
            raise ctx.child("default").error(problem) from None  # our extension: be strict
        ctx.child("default").warn(
            f"default {default!r} is not a valid {ptype} ({err}); it is passed as written, "
            f"as MLflow does, while -P values must still be {ptype}s"
        )
        return ParamSpec(name, ptype, str(default), False, choices, low, high, raw_default=True)
    return ParamSpec(name, ptype, converted, False, choices, low, high)


def _param_type(ctx: _Ctx, value: Any) -> ParamType:
    """A known type, else "string" with a warning (MLflow passes unknown types through)."""
    if value in PARAM_TYPES:
        return value
    ctx.warn(
        f"unknown type {value!r}{_did_you_mean(str(value), PARAM_TYPES, _TYPE_ALIASES)}; "
        f"it is run as a string, as MLflow does (allowed: {', '.join(PARAM_TYPES)})"
    )
    return "string"


def _choices(ctx: _Ctx, base: ParamSpec, value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if base.type == "path":
        raise ctx.error("choices are not supported for type path; use type string")
    if not isinstance(value, list) or not value:
        raise ctx.error("expected a non-empty list of allowed values")
    try:
        return tuple(convert_value(base, item) for item in value)
    except ValueError as err:
        raise ctx.error(f"every choice must be a valid {base.type}: {err}") from None


def _bound(ctx: _Ctx, ptype: str, value: Any) -> float | None:
    if value is None:
        return None
    if ptype not in ("int", "float"):
        raise ctx.error(f"min/max apply to int and float parameters only, not {ptype}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(f"expected a number, got {_kind(value)}")
    return value


def _check_placeholders(ctx: _Ctx, command: str, params: Mapping[str, ParamSpec]) -> None:
    try:
        details = [(f, s, c) for _, f, s, c in string.Formatter().parse(command) if f is not None]
    except ValueError as err:
        raise ctx.error(f"bad braces ({err}); write literal braces as {{{{ and }}}}") from None
    for field, spec, conv in details:
        if not _NAME.match(field) or spec or conv:
            raise ctx.error(
                f"placeholder {{{field}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
                " is not allowed; use plain {name} placeholders (literal braces: {{ }})"
            )
    for field, _, _ in details:
        if field not in params:
            declared = ", ".join(params) or "none"
            raise ctx.error(
                f"placeholder {{{field}}} has no declared parameter"
                f"{_did_you_mean(field, list(params))}; declared: {declared}"
            )


def _mapping(ctx: _Ctx, value: Any, allowed: tuple[str, ...] | None) -> dict[Any, Any]:
    """``value`` as a mapping; unknown keys are warned about and dropped (MLflow ignores them)."""
    if not isinstance(value, dict):
        raise ctx.error(f"expected a mapping, got {_kind(value)}")
    if allowed is None:
        return value
    for key in value:
        if key not in allowed:
            ctx.child(key).warn(
                f"unknown key {key!r}{_suggest_key(key, allowed)}; it is ignored, as MLflow "
                f"does (allowed: {', '.join(allowed)})"
            )
    return {k: v for k, v in value.items() if k in allowed}


def _suggest_key(key: Any, allowed: tuple[str, ...]) -> str:
    """``type:float`` / ``type float`` (a flow mapping missing its space) → ``type: float``."""
    glued = re.match(r"^([A-Za-z_]+)(?:\s*:\s*|\s+)(\S.*)$", str(key))
    if glued and glued.group(1) in allowed:
        return f" (did you mean '{glued.group(1)}: {glued.group(2)}'? YAML needs the space)"
    return _did_you_mean(str(key), allowed)


def _misspelt(data: Mapping[Any, Any], wanted: str) -> str:
    """A hint for a missing key when the mapping holds a near miss of it (``comand``)."""
    import difflib  # error path only

    close = difflib.get_close_matches(wanted, [str(k) for k in data], n=1, cutoff=0.6)
    return f" (found unknown key {close[0]!r}: did you mean {wanted!r}?)" if close else ""


def _key(ctx: _Ctx, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ctx.child(key).error(f"names must be non-empty strings, got {_kind(key)}")
    return key


# Other languages' names for our types: `type: str` means string.
_TYPE_ALIASES = {"str": "string", "integer": "int", "boolean": "bool", "number": "float"}


def _did_you_mean(word: str, candidates: Any, aliases: Mapping[str, str] | None = None) -> str:
    import difflib  # error path only

    if aliases and word in aliases:
        return f" (did you mean {aliases[word]!r}?)"
    match = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), f"{type(value).__name__} {value!r}")
