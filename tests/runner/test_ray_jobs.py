"""What the Ray backend sends, checked without a cluster: reproducible packages, the lock as
uv packages, addresses without credentials, options checked before a run exists."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from satchel.errors import UsageError
from satchel.runner.backends.ray import _lock_packages, check_config
from satchel.runner.backends.ray_jobs import shown_address, zip_tree


def test_the_same_files_make_the_same_package(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg" / "__pycache__").mkdir(parents=True)
    (tree / "train.py").write_text("print(1)\n")
    (tree / "pkg" / "mod.py").write_text("x = 1\n")
    (tree / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "outside.txt").write_text("secret")
    (tree / "escape").symlink_to(tmp_path / "outside.txt")  # never followed out of the tree
    name, content = zip_tree(tree)
    assert name.startswith("_ray_pkg_") and name.endswith(".zip")
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert sorted(names) == ["pkg/mod.py", "train.py"]
    (tree / "train.py").touch()  # a new mtime, the same content: the same package
    assert zip_tree(tree) == (name, content)
    (tree / "train.py").write_text("print(2)\n")
    assert zip_tree(tree)[0] != name
    prefixed = zipfile.ZipFile(io.BytesIO(zip_tree(tree, prefix="satchel")[1])).namelist()
    assert sorted(prefixed) == ["satchel/pkg/mod.py", "satchel/train.py"]


def test_the_lock_becomes_pinned_uv_packages(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# resolved\nsix==1.16.0 \\\n    --hash=sha256:abc\nnumpy==2.1.0  # via x\n\n")
    assert _lock_packages(lock) == ["six==1.16.0", "numpy==2.1.0"]
    assert _lock_packages(None) == []


def test_addresses_are_shown_without_credentials() -> None:
    assert shown_address("https://user:tok@head:8265/") == "https://head:8265"
    assert shown_address("http://127.0.0.1:8265") == "http://127.0.0.1:8265"


def test_options_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(UsageError, match="needs the cluster's address"):
        check_config({})
    monkeypatch.setenv("RAY_ADDRESS", "http://head:8265")
    options = check_config({"num_cpus": 2, "resources": {"TPU": 1}, "env_vars": {"A": 1}})
    assert options == {
        "address": "http://head:8265",
        "num_cpus": 2.0,
        "resources": {"TPU": 1.0},
        "env_vars": {"A": "1"},
    }
    with pytest.raises(UsageError, match="env_vars: values must be strings or numbers"):
        check_config({"env_vars": {"A": [1]}})
    with pytest.raises(UsageError, match="num_gpus: expected a number >= 0"):
        check_config({"num_gpus": True})
