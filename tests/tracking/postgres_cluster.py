"""A PostgreSQL cluster of one test's own (initdb in a temp dir, a free port), for tests that
stop and restart the server, which the shared test server must never be.

The server binaries are the shared test server's (asked through ``pg_config``). PostgreSQL
refuses to run as root: as root the cluster runs as the ``postgres`` user, in a directory
outside pytest's private (0700) temp tree.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import psycopg

# Captured at import, before the autouse fixture points TMPDIR into the test's tmp_path.
SYSTEM_TMP = tempfile.gettempdir()


def _bindir(server_uri: str) -> str:
    with psycopg.connect(server_uri) as conn:
        row = conn.execute("SELECT setting FROM pg_config WHERE name = 'BINDIR'").fetchone()
    assert row is not None
    return str(row[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCluster:
    def __init__(self, server_uri: str) -> None:
        self.bindir = _bindir(server_uri)
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="satchel-pgtest-", dir=SYSTEM_TMP)
        self.data = os.path.join(self.dir, "data")
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            os.chmod(self.dir, 0o755)

    @property
    def uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        cmd = [os.path.join(self.bindir, argv[0]), *argv[1:]]
        if self._user:
            cmd = ["su", self._user, "-c", " ".join(_quote(a) for a in cmd)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        log = os.path.join(self.dir, "server.log")
        self._run("pg_ctl", "-D", self.data, "-l", log, "-w", "-t", "60", "-o", options,
                  *extra, action)  # fmt: skip

    def start(self) -> PrivateCluster:
        self._run(
            "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"
        )
        self._pg_ctl("start")
        return self

    def restart(self) -> None:
        """A fast restart: every client connection is cut, then refused until it is back."""
        self._pg_ctl("restart", "-m", "fast")

    def log(self) -> str:
        with open(os.path.join(self.dir, "server.log"), encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
