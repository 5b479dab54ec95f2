"""``-A NAME[=VALUE]`` docker arguments → keyword arguments of the SDK's ``containers.create``.

A literal table of the ``docker run`` flags we support; anything else is a one-line error
listing them, raised by ``validate_docker_args`` before any run record exists. A name given
several times (``-A env=A=1 -A env=B=2``) may arrive as a list of values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from satchel.errors import UsageError

__all__ = ["SUPPORTED", "DockerArgValue", "apply_docker_args", "validate_docker_args"]

DockerArgValue = str | bool | Sequence[str]
Kwargs = dict[str, Any]


def _values(name: str, value: DockerArgValue) -> list[str]:
    items = [value] if isinstance(value, (str, bool)) else list(value)
    if any(item is True or item is False for item in items):
        raise UsageError(f"-A {name} needs a value", hint=f"write -A {name}=VALUE")
    return [str(item) for item in items]


def _one(name: str, value: DockerArgValue) -> str:
    return _values(name, value)[-1]  # like docker: the last one wins


def _flag(name: str, value: DockerArgValue) -> bool:
    if value is True or value is False:
        return value
    text = _one(name, value).lower()
    if text in ("", "1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"-A {name}={text}: expected true or false", hint=f"write -A {name}")


def _cpus(name: str, value: DockerArgValue) -> int:
    text = _one(name, value)
    try:
        cpus = float(text)
    except ValueError:
        cpus = -1.0
    if cpus <= 0:
        raise UsageError(
            f"-A {name}={text}: expected a positive number of CPUs", hint="e.g. -A cpus=1.5"
        )
    return int(cpus * 1e9)


def _gpus(name: str, value: DockerArgValue) -> list[Any]:
    from docker.types import DeviceRequest

    text = _one(name, value).strip().strip('"')
    if text == "all":
        return [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    if text.startswith("device="):
        ids = [item for item in text[len("device=") :].split(",") if item]
        return [DeviceRequest(device_ids=ids, capabilities=[["gpu"]])]
    if text.isdigit():
        return [DeviceRequest(count=int(text), capabilities=[["gpu"]])]
    raise UsageError(
        f"-A {name}={text}: expected all, a count or device=ID,...", hint="e.g. -A gpus=all"
    )


def _set(key: str, convert: Callable[[str, DockerArgValue], Any] = _one) -> Callable[..., None]:
    def apply(kwargs: Kwargs, name: str, value: DockerArgValue) -> None:
        kwargs[key] = convert(name, value)

    return apply


def _extend(key: str) -> Callable[..., None]:
    def apply(kwargs: Kwargs, name: str, value: DockerArgValue) -> None:
        kwargs.setdefault(key, []).extend(_values(name, value))

    return apply


def _env(kwargs: Kwargs, name: str, value: DockerArgValue) -> None:
    import os

    for item in _values(name, value):
        key, sep, val = item.partition("=")
        if not sep:  # `-e NAME` copies NAME from the host, like docker
            if key not in os.environ:
                raise UsageError(
                    f"-A {name}={key}: {key} is not set on the host",
                    hint=f"write -A {name}={key}=VALUE",
                )
            val = os.environ[key]
        kwargs.setdefault("environment", {})[key] = val


def _labels(kwargs: Kwargs, name: str, value: DockerArgValue) -> None:
    for item in _values(name, value):
        key, _, val = item.partition("=")
        kwargs.setdefault("labels", {})[key] = val


def _hosts(kwargs: Kwargs, name: str, value: DockerArgValue) -> None:
    for item in _values(name, value):
        host, sep, address = item.partition(":")
        if not sep:
            raise UsageError(
                f"-A {name}={item}: expected HOST:IP", hint="e.g. -A add-host=db:10.0.0.5"
            )
        kwargs.setdefault("extra_hosts", {})[host] = address


# docker run flag (and short alias) → how it lands in containers.create(**kwargs)
SUPPORTED: dict[str, Callable[..., None]] = {
    "memory": _set("mem_limit"),
    "m": _set("mem_limit"),
    "memory-swap": _set("memswap_limit"),
    "memory-reservation": _set("mem_reservation"),
    "cpus": _set("nano_cpus", _cpus),
    "cpuset-cpus": _set("cpuset_cpus"),
    "cpu-shares": _set("cpu_shares", lambda n, v: int(_one(n, v))),
    "gpus": _set("device_requests", _gpus),
    "device": _extend("devices"),
    "privileged": _set("privileged", _flag),
    "shm-size": _set("shm_size"),
    "network": _set("network_mode"),
    "net": _set("network_mode"),
    "ipc": _set("ipc_mode"),
    "user": _set("user"),
    "u": _set("user"),
    "env": _env,
    "e": _env,
    "volume": _extend("volumes"),
    "v": _extend("volumes"),
    "name": _set("name"),
    "hostname": _set("hostname"),
    "add-host": _hosts,
    "cap-add": _extend("cap_add"),
    "cap-drop": _extend("cap_drop"),
    "security-opt": _extend("security_opt"),
    "label": _labels,
    "l": _labels,
    "runtime": _set("runtime"),
    "init": _set("init", _flag),
    "read-only": _set("read_only", _flag),
    "tty": _set("tty", _flag),
    "t": _set("tty", _flag),
    "workdir": _set("working_dir"),
    "w": _set("working_dir"),
    "entrypoint": _set("entrypoint"),
    "platform": _set("platform"),
}


def _norm(name: str) -> str:
    return name.lstrip("-").replace("_", "-")


def validate_docker_args(args: Mapping[str, DockerArgValue]) -> None:
    """Raise a one-line UsageError for an unsupported or malformed ``-A`` argument."""
    apply_docker_args({}, args)


def apply_docker_args(kwargs: Kwargs, args: Mapping[str, DockerArgValue]) -> Kwargs:
    """Fold ``args`` into ``kwargs`` (environment, volumes and labels merge; the rest override)."""
    for raw, value in args.items():
        name = _norm(raw)
        if name not in SUPPORTED:
            names = ", ".join(sorted(n for n in SUPPORTED if len(n) > 1))
            raise UsageError(
                f"-A {raw}: not a supported docker argument", hint=f"supported: {names}"
            )
        SUPPORTED[name](kwargs, name, value)
    return kwargs
