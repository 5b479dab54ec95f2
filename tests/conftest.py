"""Fixtures shared by every test.

The autouse ``_isolated`` fixture makes it impossible for a test to read or write the real
home directory or a user's tracking store: HOME, the XDG cache, SATCHEL_HOME and the working
directory all point into the test's tmp_path, and no SATCHEL_* variable leaks in.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    # Shared across the session so uv downloads each wheel once; CI may point it elsewhere.
    return os.environ.get("UV_CACHE_DIR") or str(tmp_path_factory.mktemp("uv-cache"))


@functools.lru_cache(maxsize=1)
def _uv_index_settings() -> dict[str, str]:
    """uv reads none of pip's configuration: give it the index settings pip uses here."""
    if any(k in os.environ for k in ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL")):
        return {}  # CI (scripts/test.sh) exports them already
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    conf = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        conf[key.split(".")[-1]] = value.strip().strip("'")
    names = {
        "index-url": "UV_DEFAULT_INDEX",
        "extra-index-url": "UV_INDEX",
        "constraint": "UV_CONSTRAINT",
    }
    env = {names[k]: v for k, v in conf.items() if k in names}
    if "find-links" in conf:
        env["UV_FIND_LINKS"] = conf["find-links"].replace(" ", ",")
    if "UV_INDEX" in env or "UV_FIND_LINKS" in env:
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"  # pip's "best version across indexes"
    return env


# Packages of the scikit-learn environment the model tests run their scripts in.
ML_PACKAGES = ["scikit-learn", "skops", "pandas", "click", "PyYAML"]
# Keras 3 on the jax backend: CPU wheels from the package index, no GPU, no downloads at run.
KERAS_PACKAGES = ["keras", "jax"]


def build_venv(root: Path, packages: list[str], uv_cache: str) -> Path:
    """A uv venv at ``root`` with ``packages``, byte-compiled (the session's uv cache makes
    a rebuild cheap). Model code runs in such an environment, as in a user's project."""
    env = {**os.environ, **_uv_index_settings(), "UV_CACHE_DIR": uv_cache}
    env["UV_COMPILE_BYTECODE"] = "1"
    env.pop("VIRTUAL_ENV", None)
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [str(uv), "venv", "-q", "--python", sys.executable, str(root)], env=env, check=True
    )
    python = root / "bin" / "python"
    subprocess.run(
        [str(uv), "pip", "install", "-q", "--python", str(python), *packages], env=env, check=True
    )
    return python


@pytest.fixture(scope="session")
def ml_python(tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: str) -> Path:
    """One scikit-learn environment per session (tests/models)."""
    return build_venv(tmp_path_factory.mktemp("ml-venv") / "venv", ML_PACKAGES, uv_cache_dir)


@pytest.fixture(scope="session")
def keras_python(tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: str) -> Path:
    """One Keras 3 + jax (CPU) environment per session (tests/models)."""
    root = tmp_path_factory.mktemp("keras-venv") / "venv"
    return build_venv(root, KERAS_PACKAGES, uv_cache_dir)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uv_cache_dir: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("SATCHEL_") and not key.startswith("SATCHEL_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("SATCHEL_HOME", str(tmp_path / "satchel-home"))
    monkeypatch.setenv("SATCHEL_PYTHON_DOWNLOADS", "never")  # never fetch a Python in tests
    monkeypatch.setenv("UV_CACHE_DIR", uv_cache_dir)
    for key, value in _uv_index_settings().items():
        monkeypatch.setenv(key, value)
    # git inside tests: no user config exists in the fake home
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # temp files of the code under test (and of its subprocesses) stay inside the test
    tmp = tmp_path / "_tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # the fluent API's process state: a test's set_tracking_uri / set_experiment ends with it
    from satchel.tracking import context, uri

    monkeypatch.setattr(uri, "_current", None)
    monkeypatch.setattr(context._state, "experiment_id", None)


def kv(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """MLflow's ``[{"key", "value"}, ...]`` JSON lists as a dict."""
    return {i["key"]: i["value"] for i in items or ()}


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real ``satchel`` CLI in a subprocess (as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "satchel", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def on_small_tmpfs(mountpoint: Path, size: str, argv: list[str]) -> list[str]:
    """``argv`` run with a tmpfs of ``size`` mounted at ``mountpoint``: a real full disk
    (ENOSPC). The mount lives in a private mount namespace (``unshare -m``; the tests run as
    root), so no other process sees it and it disappears with the command."""
    script = 'mount -t tmpfs -o size="$1" satchel-test "$2" && shift 2 && exec "$@"'
    namespace = ["unshare", "-m", "--propagation", "private"]
    return [*namespace, "sh", "-c", script, "sh", size, str(mountpoint), *argv]


def without_root_file_access(argv: list[str]) -> list[str]:
    """``argv`` run as root but without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: file modes
    apply to it as to any user, so ``chmod 000`` really makes a file unreadable."""
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *argv]


# -- git repositories and a git daemon (projects/ fetch tests) ------------------------------


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git in tests (argv list, checked); returns stdout."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def make_git_repo(path: Path, files: dict[str, str | bytes], branch: str = "main") -> str:
    """A work tree at ``path`` with ``files`` committed on ``branch``; returns the commit."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "-b", branch, cwd=path)
    git("config", "commit.gpgsign", "false", cwd=path)
    write_files(path, files)
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "-m", "initial", cwd=path)
    return git("rev-parse", "HEAD", cwd=path).strip()


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)


def commit_all(path: Path, message: str = "change") -> str:
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "-m", message, cwd=path)
    return git("rev-parse", "HEAD", cwd=path).strip()


class GitDaemon:
    """``git daemon`` on 127.0.0.1 serving every repo under ``base`` (git://127.0.0.1:PORT/x)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def start(self) -> GitDaemon:
        import socket
        import time

        probe = self.base / "_probe.git"
        if not probe.exists():
            git("init", "--quiet", "--bare", str(probe))
        for _attempt in range(5):  # the free port may be taken between probe and bind
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = sock.getsockname()[1]
            self.proc = subprocess.Popen(
                [
                    "git",
                    "daemon",
                    "--reuseaddr",
                    "--export-all",
                    "--listen=127.0.0.1",
                    f"--port={self.port}",
                    f"--base-path={self.base}",
                    str(self.base),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own group: stop() takes the forked child too
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                ok = subprocess.run(
                    ["git", "ls-remote", self.url("_probe.git")],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
                if ok.returncode == 0:
                    return self
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("git daemon did not start")

    def stop(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory):
    """One git daemon for the session; put bare repos under ``git_daemon.base``."""
    daemon = GitDaemon(tmp_path_factory.mktemp("git-daemon")).start()
    yield daemon
    daemon.stop()


@pytest.fixture()
def private_git_daemon(tmp_path: Path):
    """A git daemon of this test alone (the test may stop it)."""
    base = tmp_path / "daemon"
    base.mkdir()
    daemon = GitDaemon(base).start()
    yield daemon
    daemon.stop()


# -- PostgreSQL (the team store): each test gets a database of its own ----------------------

# Read at import: the autouse _isolated fixture clears every SATCHEL_* variable in tests.
POSTGRES_URI = os.environ.get("SATCHEL_TEST_POSTGRES_URI", "")


def new_postgres_database(server_uri: str | None = None) -> str:
    """Create an empty database on the test PostgreSQL server and return its URI."""
    import psycopg

    server_uri = server_uri or POSTGRES_URI
    if not server_uri:
        pytest.fail(
            "SATCHEL_TEST_POSTGRES_URI is not set: start PostgreSQL with "
            "`source .ci/services.sh && ci_up postgres` (scripts/test.sh does)"
        )
    name = "satchel_t_" + os.urandom(6).hex()
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = server_uri.rpartition("/")
    return f"{base}/{name}"


def drop_postgres_database(uri: str, server_uri: str | None = None) -> None:
    import psycopg

    name = uri.rpartition("/")[2]
    with psycopg.connect(server_uri or POSTGRES_URI, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture()
def postgres_uri():
    """A fresh, empty PostgreSQL database for this test alone (dropped afterwards)."""
    uri = new_postgres_database()
    yield uri
    drop_postgres_database(uri)


# -- a real HTTP server on 127.0.0.1 that answers, then trickles --------------------------
class TricklingServer:
    """Answers every GET with headers at once, then one body byte every ``interval`` seconds
    and never finishes: a download that is alive (no read timeout fires) yet never done."""

    def __init__(self, interval: float = 0.2) -> None:
        import http.server
        import threading

        self.requests = threading.Event()  # set at the first request: a client is waiting
        self._stopping = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.set()
                self.send_response(200)
                self.send_header("Content-Length", str(10**9))
                self.send_header("Content-Type", "text/html")  # uv reads an index page
                self.end_headers()
                while not server._stopping.wait(interval):
                    try:
                        self.wfile.write(b"P")
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture()
def trickling_server():
    server = TricklingServer()
    yield server
    server.close()


# -- Ray: a real local cluster (.ci/services.sh: ray), reached through its Jobs API ---------
RAY_ADDRESS = os.environ.get("SATCHEL_TEST_RAY_ADDRESS", "")  # read before _isolated clears it


@pytest.fixture()
def ray_cluster(monkeypatch: pytest.MonkeyPatch) -> str:
    """The cluster's dashboard URL, also as RAY_ADDRESS; our interpreter's `python` on PATH."""
    assert RAY_ADDRESS, "SATCHEL_TEST_RAY_ADDRESS is unset: `source .ci/services.sh && ci_up ray`"
    monkeypatch.setenv("RAY_ADDRESS", RAY_ADDRESS)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return RAY_ADDRESS
