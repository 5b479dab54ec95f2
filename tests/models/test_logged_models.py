"""MLflow 3's logged models in the embedded store, and ``models:/`` versions that use them."""

from __future__ import annotations

from pathlib import Path

import pytest

import satchel
from satchel.errors import InvalidValueError, NotFoundError
from satchel.models.uri import locate
from satchel.tracking.store import get_store


def test_create_finalize_tag_search_and_delete() -> None:
    store = get_store()
    run = satchel.Client().create_run("0")
    model = store.create_logged_model("0", "model", run.info.run_id, {"k": "v"}, {"alpha": "1"})
    assert model.model_id.startswith("m-") and model.status == "LOGGED_MODEL_PENDING"
    assert model.artifact_location.endswith(f"/0/models/{model.model_id}/artifacts")
    assert store.finalize_logged_model(model.model_id, "LOGGED_MODEL_READY").status == (
        "LOGGED_MODEL_READY"
    )
    store.set_logged_model_tags(model.model_id, {"mlflow.modelVersions": "[]"})
    found = store.search_logged_models(
        ["0"], f"name = 'model' and source_run_id = '{run.info.run_id}'"
    )
    assert [m.model_id for m in found] == [model.model_id]
    assert found[0].tags == {"k": "v", "mlflow.modelVersions": "[]"}
    assert found[0].params == {"alpha": "1"}
    with pytest.raises(InvalidValueError, match="cannot filter logged models"):
        store.search_logged_models(["0"], "metrics.x > 1")
    store.delete_logged_model(model.model_id)
    with pytest.raises(NotFoundError):
        store.get_logged_model(model.model_id)


def test_a_version_whose_source_is_a_logged_model_resolves_to_its_files() -> None:
    client = satchel.Client()
    model = get_store().create_logged_model("0", "model")
    Path(model.artifact_location).mkdir(parents=True)
    (Path(model.artifact_location) / "MLmodel").write_text("flavors: {}\n")
    client.create_registered_model("iris")
    client.create_model_version("iris", f"models:/{model.model_id}", model_id=model.model_id)
    located = locate("models:/iris/1", client)
    assert located.path == Path(model.artifact_location).resolve()
