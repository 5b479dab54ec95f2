"""The model-registry half of ``Client`` (MLflow's ``MlflowClient`` registry methods).

Each method forwards to the store with the local user as the author of the change, so the
registry history says who did it. Standard library only (``import satchel`` loads it).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from satchel.models.entities import (
        LoggedModel,
        ModelVersion,
        RegisteredModel,
        RegistryEvent,
    )
    from satchel.tracking.entities import PagedList
    from satchel.tracking.store.base import Store

__all__ = ["RegistryClient"]


def _tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (tags or {}).items()}


class RegistryClient:
    """Registered models, versions, stages, aliases, tags, history."""

    @property
    def _store(self) -> Store:  # Client opens it lazily
        raise NotImplementedError

    @staticmethod
    def _who() -> str:
        from satchel.tracking.liveness import current_user

        return current_user()

    # -- registered models ------------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        return self._store.create_registered_model(name, _tags(tags), description, self._who())

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._store.get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self._store.search_registered_models(
            filter_string or None, max_results, order_by, page_token
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._store.rename_registered_model(name, new_name, self._who())

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        return self._store.update_registered_model(name, description, self._who())

    def delete_registered_model(self, name: str) -> None:
        self._store.delete_registered_model(name, self._who())

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._store.set_registered_model_tag(name, key, str(value), self._who())

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._store.delete_registered_model_tag(name, key, self._who())

    # -- versions ---------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        return self._store.create_model_version(
            name, source, run_id, _tags(tags), run_link, description, model_id, self._who()
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self._store.get_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self._store.search_model_versions(
            filter_string or None, max_results, order_by, page_token
        )

    def update_model_version(self, name: str, version: str | int, description: str) -> ModelVersion:
        return self._store.update_model_version(name, version, description, self._who())

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._store.delete_model_version(name, version, self._who())

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self._store.transition_model_version_stage(
            name, version, stage, archive_existing_versions, self._who()
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self._store.get_latest_versions(name, stages)

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        self._store.set_model_version_tag(name, version, key, str(value), self._who())

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._store.delete_model_version_tag(name, version, key, self._who())

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self.get_model_version(name, version).source

    # -- aliases and history ----------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._store.set_registered_model_alias(name, alias, version, self._who())

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._store.delete_registered_model_alias(name, alias, self._who())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._store.get_model_version_by_alias(name, alias)

    def get_registry_history(
        self, name: str | None = None, max_results: int = 1000
    ) -> list[RegistryEvent]:
        return self._store.get_registry_history(name, max_results)

    # -- logged models (MLflow 3 records; ``models:/m-<id>`` sources) ---------------------
    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._store.get_logged_model(model_id)
