"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary data dir, loopback on a free port.

``PostgresCluster.start()`` runs ``initdb`` into a fresh temporary folder and ``pg_ctl start`` on 127.0.0.1 (as the
``postgres`` user when the tests run as root: PostgreSQL refuses to run as root). Host connections need a password
(scram-sha-256), so the URLs the tests use carry one, as a hosted deployment's would. Each test gets its own database
(``create_database``), dropped afterwards. ``MVSEP_TEST_DATABASE_URL`` (an administrator's URL of a server you run)
replaces the throwaway server.

Binaries are found on PATH or under ``/usr/lib/postgresql/<version>/bin`` (where ``apt-get install postgresql`` puts
them). Without them the PostgreSQL variants are skipped locally, and fail under ``CI``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.http_server import free_port

SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's versioned folders (newest first)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


class PostgresCluster:
    """One PostgreSQL server for a test session; ``admin_url`` reaches its ``postgres`` database as superuser."""

    def __init__(self, admin_url: str, *, data_root: Path | None = None, bin_dir: Path | None = None,
                 as_user: str | None = None) -> None:
        self.admin_url = admin_url
        self._data_root = data_root
        self._bin_dir = bin_dir
        self._as_user = as_user

    # --- starting and stopping ---------------------------------------------------------------------------------

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresCluster:
        root = Path(tempfile.mkdtemp(prefix="mvsep-pg-"))
        as_user = SUPERUSER if os.geteuid() == 0 else None
        password = secrets.token_urlsafe(12)
        (root / "pwfile").write_text(password + "\n")
        if as_user:
            shutil.chown(root, as_user)
            shutil.chown(root / "pwfile", as_user)
        data = root / "data"
        cluster = cls("", data_root=root, bin_dir=bin_dir, as_user=as_user)
        try:
            cluster._run("initdb", "-D", str(data), "-U", SUPERUSER, "--auth-local=trust",
                         "--auth-host=scram-sha-256", f"--pwfile={root / 'pwfile'}", "-E", "UTF8", "--no-sync")
            port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off"
                       f" -c full_page_writes=off -c max_connections=300")
            cluster._run("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "-t", "60",
                         "start")
        except BaseException:
            cluster.stop()
            raise
        cluster.admin_url = f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/postgres"
        return cluster

    def stop(self) -> None:
        if self._data_root is None:
            return
        data = self._data_root / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._data_root, ignore_errors=True)
        self._data_root = None

    def _run(self, tool: str, *args: str) -> None:
        assert self._bin_dir is not None
        command = [str(self._bin_dir / tool), *args]
        if self._as_user:
            command = ["runuser", "-u", self._as_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", timeout=120)
        if done.returncode != 0:
            log = ""
            if self._data_root is not None and (self._data_root / "server.log").exists():
                log = (self._data_root / "server.log").read_text(errors="replace")[-2000:]
            raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr + log)

    # --- databases ---------------------------------------------------------------------------------------------

    def create_database(self, prefix: str = "t") -> str:
        """A fresh empty database; its URL (with the password)."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
