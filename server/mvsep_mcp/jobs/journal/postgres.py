"""The job journal in PostgreSQL (psycopg 3): one database shared by every replica of a hosted server.

The same tables as SQLite (see ``migrations``), with what sharing across machines needs:

- **Leases on the database's clock.** ``hold_lease`` is one ``INSERT … ON CONFLICT DO UPDATE … WHERE`` statement that
  takes the account's row when it is free, ours, or expired by ``now()``; the row lock PostgreSQL takes for it makes
  two replicas asking at once see one winner. ``expires_at`` is ``now() + ttl`` of the database, so replicas with
  skewed clocks agree on who holds it. A dead replica's lease lapses after its ttl (its pid means nothing on another
  machine or in another container, so unlike SQLite nothing is taken over early).
- **Compare-and-set across processes.** ``update`` reads the job with ``SELECT … FOR UPDATE`` inside its transaction,
  so ``expect=[QUEUED]`` (the runner's claim before a create) and ``change=`` see the row as it is, and a second
  writer waits for the first to commit and then sees its result: one claim wins, the other gets ``None``.
- **Outputs under the job's row lock**, so two files recorded at once get distinct positions.
- **Migrations under an advisory lock** (``pg_advisory_xact_lock``), so two replicas starting together apply each
  migration once.

Job timestamps (created, updated, submitted, finished) still come from ``clock``, the process's clock, like SQLite:
the runner compares them with its own clock (poll timers, retention), and a few seconds of skew between replicas
moves nothing that matters (reconciling from MVSep's history already allows minutes of slack).

A pool of a few connections (psycopg_pool) serves threads and the event loop; a connection that broke is replaced on
the next call. A database that cannot be reached raises :class:`JournalUnavailable` naming the URL without its
password; the password is registered with the log filter so no library's log line can show it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mvsep_mcp import policy
from mvsep_mcp.jobs.errors import JobNotFound, JournalUnavailable
from mvsep_mcp.jobs.journal.interface import REUSABLE_STATES, Order, newest_reusable
from mvsep_mcp.jobs.journal.keys import new_job_id, request_key_for
from mvsep_mcp.jobs.journal.linked_postgres import PostgresLinks
from mvsep_mcp.jobs.journal.migrations import (
    MIGRATION_LOCK_KEY,
    MIGRATIONS,
    SCHEMA_VERSION_TABLE,
    Migration,
    pending,
)
from mvsep_mcp.jobs.journal.salvage import JournalDamage
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.logs import redacted_url, register_secret

log = logging.getLogger(__name__)

_SELECT_JOB = (
    "SELECT j.data, COALESCE((SELECT jsonb_agg(o.data ORDER BY o.seq) FROM outputs o WHERE o.job_id = j.id),"
    " '[]'::jsonb) FROM jobs j"
)

_UPSERT_LEASE = """
INSERT INTO leases AS l (account_key, owner, pid, host, expires_at)
VALUES (%s, %s, %s, %s, now() + %s * interval '1 second')
ON CONFLICT (account_key) DO UPDATE
    SET owner = EXCLUDED.owner, pid = EXCLUDED.pid, host = EXCLUDED.host, expires_at = EXCLUDED.expires_at
    WHERE l.owner = EXCLUDED.owner OR l.expires_at < now()
RETURNING l.owner
"""

_UPSERT_OUTPUT = """
INSERT INTO outputs (job_id, seq, url, data)
VALUES (%s, (SELECT COUNT(*) FROM outputs WHERE job_id = %s), %s, %s::jsonb)
ON CONFLICT (job_id, url) DO UPDATE SET seq = EXCLUDED.seq, data = EXCLUDED.data
"""


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in ("postgresql", "postgres")


class PostgresJournal(PostgresLinks):
    """The PostgreSQL job journal at ``url`` (``postgresql://user:password@host:port/database``)."""

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
        self.damage: JournalDamage | None = None  # a database is never set aside (its own recovery is the admin's)
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

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; a lost connection or a database gone away becomes :class:`JournalUnavailable`."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise JournalUnavailable(
                f"The job database at {self.where} is not answering ({type(exc).__name__}); try again in a moment."
            ) from exc

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the migrations the database lacks, one replica at a time (see ``migrations``)."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET LOCAL statement_timeout = 0")  # a long migration, or waiting for another replica's
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            conn.execute(SCHEMA_VERSION_TABLE)
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            current = 0 if row is None else int(row[0])
            for migration in pending(current, migrations):
                for statement in migration.postgres:
                    conn.execute(statement)
                log.info("journal %s: applied migration %d (%s)", self.where, migration.version, migration.what)
                current = migration.version
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (current,))
            else:
                conn.execute("UPDATE schema_version SET version = %s WHERE version < %s", (current, current))
        known = migrations[-1].version if migrations else 0
        if current > known:
            log.warning("journal %s has schema %s, newer than this server's %s", self.where, current, known)

    # --- leases: one replica at a time works on an account's jobs ------------------------------------------------

    def hold_lease(self, account_key: str, owner: str, *, ttl: float) -> bool:
        """Take or renew the right to work on ``account_key``'s jobs for ``ttl`` seconds of the database's clock;
        False while another holder's lease runs. Atomic: of two replicas asking at once, one wins."""
        with self._connection() as conn:
            row = conn.execute(_UPSERT_LEASE, (account_key, owner, os.getpid(), socket.gethostname(),
                                               float(ttl))).fetchone()
        return row is not None

    def release_lease(self, account_key: str, owner: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM leases WHERE account_key = %s AND owner = %s", (account_key, owner))

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------------------------

    def add(self, spec: JobSpec, *, state: JobState = JobState.QUEUED, **fields: Any) -> JobRecord:
        """Record a new job and commit it; returns the record with its fresh id."""
        now = self._clock()
        fields.setdefault("request_key", request_key_for(spec))
        with self._connection() as conn:
            while True:
                record = JobRecord(id=new_job_id(), spec=spec, state=state, created_at=now, updated_at=now, **fields)
                inserted = conn.execute(
                    "INSERT INTO jobs (id, account_key, state, request_key, batch_id, hash, created_at, updated_at,"
                    " data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT (id) DO NOTHING"
                    " RETURNING id",
                    (record.id, *_column_values(record), _blob(record)),
                ).fetchone()
                if inserted is not None:  # else: that id was taken (vanishingly rare): draw another
                    return record

    def update(
        self,
        job_id: str,
        *,
        expect: Iterable[JobState] | None = None,
        change: Callable[[JobRecord], Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> JobRecord | None:
        """Change fields of a job atomically; with ``expect``, only if its state is one of those (else ``None``).

        The row is read ``FOR UPDATE``: a concurrent writer in any process waits, then sees this change.
        """
        with self._connection() as conn, conn.transaction():
            row = conn.execute(_SELECT_JOB + " WHERE j.id = %s FOR UPDATE OF j", (job_id,)).fetchone()
            if row is None:
                raise JobNotFound(job_id)
            record = _record(row)
            if expect is not None and record.state not in set(expect):
                return None
            data = record.model_dump()
            data.update(fields)
            if change is not None:
                data.update(change(record))
            data["updated_at"] = self._clock()
            updated = JobRecord.model_validate(data)
            conn.execute(
                "UPDATE jobs SET account_key = %s, state = %s, request_key = %s, batch_id = %s, hash = %s,"
                " created_at = %s, updated_at = %s, data = %s::jsonb WHERE id = %s",
                (*_column_values(updated), _blob(updated), job_id),
            )
        return updated

    def record_output(self, job_id: str, output: OutputFile) -> JobRecord:
        """Commit one downloaded file of a job (idempotent per URL)."""
        with self._connection() as conn, conn.transaction():
            self._lock_job(conn, job_id)
            conn.execute(_UPSERT_OUTPUT, (job_id, job_id, output.url, output.model_dump_json()))
            conn.execute("UPDATE jobs SET updated_at = %s WHERE id = %s", (self._clock(), job_id))
            return self._get(conn, job_id)

    def set_outputs(self, job_id: str, outputs: Iterable[OutputFile]) -> JobRecord:
        """Replace a job's outputs at once (a job completed by pointing at another job's files)."""
        with self._connection() as conn, conn.transaction():
            self._lock_job(conn, job_id)
            conn.execute("DELETE FROM outputs WHERE job_id = %s", (job_id,))
            rows = [(job_id, seq, output.url, output.model_dump_json()) for seq, output in enumerate(outputs)]
            if rows:
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO outputs (job_id, seq, url, data) VALUES (%s, %s, %s, %s::jsonb)"
                                    " ON CONFLICT (job_id, url) DO UPDATE SET seq = EXCLUDED.seq,"
                                    " data = EXCLUDED.data", rows)
            return self._get(conn, job_id)

    # --- reading -----------------------------------------------------------------------------------------------

    def get(self, job_id: str, account_key: str | None = None) -> JobRecord:
        """The job with that id (scoped to ``account_key`` when given); raises ``JobNotFound``."""
        with self._connection() as conn:
            record = self._get(conn, job_id)
        if account_key is not None and record.account_key != account_key:
            raise JobNotFound(job_id)
        return record

    def list(
        self,
        account_key: str | None = None,
        *,
        states: Iterable[JobState] | None = None,
        batch_id: str | None = None,
        request_key: str | None = None,
        hash: str | None = None,
        limit: int | None = None,
        order: Order = "newest",
    ) -> list[JobRecord]:
        """Jobs matching every filter given, newest first (or oldest first)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("account_key", account_key), ("batch_id", batch_id),
                              ("request_key", request_key), ("hash", hash)):
            if value is not None:
                where.append(f"j.{column} = %s")
                params.append(value)
        if states is not None:
            wanted = [JobState(s).value for s in states]
            if not wanted:
                return []
            where.append("j.state = ANY(%s)")
            params.append(wanted)
        direction = "DESC" if order == "newest" else "ASC"
        sql = _SELECT_JOB
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY j.created_at {direction}, j.seq {direction}"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(int(limit))
        with self._connection() as conn:
            return [_record(row) for row in conn.execute(sql, params).fetchall()]

    def find_reusable(self, account_key: str, request_key: str, now: float) -> JobRecord | None:
        """The newest job of that account and request whose MVSep result should still exist, or ``None``."""
        return newest_reusable(self.list(account_key, states=REUSABLE_STATES, request_key=request_key), now)

    # --- internals ---------------------------------------------------------------------------------------------

    @staticmethod
    def _lock_job(conn: psycopg.Connection[Any], job_id: str) -> None:
        if conn.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (job_id,)).fetchone() is None:
            raise JobNotFound(job_id)

    @staticmethod
    def _get(conn: psycopg.Connection[Any], job_id: str) -> JobRecord:
        row = conn.execute(_SELECT_JOB + " WHERE j.id = %s", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return _record(row)


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


def _record(row: Sequence[Any]) -> JobRecord:
    data = dict(row[0])
    data["outputs"] = row[1]
    return JobRecord.model_validate(data)


def _column_values(record: JobRecord) -> tuple[Any, ...]:
    return (record.account_key, record.state.value, record.request_key, record.spec.batch_id, record.hash,
            record.created_at, record.updated_at)


def _blob(record: JobRecord) -> str:
    return record.model_dump_json(exclude={"outputs"})
