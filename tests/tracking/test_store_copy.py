"""``satchel db copy`` and ``satchel db upgrade`` on real stores: a SQLite store into a fresh
PostgreSQL database, copied twice (nothing duplicated), interrupted by SIGKILL and resumed
(identical ``runs list -o json`` on both sides), artifacts moved under the new root, the
model registry and logged models read the same through the client on both sides."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

import satchel
from conftest import run_cli
from satchel.tracking.entities import Metric, Param, RunStatus, RunTag
from satchel.tracking.store.postgres import PostgresStore
from satchel.tracking.store.postgres_migrations import MIGRATIONS
from satchel.tracking.store.sqlite import SqliteStore

TABLES = ("experiments", "runs", "params", "tags", "metrics", "latest_metrics", "run_inputs")


def _counts(uri: str) -> dict[str, int]:
    with psycopg.connect(uri) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES
        }


def _dataset(name: str, context: str) -> dict:
    return {
        "tags": [{"key": "mlflow.data.context", "value": context}],
        "dataset": {"name": name, "digest": f"d-{name}", "source_type": "code", "source": "{}"},
    }


def _runs_json(uri: str) -> list:
    out = run_cli("runs", "list", "--all", "--max-results", "50000", "-o", "json",
                  "--tracking-uri", uri)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _small_store(root: Path) -> SqliteStore:
    store = SqliteStore(str(root / "satchel.db"), str(root / "artifacts"))
    exp = store.create_experiment("wine", tags={"team": "a"})
    for n in range(3):
        run_id = store.create_run(exp, "u", 1000 + n, run_name=f"r{n}").info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("loss", 1.0 / (s + 1), 10 + s, s) for s in range(4)],
            params=[Param("alpha", str(n))],
            tags=[RunTag("k", "v")],
        )
        store.log_inputs(run_id, [_dataset(f"train{n}", "training"), _dataset("eval", "eval")])
        store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=2000 + n)
        artifacts = root / "artifacts" / exp / run_id / "artifacts"
        (artifacts / "plots").mkdir(parents=True)
        (artifacts / "plots" / "loss.txt").write_text(f"run {n}\n")
    store.delete_run(run_id)
    return store


def test_copy_twice_duplicates_nothing_and_moves_artifacts(
    postgres_uri: str, tmp_path: Path
) -> None:
    source = _small_store(tmp_path / "src")
    env = {"SATCHEL_ARTIFACT_ROOT": str(tmp_path / "team-artifacts")}
    first = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 experiments, 3 runs and 3 artifact files" in first.stdout
    counts = _counts(postgres_uri)
    again = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri)
    assert again.returncode == 0 and "0 artifact files" in again.stdout
    assert _counts(postgres_uri) == counts
    assert counts["metrics"] == 12 and counts["runs"] == 3 and counts["run_inputs"] == 6

    dest = PostgresStore(postgres_uri)
    for run in source.search_runs(["1"], None, max_results=10):
        copied = dest.get_run(run.info.run_id)
        assert copied.data == run.data
        inputs = dest.get_run_inputs(run.info.run_id)
        assert inputs == source.get_run_inputs(run.info.run_id) and len(inputs) == 2
        assert copied.info.artifact_uri.startswith("file://" + str(tmp_path / "team-artifacts"))
        assert dest.get_metric_history(run.info.run_id, "loss") == source.get_metric_history(
            run.info.run_id, "loss"
        )
        local = copied.info.artifact_uri[len("file://") :]
        assert (Path(local) / "plots" / "loss.txt").read_text().startswith("run ")
    assert dest.get_experiment("1").tags == {"team": "a"}
    assert dest.create_experiment("next") == "2"  # ids continue after the copied ones
    dest.close()


def test_copy_refuses_a_destination_with_other_experiments(
    postgres_uri: str, tmp_path: Path
) -> None:
    _small_store(tmp_path / "src")
    dest = PostgresStore(postgres_uri, str(tmp_path / "a"))
    dest.create_experiment("other")
    dest.create_experiment("wine")
    dest.close()
    out = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri)
    assert out.returncode == 1
    assert "already has an experiment 'wine'" in out.stderr and len(out.stderr.splitlines()) == 1
    into_sqlite = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", "x.db")
    assert into_sqlite.returncode == 1 and "PostgreSQL" in into_sqlite.stderr


def test_db_upgrade_applies_once(postgres_uri: str, tmp_path: Path) -> None:
    first = run_cli("db", "upgrade", "--backend-store-uri", postgres_uri)
    versions = ", ".join(str(version) for version, _, _ in MIGRATIONS)
    assert first.returncode == 0 and first.stdout.strip() == f"Applied migrations {versions}."
    again = run_cli("db", "upgrade", "--backend-store-uri", postgres_uri)
    assert again.returncode == 0 and again.stdout.strip() == "The schema is up to date."
    lite = run_cli("db", "upgrade", "--backend-store-uri", str(tmp_path / "s.db"))
    assert lite.returncode == 0 and lite.stdout.startswith("Applied migrations 1, 2")


RUNS = 10_000


def _big_store(path: Path) -> None:
    store = SqliteStore(str(path / "satchel.db"), str(path / "artifacts"))
    exps = [store.create_experiment(f"e{n}") for n in range(3)]
    for n in range(RUNS):
        run_id = store.create_run(exps[n % 3], "u", 10_000 + n, run_name=f"run-{n}").info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("loss", 1.0 / (s + 1 + n), 100 + s, s) for s in range(3)]
            + [Metric("acc", n / RUNS, 100, 0)],
            params=[Param("alpha", str(n % 7)), Param("seed", str(n))],
            tags=[RunTag("team", "xy"[n % 2])],
        )
        if n % 5:
            store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=50_000 + n)
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ten_thousand_runs_interrupted_and_resumed(postgres_uri: str, tmp_path: Path) -> None:
    _big_store(tmp_path / "src")
    src = str(tmp_path / "src")
    env = {**os.environ, "SATCHEL_ARTIFACT_ROOT": str(tmp_path / "src" / "artifacts")}
    copier = subprocess.Popen(
        [sys.executable, "-m", "satchel", "db", "copy", "--from", src, "--to", postgres_uri],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    while True:  # kill it once some chunks are in, well before the end
        assert copier.poll() is None and time.monotonic() < deadline
        with psycopg.connect(postgres_uri) as conn:
            found = conn.execute("SELECT to_regclass('runs')").fetchone()[0]
            copied = conn.execute("SELECT count(*) FROM runs").fetchone()[0] if found else 0
        if copied >= 1500:
            break
        time.sleep(0.05)
    copier.send_signal(signal.SIGKILL)
    copier.wait()
    partial = _counts(postgres_uri)["runs"]
    assert 1500 <= partial < RUNS

    resumed = run_cli("db", "copy", "--from", src, "--to", postgres_uri, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after run" in resumed.stdout
    counts = _counts(postgres_uri)
    again = run_cli("db", "copy", "--from", src, "--to", postgres_uri, timeout=600)
    assert again.returncode == 0 and "resumed" not in again.stdout
    assert _counts(postgres_uri) == counts
    assert counts["runs"] == RUNS and counts["metrics"] == RUNS * 4
    assert _runs_json(postgres_uri) == _runs_json(src)


def test_copy_keeps_who_may_do_what(postgres_uri: str, tmp_path: Path) -> None:
    from tests.server.server_helpers import ServerProcess, call

    from satchel.server.auth.store import AuthStore, Level

    source = _small_store(tmp_path / "src")
    auth = AuthStore(source)
    auth.create_user("alice", "alice-password", admin=True)
    auth.create_user("bob", "bob-password")
    token = auth.create_token("bob", "laptop")
    auth.create_token("bob", "old")
    auth.revoke_token("bob", "old")
    auth.create_group("ml")
    auth.set_member("ml", "bob", True)
    auth.grant("group:ml", 1, Level.EDIT)
    auth.grant_model("user:bob", "wine", Level.MANAGE)
    auth.set_default_level(Level.READ)
    source.close()
    for _ in range(2):  # twice: nothing duplicated, nothing refused
        out = run_cli("db", "copy", "--from", str(tmp_path / "src"), "--to", postgres_uri)
        assert out.returncode == 0, out.stderr
        assert "Copied 2 users with their tokens, groups and permissions." in out.stdout
    dest = PostgresStore(postgres_uri)
    copied = AuthStore(dest)
    assert sorted(copied.list_users()) == [("alice", True), ("bob", False)]
    assert copied.token_owner(token) == "bob"
    assert [t.name for t in copied.list_tokens("bob") if t.revoked_at] == ["old"]
    assert copied.list_groups() == [("ml", ["bob"])]
    bob = copied.principal("bob")
    assert bob is not None and copied.levels(bob, [1]) == {1: Level.EDIT}
    assert copied.model_levels(bob, ["wine"]) == {"wine": Level.MANAGE}
    assert copied.default_level() is Level.READ
    dest.close()
    # a server on the copy signs the same people in
    server = ServerProcess("--backend-store-uri", postgres_uri, "--auth", cwd=tmp_path)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        path = "/api/2.0/mlflow/experiments/get?experiment_id=1"
        assert call(server.url, "GET", path, headers=bearer)[0] == 200
        assert call(server.url, "GET", path)[0] == 401
    finally:
        assert server.stop() == 0


class Doubler:
    """A tiny pyfunc model (pickled by reference: this module is importable when loading)."""

    def predict(self, data: list[int]) -> list[int]:
        return [2 * x for x in data]


REGISTRY_TABLES = (
    "registered_models", "registered_model_tags", "model_versions", "model_version_tags",
    "registered_model_aliases", "registry_events", "logged_models", "logged_model_tags",
    "logged_model_params", "store_settings",
)  # fmt: skip


def _registry_rows(uri: str) -> dict[str, list]:
    with psycopg.connect(uri) as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in REGISTRY_TABLES
        }


def _registry_store(monkeypatch: pytest.MonkeyPatch) -> str:
    """The default store (./satchel): a registered model with two versions (one logged by a
    run, one an MLflow 3 logged model with files of its own), a tag on each, an alias, a
    stage and the history of all that; returns the logged model's id."""
    monkeypatch.setenv("LOGNAME", "alice")
    with pytest.warns(UserWarning, match="pickle"), satchel.start_run() as run:
        satchel.pyfunc.log_model("model", python_model=Doubler(), registered_model_name="wine")
    store = SqliteStore("satchel/satchel.db", "satchel/artifacts")
    logged = store.create_logged_model("0", "clf", run.info.run_id, {"k": "v"}, {"depth": "3"})
    with pytest.warns(UserWarning, match="pickle"):
        satchel.pyfunc.save_model(logged.artifact_location, python_model=Doubler())
    store.finalize_logged_model(logged.model_id, "LOGGED_MODEL_READY")
    store.close()
    client = satchel.Client()
    client.create_model_version("wine", f"models:/{logged.model_id}", model_id=logged.model_id)
    client.set_registered_model_tag("wine", "team", "ml")
    client.set_model_version_tag("wine", 1, "validated", "yes")
    monkeypatch.setenv("LOGNAME", "bob")
    client.set_registered_model_alias("wine", "champion", 2)
    client.transition_model_version_stage("wine", 2, "Production")
    return logged.model_id


def _moved(record: object, source_root: str, dest_root: str) -> str:
    return repr(record).replace(source_root, dest_root)


def test_copy_brings_the_model_registry_and_logged_models(
    postgres_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_id = _registry_store(monkeypatch)
    env = {"SATCHEL_ARTIFACT_ROOT": str(tmp_path / "team-artifacts")}
    first = run_cli("db", "copy", "--from", "satchel", "--to", postgres_uri, env=env)
    assert first.returncode == 0, first.stderr
    assert "Copied 1 registered models and 1 logged models." in first.stdout
    rows = _registry_rows(postgres_uri)
    again = run_cli("db", "copy", "--from", "satchel", "--to", postgres_uri, env=env)
    assert again.returncode == 0 and "0 artifact files" in again.stdout, again.stderr
    assert _registry_rows(postgres_uri) == rows  # history included: nothing appended twice
    assert len(rows["registry_events"]) == 7
    assert [key for key, _ in rows["store_settings"]] == ["artifact_root"]  # no progress left

    source, dest = satchel.Client(), satchel.Client(postgres_uri)
    roots = (str(Path("satchel", "artifacts").resolve()), str(tmp_path / "team-artifacts"))
    for read in (
        lambda c: c.get_registered_model("wine"),
        lambda c: c.search_model_versions("name = 'wine'"),
        lambda c: c.get_model_version_by_alias("wine", "champion"),
        lambda c: c.get_latest_versions("wine", ["Production"]),
        lambda c: c.get_logged_model(model_id),
    ):
        assert _moved(read(source), *roots) == repr(read(dest))
    assert dest.get_registry_history("wine") == source.get_registry_history("wine")
    copied = dest.get_logged_model(model_id)
    assert copied.artifact_location.startswith(roots[1])
    assert dest.get_model_version("wine", 1).source.startswith("file://" + roots[1])

    # the copy serves the models from the new root alone, and carries on from the copied ids
    shutil.rmtree(roots[0])
    monkeypatch.setenv("SATCHEL_TRACKING_URI", postgres_uri)
    assert satchel.pyfunc.load_model("models:/wine@champion").predict([1, 2]) == [2, 4]
    assert satchel.pyfunc.load_model("models:/wine/1").predict([3]) == [6]
    dest.set_registered_model_alias("wine", "champion", 1)
    assert dest.get_registry_history("wine")[0].event_id == 8
    dest.create_registered_model("beer")
    assert dest.create_model_version("beer", "runs:/abc/x").version == "1"
    assert dest.create_model_version("wine", "runs:/abc/y").version == "3"

    # changed since: copying again would overwrite those changes, so it refuses up front
    rows = _registry_rows(postgres_uri)
    refused = run_cli("db", "copy", "--from", "satchel", "--to", postgres_uri, env=env)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert "registry history has changes the source does not" in refused.stderr
    assert _registry_rows(postgres_uri) == rows
    source.close()
    dest.close()


def test_an_interrupted_registry_copy_resumes_after_its_last_chunk(
    postgres_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from satchel.tracking.store import copy

    client = satchel.Client()
    for name in ("m1", "m2", "m3"):
        client.create_registered_model(name)
        client.create_model_version(name, "runs:/abc/model")
    schema = PostgresStore(postgres_uri, str(tmp_path / "team"))  # the tables, to fail inside
    assert schema.artifact_root == str(tmp_path / "team")
    schema.close()
    fail = (
        "CREATE FUNCTION no_m2() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the database went away'; END $$",
        "CREATE TRIGGER no_m2 BEFORE INSERT ON registered_models FOR EACH ROW "
        "WHEN (NEW.name = 'm2') EXECUTE FUNCTION no_m2()",
    )
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        for sql in fail:
            conn.execute(sql)
    monkeypatch.setattr(copy, "CHUNK", 1)
    with pytest.raises(psycopg.errors.RaiseException, match="went away"):
        copy.copy_store("satchel", postgres_uri)
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        assert conn.execute("SELECT name FROM registered_models").fetchall() == [("m1",)]
        marker = "SELECT value FROM store_settings WHERE key LIKE '%registered models'"
        assert conn.execute(marker).fetchall() == [("1",)]
        # changed here after the interruption: a resumed copy does not go over m1 again
        conn.execute("UPDATE registered_models SET description = 'kept' WHERE name = 'm1'")
        conn.execute("DROP TRIGGER no_m2 ON registered_models")

    report = copy.copy_store("satchel", postgres_uri)
    assert report.registered_models == 3
    dest = satchel.Client(postgres_uri)
    assert [dest.get_registered_model(n).description for n in ("m1", "m2", "m3")] == [
        "kept", "", ""
    ]  # fmt: skip
    assert [dest.get_model_version(n, 1).source for n in ("m2", "m3")] == ["runs:/abc/model"] * 2
    assert len(dest.get_registry_history()) == len(client.get_registry_history()) == 6
    client.close()
    dest.close()
