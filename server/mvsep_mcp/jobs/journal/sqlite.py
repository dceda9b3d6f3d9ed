"""The job journal in SQLite: every job in one file, committed before anything is sent to MVSep.

The statements and logic are :class:`~mvsep_mcp.jobs.journal.sql.SqlJournal`'s; this module opens the file and keeps
what is SQLite's own. WAL mode and a busy timeout let several processes on one machine share the file; a write
transaction takes the file's write lock at once (``BEGIN IMMEDIATE``), which also serialises migrations; a lock makes
one ``SqliteJournal`` safe to use from threads and from the event loop (every call is short). Times come from
``clock`` (the process's clock; tests pass a fake one), leases included: every process sharing the file runs on the
same machine, so on the same clock.

A file SQLite reports damaged at open (or whose quick integrity check fails) is moved aside with a timestamp and a
fresh journal starts in its place with every row that still reads (:mod:`~mvsep_mcp.jobs.journal.salvage`);
``damage`` then says what happened.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from mvsep_mcp import system
from mvsep_mcp.jobs.journal.dialect import Connection, Dialect, upsert
from mvsep_mcp.jobs.journal.migrations import MIGRATIONS, Migration
from mvsep_mcp.jobs.journal.salvage import Damaged, JournalDamage, is_damage, move_aside, salvage, write_note
from mvsep_mcp.jobs.journal.sql import SqlJournal
from mvsep_mcp.policy import JOURNAL_BUSY_TIMEOUT_S, JOURNAL_WAL_RETRY_S

log = logging.getLogger(__name__)

SQLITE = Dialect(name="sqlite", json="?", arrays=False, row_order="rowid", lock_row="", outputs=None, now=None)


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


class SqliteJournal(SqlJournal):
    """The SQLite job journal. ``clock`` stamps created/updated times and leases (tests pass a fake one)."""

    _dialect = SQLITE

    def __init__(self, path: Path | None = None, *, clock: Callable[[], float] = time.time,
                 migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.where = str(self.path)
        self._clock = clock
        self._lock = threading.RLock()
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

    # --- leases: one runner at a time works on an account's jobs -------------------------------------------------

    def hold_lease(self, account_key: str, owner: str, *, ttl: float) -> bool:
        """Take or renew the right to work on ``account_key``'s jobs; False while another live runner holds it.

        Two server processes can share one journal (Claude Desktop and Claude Code on one machine): only the lease
        holder creates, polls and downloads, so nothing is done twice. A lease lapses ``ttl`` seconds after its last
        renewal, or at once when its holder's process is known to be gone (same host, pid no longer running).
        """
        now = self._clock()
        with self._transaction() as db:
            row = db.execute("SELECT owner, pid, host, expires_at FROM leases WHERE account_key = ?",
                             (account_key,)).fetchone()
            mine = (row is None or row["owner"] == owner or row["expires_at"] < now
                    or _holder_is_gone(row["pid"], row["host"]))
            if mine:
                db.execute(upsert("leases", ("account_key", "owner", "pid", "host", "expires_at"),
                                  key=("account_key",)),
                           (account_key, owner, os.getpid(), socket.gethostname(), now + ttl))
        return mine

    # --- connections ------------------------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with self._lock:
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """``BEGIN IMMEDIATE``: the file's write lock from the start, so every other process waits (busy timeout)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed statement may have ended it already
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()
