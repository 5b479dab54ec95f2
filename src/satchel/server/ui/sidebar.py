"""The experiments sidebar: a name search over active (or deleted) experiments."""

from __future__ import annotations

from satchel.tracking.client import Client
from satchel.tracking.entities import Experiment, ViewType

__all__ = ["experiments_list"]

SIDEBAR_LIMIT = 500


def _quoted(text: str) -> str:
    """A search-DSL string literal holding ``text``."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def experiments_list(client: Client, search: str = "", deleted: bool = False) -> list[Experiment]:
    search = search.strip()
    view = ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY
    filter_string = f"name ILIKE {_quoted('%' + search + '%')}" if search else None
    found = client.search_experiments(
        view_type=view,
        max_results=SIDEBAR_LIMIT,
        filter_string=filter_string,
        order_by=["name ASC"],
    )
    return list(found)
