"""A model whose files changed after logging is refused, with a line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from models_helpers import TRAIN, run_py

from satchel.models.checksums import MANIFEST, digest_file, verify, write_manifest

LOAD = """
import satchel, satchel.errors
try:
    satchel.pyfunc.load_model({uri!r})
except satchel.errors.ModelIntegrityError as exc:
    print("REFUSED", exc)
else:
    print("LOADED")
"""


def _logged(ml_python: Path) -> tuple[str, Path]:
    out = run_py(ml_python, TRAIN + "print(satchel.sklearn.log_model(model, name='m').run_id)")
    run_id = out.stdout.strip()
    return run_id, next(Path("satchel/artifacts").glob(f"*/{run_id}/artifacts/m"))


def test_a_tampered_model_file_is_refused(ml_python: Path) -> None:
    run_id, model_dir = _logged(ml_python)
    with open(model_dir / "model.skops", "r+b") as fh:  # flip one byte
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    out = run_py(ml_python, LOAD.format(uri=f"runs:/{run_id}/m")).stdout
    assert out.startswith("REFUSED")
    assert "model.skops does not match its sha256 recorded at logging" in out


def test_a_rewritten_manifest_is_caught_by_the_digest_in_the_store(ml_python: Path) -> None:
    run_id, model_dir = _logged(ml_python)
    (model_dir / "model.skops").write_bytes(b"evil")
    write_manifest(model_dir)  # an attacker who also rewrites the checksums
    out = run_py(ml_python, LOAD.format(uri=f"runs:/{run_id}/m")).stdout
    assert "satchel.sha256 differs from the digest recorded in the tracking store" in out


def test_files_added_or_removed_after_logging_are_refused(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "weights.bin").write_bytes(b"123")
    digest = write_manifest(model)
    assert verify(model, digest) is True
    (model / "extra.pkl").write_bytes(b"x")
    with pytest.raises(Exception, match=r"extra\.pkl was not part of the model"):
        verify(model)
    (model / "extra.pkl").unlink()
    (model / "weights.bin").unlink()
    with pytest.raises(Exception, match=r"weights\.bin is missing"):
        verify(model)
    assert digest_file(model / MANIFEST) == digest


def test_a_model_without_a_manifest_loads_as_mlflow_wrote_it(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    assert verify(tmp_path) is False
