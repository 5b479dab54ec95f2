"""The model-registry half of the store interface (MLflow's registry calls, plus history).

``Store`` inherits these methods; a store without a registry keeps the defaults, which
refuse with one line instead of failing obscurely. ``user`` names who made a change: the
client passes the local user, the server the authenticated one. Every change appends a
``RegistryEvent`` in the same transaction. Standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from satchel.models.entities import (
        LoggedModel,
        ModelVersion,
        RegisteredModel,
        RegistryEvent,
    )
    from satchel.tracking.entities import PagedList

__all__ = ["RegistryStore"]


def _unsupported(store: object) -> Exception:
    from satchel.errors import StoreUnavailableError

    return StoreUnavailableError(
        f"{type(store).__name__} has no model registry",
        hint="use a sqlite store or a satchel server",
    )


class RegistryStore:
    """Registered models, versions, stages, aliases, tags and their history."""

    # -- registered models ------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        user: str = "",
    ) -> RegisteredModel:
        """AlreadyExistsError when the name is taken."""
        raise _unsupported(self)

    def get_registered_model(self, name: str) -> RegisteredModel:
        raise _unsupported(self)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        raise _unsupported(self)

    def rename_registered_model(self, name: str, new_name: str, user: str = "") -> RegisteredModel:
        raise _unsupported(self)

    def update_registered_model(
        self, name: str, description: str, user: str = ""
    ) -> RegisteredModel:
        raise _unsupported(self)

    def delete_registered_model(self, name: str, user: str = "") -> None:
        raise _unsupported(self)

    def set_registered_model_tag(self, name: str, key: str, value: str, user: str = "") -> None:
        raise _unsupported(self)

    def delete_registered_model_tag(self, name: str, key: str, user: str = "") -> None:
        raise _unsupported(self)

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
        raise _unsupported(self)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        raise _unsupported(self)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        raise _unsupported(self)

    def update_model_version(
        self, name: str, version: str | int, description: str, user: str = ""
    ) -> ModelVersion:
        raise _unsupported(self)

    def delete_model_version(self, name: str, version: str | int, user: str = "") -> None:
        raise _unsupported(self)

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        user: str = "",
    ) -> ModelVersion:
        raise _unsupported(self)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        raise _unsupported(self)

    def set_model_version_tag(
        self, name: str, version: str | int, key: str, value: str, user: str = ""
    ) -> None:
        raise _unsupported(self)

    def delete_model_version_tag(
        self, name: str, version: str | int, key: str, user: str = ""
    ) -> None:
        raise _unsupported(self)

    # -- aliases ----------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, user: str = ""
    ) -> None:
        raise _unsupported(self)

    def delete_registered_model_alias(self, name: str, alias: str, user: str = "") -> None:
        raise _unsupported(self)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        raise _unsupported(self)

    # -- history ----------------------------------------------------------------------
    def get_registry_history(
        self, name: str | None = None, max_results: int = 1000
    ) -> list[RegistryEvent]:
        """Newest first; ``name`` follows the model across renames."""
        raise _unsupported(self)

    # -- logged models (MLflow 3: a record per log_model call) ---------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        raise _unsupported(self)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        raise _unsupported(self)

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        raise _unsupported(self)

    def delete_logged_model(self, model_id: str) -> None:
        raise _unsupported(self)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        raise _unsupported(self)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        raise _unsupported(self)

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        raise _unsupported(self)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        raise _unsupported(self)
