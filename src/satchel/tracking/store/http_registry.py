"""The model registry and MLflow 3's logged models over a server's REST API (mixed into
``HttpStore``): MLflow's ``registered-models``, ``model-versions`` and ``logged-models``
routes, plus Satchel's ``registry/history``.

Writes name the local user (``satchel_user``) for the registry's history; a server with
sign-in records the authenticated user instead. Records travel in MLflow's JSON shapes
(``satchel.tracking.serialize``). Standard library only.
"""

from __future__ import annotations

from satchel.tracking.entities import PagedList
from satchel.tracking.serialize import (
    key_values,
    logged_model_from_dict,
    model_version_from_dict,
    registered_model_from_dict,
    registry_event_from_dict,
)
from satchel.tracking.store.http_conn import Connection

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from satchel.models.entities import (
        LoggedModel,
        ModelVersion,
        RegisteredModel,
        RegistryEvent,
    )

__all__ = ["HttpRegistry"]

_RM = "/api/2.0/mlflow/registered-models"
_MV = "/api/2.0/mlflow/model-versions"
_LM = "/api/2.0/mlflow/logged-models"
_USER = "satchel_user"  # satchel.server.app.USER_HINT


def _search_query(
    filter_string: str | None, max_results: int, order_by: Sequence[str] | None, token: str | None
) -> dict[str, Any]:
    query: dict[str, Any] = {"max_results": max_results}
    if filter_string:
        query["filter"] = filter_string
    if order_by:
        query["order_by"] = list(order_by)
    if token:
        query["page_token"] = token
    return query


class HttpRegistry:
    conn: Connection

    def _call(
        self, method: str, path: str, body: dict[str, Any], user: str = "", replay: bool = True
    ) -> Any:
        """``replay=False``: a create, never sent twice unless the server provably did not
        act on it (``http_conn``)."""
        if method != "GET" and user:
            body = {**body, _USER: user}
        return self.conn.json(method, path, body, idempotent=replay)

    # -- registered models ------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        user: str = "",
    ) -> RegisteredModel:
        body: dict[str, Any] = {"name": name, "tags": key_values(tags or {})}
        if description:
            body["description"] = description
        answer = self._call("POST", f"{_RM}/create", body, user, replay=False)
        return registered_model_from_dict(answer["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        answer = self._call("GET", f"{_RM}/get", {"name": name})
        return registered_model_from_dict(answer["registered_model"])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        query = _search_query(filter_string, max_results, order_by, page_token)
        answer = self._call("GET", f"{_RM}/search", query)
        found = [registered_model_from_dict(m) for m in answer.get("registered_models", ())]
        return PagedList(found, answer.get("next_page_token") or None)

    def rename_registered_model(self, name: str, new_name: str, user: str = "") -> RegisteredModel:
        answer = self._call("POST", f"{_RM}/rename", {"name": name, "new_name": new_name}, user)
        return registered_model_from_dict(answer["registered_model"])

    def update_registered_model(
        self, name: str, description: str, user: str = ""
    ) -> RegisteredModel:
        body = {"name": name, "description": description}
        answer = self._call("PATCH", f"{_RM}/update", body, user)
        return registered_model_from_dict(answer["registered_model"])

    def delete_registered_model(self, name: str, user: str = "") -> None:
        self._call("DELETE", f"{_RM}/delete", {"name": name}, user)

    def set_registered_model_tag(self, name: str, key: str, value: str, user: str = "") -> None:
        self._call("POST", f"{_RM}/set-tag", {"name": name, "key": key, "value": value}, user)

    def delete_registered_model_tag(self, name: str, key: str, user: str = "") -> None:
        self._call("DELETE", f"{_RM}/delete-tag", {"name": name, "key": key}, user)

    # -- versions ---------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user: str = "",
    ) -> ModelVersion:
        body: dict[str, Any] = {"name": name, "source": source, "tags": key_values(tags or {})}
        for key, value in (
            ("run_id", run_id),
            ("run_link", run_link),
            ("description", description),
            ("model_id", model_id),
        ):
            if value:
                body[key] = value
        answer = self._call("POST", f"{_MV}/create", body, user, replay=False)
        return model_version_from_dict(answer["model_version"])

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        answer = self._call("GET", f"{_MV}/get", {"name": name, "version": str(version)})
        return model_version_from_dict(answer["model_version"])

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        query = _search_query(filter_string, max_results, order_by, page_token)
        answer = self._call("GET", f"{_MV}/search", query)
        found = [model_version_from_dict(mv) for mv in answer.get("model_versions", ())]
        return PagedList(found, answer.get("next_page_token") or None)

    def update_model_version(
        self, name: str, version: str | int, description: str, user: str = ""
    ) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        answer = self._call("PATCH", f"{_MV}/update", body, user)
        return model_version_from_dict(answer["model_version"])

    def delete_model_version(self, name: str, version: str | int, user: str = "") -> None:
        self._call("DELETE", f"{_MV}/delete", {"name": name, "version": str(version)}, user)

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        user: str = "",
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        answer = self._call("POST", f"{_MV}/transition-stage", body, user)
        return model_version_from_dict(answer["model_version"])

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body = {"name": name, "stages": list(stages or ())}
        answer = self._call("POST", f"{_RM}/get-latest-versions", body)
        return [model_version_from_dict(mv) for mv in answer.get("model_versions", ())]

    def set_model_version_tag(
        self, name: str, version: str | int, key: str, value: str, user: str = ""
    ) -> None:
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self._call("POST", f"{_MV}/set-tag", body, user)

    def delete_model_version_tag(
        self, name: str, version: str | int, key: str, user: str = ""
    ) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self._call("DELETE", f"{_MV}/delete-tag", body, user)

    # -- aliases ----------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, user: str = ""
    ) -> None:
        body = {"name": name, "alias": alias, "version": str(version)}
        self._call("POST", f"{_RM}/alias", body, user)

    def delete_registered_model_alias(self, name: str, alias: str, user: str = "") -> None:
        self._call("DELETE", f"{_RM}/alias", {"name": name, "alias": alias}, user)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        answer = self._call("GET", f"{_RM}/alias", {"name": name, "alias": alias})
        return model_version_from_dict(answer["model_version"])

    # -- history ----------------------------------------------------------------------
    def get_registry_history(
        self, name: str | None = None, max_results: int = 1000
    ) -> list[RegistryEvent]:
        from satchel.errors import NotFoundError

        query: dict[str, Any] = {"max_results": max_results, **({"name": name} if name else {})}
        answer = self._call("GET", "/api/2.0/satchel/registry/history", query)
        events = [registry_event_from_dict(e) for e in answer.get("events", ())]
        if name is not None and not events:  # as the stores say it
            raise NotFoundError(
                f"no registry history for {name!r}", hint="list models with 'satchel models list'"
            )
        return events

    # -- logged models ----------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "name": name,
            "tags": key_values(tags or {}),
            "params": key_values(params or {}),
        }
        if source_run_id:
            body["source_run_id"] = source_run_id
        if model_type:
            body["model_type"] = model_type
        return logged_model_from_dict(self._call("POST", _LM, body, replay=False)["model"])

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return logged_model_from_dict(self._call("GET", f"{_LM}/{model_id}", {})["model"])

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        body = {"model_id": model_id, "status": status}
        return logged_model_from_dict(self._call("PATCH", f"{_LM}/{model_id}", body)["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._call("DELETE", f"{_LM}/{model_id}", {})

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        self._call("PATCH", f"{_LM}/{model_id}/tags", {"tags": key_values(tags)})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        from urllib.parse import quote

        self._call("DELETE", f"{_LM}/{model_id}/tags/{quote(key, safe='')}", {})

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        self._call("POST", f"{_LM}/{model_id}/params", {"params": key_values(params)})

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        body: dict[str, Any] = {"experiment_ids": list(experiment_ids), "max_results": max_results}
        if filter_string:
            body["filter"] = filter_string
        if page_token:
            body["page_token"] = page_token
        answer = self._call("POST", f"{_LM}/search", body)
        found = [logged_model_from_dict(m) for m in answer.get("models", ())]
        return PagedList(found, answer.get("next_page_token") or None)
