"""The job journal in SQL, written once for both databases: every statement and all the logic of :class:`JobJournal`.

One row per job (indexed columns for queries plus the record as JSON) and one row per committed output file, so a
resumed job never downloads a file twice. A backend (``sqlite``, ``postgres``) gives :class:`SqlJournal` its dialect,
connections and transaction helper (:class:`~mvsep_mcp.jobs.journal.dialect.SqlDatabase`), and keeps what truly
differs: opening the database, leases and their clock, the migrations' lock.

- **Compare-and-set across processes.** ``update`` reads the job inside its transaction, locked
  (``Dialect.lock_row``), so ``expect=[QUEUED]`` (the runner's claim before a create) and ``change=`` see the row as it
  is, and a second writer waits for the first to commit and then sees its result: one claim wins, the other gets
  ``None``.
- **Outputs under the job's lock**, so two files recorded at once get distinct positions.
- **Migrations in one transaction** (see ``migrations``) that first holds off every other process migrating.

Job timestamps (created, updated, submitted, finished) come from ``clock``, the process's clock, on both databases:
the runner compares them with its own clock (poll timers, retention), and a few seconds of skew between replicas
moves nothing that matters (reconciling from MVSep's history already allows minutes of slack).
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, Self

from mvsep_mcp.jobs.errors import JobNotFound
from mvsep_mcp.jobs.journal.dialect import Connection, upsert
from mvsep_mcp.jobs.journal.interface import REUSABLE_STATES, Change, Order, newest_reusable
from mvsep_mcp.jobs.journal.keys import new_job_id, request_key_for
from mvsep_mcp.jobs.journal.linked import SqlLinks
from mvsep_mcp.jobs.journal.migrations import SCHEMA_VERSION_TABLE, Migration, pending
from mvsep_mcp.jobs.journal.salvage import JournalDamage
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState, OutputFile

log = logging.getLogger(__name__)

# the columns a query filters or orders by; the whole record (but its outputs) is in ``data``, as JSON
_INDEXED = ("account_key", "state", "request_key", "batch_id", "hash", "created_at", "updated_at")


class SqlJournal(SqlLinks):
    """The job journal on a SQL database; ``where`` names the database in log lines and sentences."""

    where: str
    damage: JournalDamage | None = None  # a damaged journal file set aside at open (SQLite only)

    # --- schema ------------------------------------------------------------------------------------------------

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the migrations the database lacks, in one transaction, one process at a time (see ``migrations``)."""
        with self._transaction() as db:
            self._lock_schema(db)
            db.execute(SCHEMA_VERSION_TABLE)
            row = db.execute("SELECT version FROM schema_version").fetchone()
            current = 0 if row is None else int(row[0])
            for migration in pending(current, migrations):
                for statement in migration.statements(self._dialect.name):
                    db.execute(statement)
                log.info("journal %s: applied migration %d (%s)", self.where, migration.version, migration.what)
                current = migration.version
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (current,))
            else:
                db.execute("UPDATE schema_version SET version = ? WHERE version < ?", (current, current))
        known = migrations[-1].version if migrations else 0
        if current > known:
            log.warning("journal %s has schema %s, newer than this server's %s", self.where, current, known)

    def _lock_schema(self, db: Connection) -> None:
        """Hold off every other process migrating the database until this transaction ends (nothing to add where
        the transaction holds the database's write lock already)."""

    # --- leases: one runner at a time works on an account's jobs -------------------------------------------------

    @abstractmethod
    def hold_lease(self, account_key: str, owner: str, *, ttl: float) -> bool:
        """Take or renew the right to work on ``account_key``'s jobs for ``ttl`` seconds; False while another live
        holder has it."""

    def release_lease(self, account_key: str, owner: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM leases WHERE account_key = ? AND owner = ?", (account_key, owner))

    # --- lifecycle ---------------------------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------------------------

    def add(self, spec: JobSpec, *, state: JobState = JobState.QUEUED, **fields: Any) -> JobRecord:
        """Record a new job and commit it; returns the record with its fresh id."""
        now = self._clock()
        fields.setdefault("request_key", request_key_for(spec))
        insert = (f"INSERT INTO jobs (id, {', '.join(_INDEXED)}, data)"
                  f" VALUES (?, {', '.join('?' * len(_INDEXED))}, {self._dialect.json})"
                  " ON CONFLICT (id) DO NOTHING RETURNING id")
        with self._connection() as db:
            while True:
                record = JobRecord(id=new_job_id(), spec=spec, state=state, created_at=now, updated_at=now, **fields)
                if db.execute(insert, (record.id, *_column_values(record))).fetchall():
                    return record
                # else: that id was taken (vanishingly rare): draw another

    def update(self, job_id: str, *, expect: Iterable[JobState] | None = None, change: Change | None = None,
               **fields: Any) -> JobRecord | None:
        """Change fields of a job atomically; with ``expect``, only if its state is one of those (else ``None``).

        ``change`` computes further fields from the job as it is inside the transaction (to add to a list, say): the
        row is locked, so a concurrent writer in any process waits, then sees this change.
        """
        assignments = ", ".join(f"{column} = ?" for column in _INDEXED)
        with self._transaction() as db:
            record = self._get(db, job_id, lock=True)
            if expect is not None and record.state not in set(expect):
                return None
            data = record.model_dump()
            data.update(fields)
            if change is not None:
                data.update(change(record))
            data["updated_at"] = self._clock()
            updated = JobRecord.model_validate(data)
            db.execute(f"UPDATE jobs SET {assignments}, data = {self._dialect.json} WHERE id = ?",
                       (*_column_values(updated), job_id))
        return updated

    def record_output(self, job_id: str, output: OutputFile) -> JobRecord:
        """Commit one downloaded file of a job (idempotent per URL)."""
        position = "(SELECT COUNT(*) FROM outputs WHERE job_id = ?)"  # after those already recorded
        with self._transaction() as db:
            self._lock_job(db, job_id)
            db.execute(self._upsert_output(seq=position), (job_id, job_id, output.url, output.model_dump_json()))
            db.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (self._clock(), job_id))
            return self._get(db, job_id)

    def set_outputs(self, job_id: str, outputs: Iterable[OutputFile]) -> JobRecord:
        """Replace a job's outputs at once (a job completed by pointing at another job's files)."""
        with self._transaction() as db:
            self._lock_job(db, job_id)
            db.execute("DELETE FROM outputs WHERE job_id = ?", (job_id,))
            for seq, output in enumerate(outputs):
                db.execute(self._upsert_output(seq="?"), (job_id, seq, output.url, output.model_dump_json()))
            return self._get(db, job_id)

    # --- reading -----------------------------------------------------------------------------------------------

    def get(self, job_id: str, account_key: str | None = None) -> JobRecord:
        """The job with that id (scoped to ``account_key`` when given); raises ``JobNotFound``."""
        with self._connection() as db:
            record = self._get(db, job_id)
        if account_key is not None and record.account_key != account_key:
            raise JobNotFound(job_id)
        return record

    def list(self, account_key: str | None = None, *, states: Iterable[JobState] | None = None,
             batch_id: str | None = None, request_key: str | None = None, hash: str | None = None,
             limit: int | None = None, order: Order = "newest") -> list[JobRecord]:
        """Jobs matching every filter given, newest first (or oldest first)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("account_key", account_key), ("batch_id", batch_id),
                              ("request_key", request_key), ("hash", hash)):
            if value is not None:
                where.append(f"j.{column} = ?")
                params.append(value)
        if states is not None:
            wanted = [JobState(s).value for s in states]
            if not wanted:
                return []
            condition, values = self._dialect.one_of("j.state", wanted)
            where.append(condition)
            params.extend(values)
        direction = "DESC" if order == "newest" else "ASC"
        sql = self._select_job()
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY j.created_at {direction}, j.{self._dialect.row_order} {direction}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._connection() as db:
            return [self._record(db, row) for row in db.execute(sql, params).fetchall()]

    def find_reusable(self, account_key: str, request_key: str, now: float) -> JobRecord | None:
        """The newest job of that account and request whose MVSep result should still exist, or ``None``
        (:func:`~mvsep_mcp.jobs.journal.interface.newest_reusable`)."""
        return newest_reusable(self.list(account_key, states=REUSABLE_STATES, request_key=request_key), now)

    # --- internals ---------------------------------------------------------------------------------------------

    def _select_job(self) -> str:
        return f"SELECT j.id, j.data, {self._dialect.outputs or 'NULL'} FROM jobs j"

    def _get(self, db: Connection, job_id: str, *, lock: bool = False) -> JobRecord:
        lock_row = self._dialect.lock_row if lock else ""
        row = db.execute(f"{self._select_job()} WHERE j.id = ?{lock_row}", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return self._record(db, row)

    def _lock_job(self, db: Connection, job_id: str) -> None:
        if db.execute(f"SELECT 1 FROM jobs j WHERE j.id = ?{self._dialect.lock_row}", (job_id,)).fetchone() is None:
            raise JobNotFound(job_id)

    def _record(self, db: Connection, row: Sequence[Any]) -> JobRecord:
        """The record of a row of :meth:`_select_job` (id, data, outputs)."""
        data = _document(row[1])
        if self._dialect.outputs is None:
            read = db.execute("SELECT data FROM outputs WHERE job_id = ? ORDER BY seq", (row[0],)).fetchall()
            data["outputs"] = [_document(output[0]) for output in read]
        else:
            data["outputs"] = row[2]
        return JobRecord.model_validate(data)

    def _upsert_output(self, *, seq: str) -> str:
        return upsert("outputs", ("job_id", "seq", "url", "data"), key=("job_id", "url"),
                      values=("?", seq, "?", self._dialect.json))


def _column_values(record: JobRecord) -> tuple[Any, ...]:
    """The values of ``_INDEXED``, then ``data``: the record as JSON (its outputs have their own rows)."""
    return (record.account_key, record.state.value, record.request_key, record.spec.batch_id, record.hash,
            record.created_at, record.updated_at, record.model_dump_json(exclude={"outputs"}))


def _document(value: Any) -> Any:
    """A JSON column as Python: SQLite gives the text, psycopg the parsed document."""
    return json.loads(value) if isinstance(value, str | bytes) else value
