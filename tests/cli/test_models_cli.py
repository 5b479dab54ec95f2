"""``satchel models register|list|show|versions|alias|stage|history`` as a user runs them."""

from __future__ import annotations

import json

import satchel
from conftest import run_cli


def _run_with_model() -> str:
    client = satchel.Client()
    run = client.create_run("0")
    client.log_text(run.info.run_id, "flavors: {}\n", "model/MLmodel")
    return run.info.run_id


def test_register_alias_stage_list_show_versions_history() -> None:
    run_id = _run_with_model()
    for _ in range(2):
        done = run_cli("models", "register", f"runs:/{run_id}/model", "wine")
        assert done.returncode == 0, done.stderr
    assert "Registered 'wine' version 2" in done.stdout
    assert run_cli("models", "alias", "wine", "champion", "2").stdout.strip() == (
        "wine@champion -> version 2"
    )
    run_cli("models", "stage", "wine", "1", "Production")
    staged = run_cli("models", "stage", "wine", "2", "production", "--archive-existing")
    assert staged.stdout.strip() == "wine version 2 is now in Production"

    listed = json.loads(run_cli("models", "list", "-o", "json").stdout)
    assert [m["name"] for m in listed] == ["wine"] and listed[0]["aliases"] == [
        {"alias": "champion", "version": "2"}
    ]
    shown = run_cli("models", "show", "wine").stdout
    assert "alias @champion" in shown and "stage Production" in shown
    versions = json.loads(run_cli("models", "versions", "wine", "-o", "json").stdout)
    assert [(v["version"], v["current_stage"], v["run_id"]) for v in versions] == [
        ("2", "Production", run_id),
        ("1", "Archived", run_id),
    ]
    history = json.loads(run_cli("models", "history", "wine", "-o", "json").stdout)
    assert [e["action"] for e in history][:3] == [
        "transition_stage",
        "transition_stage",
        "transition_stage",
    ]
    table = run_cli("models", "history").stdout
    assert "create_model" in table and "set_alias" in table


def test_mistakes_are_one_line_errors() -> None:
    run_cli("models", "register", "/tmp/model", "wine")
    cases = [
        (("models", "show", "ghost"), "registered model 'ghost' not found", 1),
        (("models", "alias", "wine", "champion", "7"), "has no version 7", 1),
        (("models", "alias", "wine", "champion"), "give the VERSION", 2),
        (("models", "stage", "wine", "1", "Live"), "'Live' is not one of", 2),
        (("models", "register", "runs:/nope/model", "x"), "not found", 1),
    ]
    for args, message, code in cases:
        done = run_cli(*args)
        assert done.returncode == code, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_listing_never_creates_a_store() -> None:
    done = run_cli("models", "list")
    assert done.returncode == 1 and "no tracking store" in done.stderr
