"""Reading a request's parameters the way MLflow's server does, with MLflow's messages.

GET takes query parameters, POST/PATCH/DELETE a JSON object body; handlers receive one
``Params`` (a dict) and ask it for typed values. A missing required value, or one of the
wrong type, is ``INVALID_PARAMETER_VALUE`` naming the parameter.
"""

from __future__ import annotations

from typing import Any

from satchel.server.errors import RestError

__all__ = ["Params", "invalid", "missing"]


def missing(name: str) -> RestError:
    return RestError(
        "INVALID_PARAMETER_VALUE",
        f"Missing value for required parameter '{name}'. See the API docs for more information "
        "about request parameters.",
    )


def invalid(name: str, value: Any, expected: str) -> RestError:
    return RestError(
        "INVALID_PARAMETER_VALUE",
        f"Invalid value {value!r} for parameter '{name}' supplied: expected {expected}",
    )


class Params(dict[str, Any]):
    """The request's parameters (query string, path parameters, or the JSON body's object).
    ``caller`` names who sent it, for the registry's history: the authenticated user, or on
    a server without auth what the client says (``user`` hint), else ""."""

    caller: str = ""

    def text(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise invalid(name, value, "a string")
        return str(value)

    def need(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None  # required=True raised otherwise
        return value

    def run_id(self) -> str:
        """``run_id``, else the older ``run_uuid`` (the client sends both)."""
        value = self.text("run_id") or self.text("run_uuid")
        if not value:
            raise missing("run_id")
        return value

    def integer(self, name: str, default: int | None = None, required: bool = False) -> int | None:
        value = self.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if isinstance(value, bool):
            raise invalid(name, value, "an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid(name, value, "an integer") from None
        if isinstance(value, float) and value != number:
            raise invalid(name, value, "an integer")
        return number

    def number(self, name: str) -> float:
        from satchel.tracking.serialize import float_from_json

        value = self.get(name)
        if value is None or value == "":
            raise missing(name)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise invalid(name, value, "a number")
        try:
            return float_from_json(value) if isinstance(value, str) else float(value)
        except ValueError:
            raise RestError(
                "INVALID_PARAMETER_VALUE",
                f"Invalid value {value!r} for parameter '{name}' supplied: Hint: Value was of "
                f"type '{type(value).__name__}'. See the API docs for more information about "
                "request parameters.",
            ) from None

    def boolean(self, name: str) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(name, value, "true or false")

    def tags(self, name: str = "tags") -> dict[str, str]:
        """A list of ``{"key", "value"}`` objects as a dict."""
        out = {}
        for item in self.items_list(name):
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise invalid(name, item, '{"key": ..., "value": ...} objects')
            value = item.get("value")
            out[item["key"]] = "" if value is None else str(value)
        return out

    def items_list(self, name: str) -> list[Any]:
        value = self.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise invalid(name, value, "a list")
        return value

    def strings(self, name: str) -> list[str]:
        """A list of strings; a query string repeats the name (``?run_ids=a&run_ids=b``)."""
        value = self.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise invalid(name, value, "a list of strings")
        return [str(v) for v in value]
