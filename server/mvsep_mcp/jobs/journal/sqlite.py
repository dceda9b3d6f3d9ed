"""The job journal in SQLite: every job in one file, committed before anything is sent to MVSep.

One row per job (indexed columns for queries plus the record as JSON) and one row per committed output file, so a
resumed job never downloads a file twice. WAL mode and a busy timeout let several processes on one machine share the
file; a lock makes one ``SqliteJournal`` safe to use from threads and from the event loop (every call is short).
Times come from ``clock`` (the process's clock; tests pass a fake one), leases included: every process sharing the
file runs on the same machine, so on the same clock.

A file SQLite reports damaged at open (or whose quick integrity check fails) is moved aside with a timestamp and a
fresh journal starts in its place with every row that still reads (:mod:`~mvsep_mcp.jobs.journal.salvage`);
``damage`` then says what happened.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from mvsep_mcp import system
from mvsep_mcp.jobs.errors import JobNotFound
from mvsep_mcp.jobs.journal.interface import REUSABLE_STATES, Order, newest_reusable
from mvsep_mcp.jobs.journal.keys import new_job_id, request_key_for
from mvsep_mcp.jobs.journal.linked import SqliteLinks
from mvsep_mcp.jobs.journal.migrations import MIGRATIONS, SCHEMA_VERSION_TABLE, Migration, pending
from mvsep_mcp.jobs.journal.salvage import Damaged, JournalDamage, is_damage, move_aside, salvage, write_note
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.policy import JOURNAL_BUSY_TIMEOUT_S, JOURNAL_WAL_RETRY_S

log = logging.getLogger(__name__)

def default_journal_path() -> Path:
    """``<user data dir>/mvsep-mcp/journal.sqlite3`` (the folder is created on open)."""
    return Path(platformdirs.user_data_dir("mvsep-mcp", appauthor=False)) / "journal.sqlite3"


def _holder_is_gone(pid: int, host: str) -> bool:
    """True when the lease holder was a process on this machine that no longer runs (POSIX only)."""
    if host != socket.gethostname() or pid == os.getpid() or system.is_windows():
        return False  # another machine, ourselves, or Windows (where os.kill would terminate): trust the expiry
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


class SqliteJournal(SqliteLinks):
    """The SQLite job journal. ``clock`` stamps created/updated times and leases (tests pass a fake one)."""

    def __init__(self, path: Path | None = None, *, clock: Callable[[], float] = time.time,
                 migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self.damage: JournalDamage | None = None  # set when a damaged file was moved aside at open
        with self._lock:
            self._db = self._connect()
            try:
                self._prepare(migrations)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    self._db.close()
                    raise
                self._start_afresh(exc, migrations)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=JOURNAL_BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _prepare(self, migrations: Sequence[Migration]) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {int(JOURNAL_BUSY_TIMEOUT_S * 1000)}")
        self._wal()
        self._db.execute("PRAGMA synchronous = NORMAL")
        verdict = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise Damaged(f"integrity check: {verdict}")
        self._migrate(migrations)

    def _start_afresh(self, exc: sqlite3.DatabaseError, migrations: Sequence[Migration]) -> None:
        """The file is damaged: keep it beside, start a fresh journal and copy in what still reads."""
        self._db.close()
        now = self._clock()
        kept = move_aside(self.path, now)
        self._db = self._connect()
        self._prepare(migrations)
        recovered, unreadable = salvage(kept, self._db)
        self.damage = JournalDamage(journal=str(self.path), kept_as=str(kept), reason=str(exc), at=now,
                                    recovered=recovered, unreadable=unreadable)
        log.warning("%s", self.damage.sentence())
        write_note(self.damage)

    def _wal(self) -> None:
        """Switch the file to WAL. On a new file another process may be migrating it at this moment: SQLite then
        answers "database is locked" at once, without its busy handler (changing the journal mode needs an exclusive
        lock), so the switch is tried again for up to the busy timeout."""
        deadline = time.monotonic() + JOURNAL_BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(JOURNAL_WAL_RETRY_S)

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the migrations this file lacks, in one write transaction (see ``migrations``)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(SCHEMA_VERSION_TABLE)
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            current = 0 if row is None else int(row["version"])
            for migration in pending(current, migrations):
                for statement in migration.sqlite:
                    self._db.execute(statement)
                log.debug("journal %s: applied migration %d (%s)", self.path, migration.version, migration.what)
                current = migration.version
            if row is None:
                self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (current,))
            else:
                self._db.execute("UPDATE schema_version SET version = ? WHERE version < ?", (current, current))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        known = migrations[-1].version if migrations else 0
        if current > known:
            log.warning("journal %s has schema %s, newer than this server's %s", self.path, current, known)

    # --- leases: one runner at a time works on an account's jobs -------------------------------------------------

    def hold_lease(self, account_key: str, owner: str, *, ttl: float) -> bool:
        """Take or renew the right to work on ``account_key``'s jobs; False while another live runner holds it.

        Two server processes can share one journal (Claude Desktop and Claude Code on one machine): only the lease
        holder creates, polls and downloads, so nothing is done twice. A lease lapses ``ttl`` seconds after its last
        renewal, or at once when its holder's process is known to be gone (same host, pid no longer running).
        """
        now = self._clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT owner, pid, host, expires_at FROM leases WHERE account_key = ?",
                                       (account_key,)).fetchone()
                mine = (row is None or row["owner"] == owner or row["expires_at"] < now
                        or _holder_is_gone(row["pid"], row["host"]))
                if mine:
                    self._db.execute(
                        "INSERT OR REPLACE INTO leases (account_key, owner, pid, host, expires_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (account_key, owner, os.getpid(), socket.gethostname(), now + ttl))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return mine

    def release_lease(self, account_key: str, owner: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM leases WHERE account_key = ? AND owner = ?", (account_key, owner))

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------------------------

    def add(self, spec: JobSpec, *, state: JobState = JobState.QUEUED, **fields: Any) -> JobRecord:
        """Record a new job and commit it; returns the record with its fresh id."""
        now = self._clock()
        with self._lock:
            while True:
                job_id = new_job_id()
                if self._db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is None:
                    break
            fields.setdefault("request_key", request_key_for(spec))
            record = JobRecord(id=job_id, spec=spec, state=state, created_at=now, updated_at=now, **fields)
            self._db.execute(
                "INSERT INTO jobs (id, account_key, state, request_key, batch_id, hash, created_at, updated_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, *self._column_values(record), self._blob(record)),
            )
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

        ``change`` computes further fields from the job as it is inside the transaction (to add to a list, say).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                record = self._get_unlocked(job_id)
                if expect is not None and record.state not in set(expect):
                    self._db.execute("ROLLBACK")
                    return None
                data = record.model_dump()
                data.update(fields)
                if change is not None:
                    data.update(change(record))
                data["updated_at"] = self._clock()
                outputs = data.pop("outputs")
                updated = JobRecord.model_validate({**data, "outputs": outputs})
                self._db.execute(
                    "UPDATE jobs SET account_key = ?, state = ?, request_key = ?, batch_id = ?, hash = ?,"
                    " created_at = ?, updated_at = ?, data = ? WHERE id = ?",
                    (*self._column_values(updated), self._blob(updated), job_id),
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return updated

    def record_output(self, job_id: str, output: OutputFile) -> JobRecord:
        """Commit one downloaded file of a job (idempotent per URL)."""
        with self._lock:
            seq = self._db.execute("SELECT COUNT(*) FROM outputs WHERE job_id = ?", (job_id,)).fetchone()[0]
            self._db.execute(
                "INSERT OR REPLACE INTO outputs (job_id, seq, url, data) VALUES (?, ?, ?, ?)",
                (job_id, seq, output.url, output.model_dump_json()),
            )
            self._db.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (self._clock(), job_id))
            return self._get_unlocked(job_id)

    def set_outputs(self, job_id: str, outputs: Iterable[OutputFile]) -> JobRecord:
        """Replace a job's outputs at once (a job completed by pointing at another job's files)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM outputs WHERE job_id = ?", (job_id,))
            for seq, output in enumerate(outputs):
                self._db.execute("INSERT OR REPLACE INTO outputs (job_id, seq, url, data) VALUES (?, ?, ?, ?)",
                                 (job_id, seq, output.url, output.model_dump_json()))
            self._db.execute("COMMIT")
            return self._get_unlocked(job_id)

    # --- reading -----------------------------------------------------------------------------------------------

    def get(self, job_id: str, account_key: str | None = None) -> JobRecord:
        """The job with that id (scoped to ``account_key`` when given); raises ``JobNotFound``."""
        with self._lock:
            record = self._get_unlocked(job_id)
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
                where.append(f"{column} = ?")
                params.append(value)
        if states is not None:
            wanted = [JobState(s).value for s in states]
            if not wanted:
                return []
            where.append(f"state IN ({', '.join('?' * len(wanted))})")
            params.extend(wanted)
        direction = "DESC" if order == "newest" else "ASC"
        sql = "SELECT * FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY created_at {direction}, rowid {direction}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
            return [self._record_from_row(row) for row in rows]

    def find_reusable(self, account_key: str, request_key: str, now: float) -> JobRecord | None:
        """The newest job of that account and request whose MVSep result should still exist, or ``None``.

        "Should still exist": it has a hash, is active/downloading/completed, and its completion (or, before that, its
        submission) lies within ``RESULT_RETENTION_HOURS`` of ``now``.
        """
        return newest_reusable(self.list(account_key, states=REUSABLE_STATES, request_key=request_key), now)

    # --- internals ---------------------------------------------------------------------------------------------

    def _get_unlocked(self, job_id: str) -> JobRecord:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return self._record_from_row(row)

    def _record_from_row(self, row: sqlite3.Row) -> JobRecord:
        data = json.loads(row["data"])
        outputs = self._db.execute("SELECT data FROM outputs WHERE job_id = ? ORDER BY seq", (row["id"],)).fetchall()
        data["outputs"] = [json.loads(o["data"]) for o in outputs]
        return JobRecord.model_validate(data)

    @staticmethod
    def _column_values(record: JobRecord) -> tuple[Any, ...]:
        return (record.account_key, record.state.value, record.request_key, record.spec.batch_id, record.hash,
                record.created_at, record.updated_at)

    @staticmethod
    def _blob(record: JobRecord) -> str:
        return record.model_dump_json(exclude={"outputs"})
