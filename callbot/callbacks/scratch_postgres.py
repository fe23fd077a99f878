"""A throwaway PostgreSQL cluster (initdb + pg_ctl in a temporary folder) for tests, benchmarks and demos
of the multi-gateway set-up, on 127.0.0.1 and a free port, removed on exit.

PostgreSQL refuses to run as root: when we are root, the cluster runs as the `postgres` system user (or
`nobody`) through `runuser`. fsync is off: this cluster holds nothing worth keeping.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (the reason names the package to install)."""


def postgres_bin_dir() -> Path:
    """Folder holding initdb and pg_ctl: Debian's /usr/lib/postgresql/<version>/bin, or the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is not None and shutil.which("pg_ctl") is not None:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable("PostgreSQL server binaries not found — apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ScratchPostgres:
    """`with ScratchPostgres() as pg: pg.create_database("t1")` → a SQLAlchemy URL for database t1."""

    def __init__(self, base_dir: str | Path | None = None) -> None:
        self.bin = postgres_bin_dir()
        self.port = _free_port()
        self._base_parent = base_dir
        self.base: Path | None = None
        self._user: str | None = None

    @property
    def data(self) -> Path:
        assert self.base is not None, "start() the cluster first"
        return self.base / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://callbot@127.0.0.1:{self.port}/{database}"

    def start(self) -> ScratchPostgres:
        self.base = Path(tempfile.mkdtemp(prefix="callbot-pg-", dir=self._base_parent))
        if os.geteuid() == 0:
            self._user = _unprivileged_user()
            entry = pwd.getpwnam(self._user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "callbot",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            )
            options = f"-F -p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=60"
            self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.base / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "start",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.base is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="callbot", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = 20) -> str:
        assert self.base is not None
        log = self.base / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / tool), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, cwd=self.base, capture_output=True, text=True, timeout=60, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")

    def __enter__(self) -> ScratchPostgres:
        return self.start()

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")
