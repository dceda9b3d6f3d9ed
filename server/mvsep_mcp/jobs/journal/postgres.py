"""The job journal in PostgreSQL (psycopg 3): one database shared by every replica of a hosted server.

The same tables as SQLite (see ``migrations``) and the same statements and logic
(:class:`~mvsep_mcp.jobs.journal.sql.SqlJournal`), with what sharing across machines needs:

- **Leases on the database's clock.** ``hold_lease`` is one ``INSERT … ON CONFLICT DO UPDATE … WHERE`` statement that
  takes the account's row when it is free, ours, or expired by ``now()``; the row lock PostgreSQL takes for it makes
  two replicas asking at once see one winner. ``expires_at`` is ``now() + ttl`` of the database, so replicas with
  skewed clocks agree on who holds it. A dead replica's lease lapses after its ttl (its pid means nothing on another
  machine or in another container, so unlike SQLite nothing is taken over early). A kept token's time is the
  database's clock too (``Dialect.now``).
- **Row locks.** A transaction reads the job it will write ``SELECT … FOR UPDATE`` (``Dialect.lock_row``): a second
  writer in any process waits for the first to commit, then sees its result.
- **Migrations under an advisory lock** (``pg_advisory_xact_lock``), so two replicas starting together apply each
  migration once.

A pool of a few connections (psycopg_pool) serves threads and the event loop; a connection that broke is replaced on
the next call. A database that cannot be reached raises :class:`JournalUnavailable` naming the URL without its
password; the password is registered with the log filter so no library's log line can show it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mvsep_mcp import policy
from mvsep_mcp.jobs.errors import JournalUnavailable
from mvsep_mcp.jobs.journal.dialect import Connection, Dialect
from mvsep_mcp.jobs.journal.migrations import MIGRATION_LOCK_KEY, MIGRATIONS, Migration
from mvsep_mcp.jobs.journal.sql import SqlJournal
from mvsep_mcp.logs import redacted_url, register_secret

POSTGRES = Dialect(
    name="postgres",
    json="?::jsonb",
    arrays=True,
    row_order="seq",
    lock_row=" FOR UPDATE OF j",
    outputs="COALESCE((SELECT jsonb_agg(o.data ORDER BY o.seq) FROM outputs o WHERE o.job_id = j.id), '[]'::jsonb)",
    now="extract(epoch from now())",
)

_UPSERT_LEASE = """
INSERT INTO leases AS l (account_key, owner, pid, host, expires_at)
VALUES (?, ?, ?, ?, now() + ? * interval '1 second')
ON CONFLICT (account_key) DO UPDATE
    SET owner = EXCLUDED.owner, pid = EXCLUDED.pid, host = EXCLUDED.host, expires_at = EXCLUDED.expires_at
    WHERE l.owner = EXCLUDED.owner OR l.expires_at < now()
RETURNING l.owner
"""


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in ("postgresql", "postgres")


class PostgresJournal(SqlJournal):
    """The PostgreSQL job journal at ``url`` (``postgresql://user:password@host:port/database``)."""

    _dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        migrations: Sequence[Migration] = MIGRATIONS,
        pool_size: int = policy.POSTGRES_POOL_SIZE,
        connect_timeout: float = policy.POSTGRES_CONNECT_TIMEOUT_S,
    ) -> None:
        self.where = _protect(url)  # the only form of the URL that is ever shown
        self._clock = clock
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True, "application_name": "mvsep-mcp",
                    "connect_timeout": max(1, int(connect_timeout))},
            configure=_configure,
            open=False,
            name="mvsep-mcp-journal",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout:
            self._pool.close()
            raise JournalUnavailable(
                f"The job database at {self.where} cannot be reached; check MVSEP_DATABASE_URL and that PostgreSQL "
                f"runs and accepts this user (the server's log says why)."
            ) from None
        try:
            self._migrate(migrations)
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresJournal({self.where!r})"

    def _lock_schema(self, db: Connection) -> None:
        db.execute("SET LOCAL statement_timeout = 0")  # a long migration, or waiting for another replica's
        db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))

    # --- leases: one replica at a time works on an account's jobs ------------------------------------------------

    def hold_lease(self, account_key: str, owner: str, *, ttl: float) -> bool:
        """Take or renew the right to work on ``account_key``'s jobs for ``ttl`` seconds of the database's clock;
        False while another holder's lease runs. Atomic: of two replicas asking at once, one wins."""
        with self._connection() as db:
            row = db.execute(_UPSERT_LEASE, (account_key, owner, os.getpid(), socket.gethostname(),
                                             float(ttl))).fetchone()
        return row is not None

    # --- connections ------------------------------------------------------------------------------------------

    @contextmanager
    def _pooled(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; a lost connection or a database gone away becomes :class:`JournalUnavailable`."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise JournalUnavailable(
                f"The job database at {self.where} is not answering ({type(exc).__name__}); try again in a moment."
            ) from exc

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with self._pooled() as conn:
            yield _Statements(conn)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._pooled() as conn, conn.transaction():
            yield _Statements(conn)

    def close(self) -> None:
        self._pool.close()


class _Statements:
    """A pooled connection running the journal's statements, written with ``?``, in psycopg's style (``%s``)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        # no parameters: the simple query protocol, as psycopg runs a statement given none
        return self._conn.execute(sql.replace("?", "%s"), params or None)


def inspect_database(url: str, *, timeout: float) -> tuple[int, dict[str, int]]:
    """Read-only, for ``mvsep-mcp doctor``: the schema version (0 before the first start) and jobs per state."""
    where = _protect(url)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)),
                             application_name="mvsep-mcp doctor") as conn:
            conn.execute("SET default_transaction_read_only = on")
            exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()
            if exists is None or exists[0] is None:
                return 0, {}
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            states = conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
    except psycopg.Error as exc:
        raise JournalUnavailable(f"The job database at {where} cannot be read ({type(exc).__name__}).") from exc
    return (int(row[0]) if row else 0), {str(state): int(count) for state, count in states}


def _protect(url: str) -> str:
    """Register every password ``url`` carries with the log filter; the URL as it may be shown."""
    parts = urlsplit(url)
    for password in [parts.password, *parse_qs(parts.query).get("password", [])]:
        register_secret(unquote(password) if password else None)
    return redacted_url(url)


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Every pooled connection: no statement waits forever (a lock held by a stuck replica shows as an error)."""
    conn.execute(f"SET statement_timeout = {int(policy.POSTGRES_STATEMENT_TIMEOUT_S * 1000)}")
