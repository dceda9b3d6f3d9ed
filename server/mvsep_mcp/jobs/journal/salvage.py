"""A damaged SQLite journal is moved aside, not fatal: a fresh journal starts, and every row that still reads is kept.

"Damaged" means SQLite itself says so (``SQLITE_CORRUPT``: "database disk image is malformed", ``SQLITE_NOTADB``:
"file is not a database"), or the quick integrity check at open finds a fault. Then:

1. :func:`move_aside` renames the file (with its ``-wal`` and ``-shm``, which may hold its newest pages) to
   ``<name>.damaged-<YYYYmmdd-HHMMSS>.sqlite3`` beside it: kept, never deleted;
2. the caller opens a fresh journal at the old name;
3. :func:`salvage` copies in what still reads. SQLite's own ``.recover`` (the shell's dbdata extension) is not in
   Python's standard library, so this does what the stdlib allows: it opens a working copy of the damaged file (its
   header made to count the pages a cut file really has, which SQLite otherwise refuses at once) and reads each
   table the fresh journal knows (jobs, their outputs, hosted mode's linked accounts, tickets and kept tokens) by
   ``rowid`` ranges, halving a range that fails down to single rows (and, when a table's right edge is gone with a
   cut file, forward chunk by chunk). Every row that reads and still makes sense (a job or output record that
   validates) is copied; the rest are lost, and the sentence says so. Leases are not kept (they are taken afresh
   within seconds);
4. :class:`JournalDamage` says what happened, in one sentence (logged, shown in the first tool answer) and in a JSON
   note beside the kept file (``<kept file>.json``), which ``mvsep-mcp doctor`` reports.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError

from mvsep_mcp.jobs.models import JobRecord, OutputFile
from mvsep_mcp.policy import JOURNAL_SALVAGE_CHUNK_ROWS, JOURNAL_SALVAGE_EMPTY_CHUNKS

log = logging.getLogger(__name__)

_CORRUPT, _NOT_A_DATABASE = 11, 26  # SQLITE_CORRUPT, SQLITE_NOTADB (primary result codes)
_DAMAGE_WORDS = ("malformed", "not a database", "corrupt")
NOTE_SUFFIX = ".json"
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _job_row(row: dict[str, object]) -> None:
    JobRecord.model_validate_json(str(row["data"]))


def _output_row(row: dict[str, object]) -> None:
    OutputFile.model_validate_json(str(row["data"]))


# the tables whose rows are worth keeping, and how a row is checked before it is copied (None: as it is)
SALVAGED_TABLES: dict[str, Callable[[dict[str, object]], None] | None] = {
    "jobs": _job_row, "outputs": _output_row, "linked_accounts": None, "link_tickets": None, "job_tokens": None,
}


class Damaged(sqlite3.DatabaseError):
    """The quick integrity check at open found a fault (SQLite's own damage errors are recognised by their code)."""


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file itself is damaged (not busy, locked, read-only or missing)."""
    if isinstance(exc, Damaged):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_CORRUPT, _NOT_A_DATABASE):
        return True
    return isinstance(exc, sqlite3.DatabaseError) and any(w in str(exc).lower() for w in _DAMAGE_WORDS)


@dataclass(frozen=True)
class JournalDamage:
    """What happened to a damaged journal: where it is kept, why it was set aside, and what was saved from it."""

    journal: str  # the journal's path (a fresh one is there now)
    kept_as: str  # the damaged file, moved aside
    reason: str  # SQLite's words
    at: float  # when (epoch seconds)
    recovered: dict[str, int] = field(default_factory=dict)  # table -> rows copied into the fresh journal
    unreadable: bool = False  # some rows could not be read (a damaged stretch, a cut end, a record that is garbage)

    def sentence(self) -> str:
        jobs = self.recovered.get("jobs", 0)
        if jobs:
            saved = f"{jobs} job(s) recovered" + ("; some rows could not be read" if self.unreadable else "")
        else:
            saved = "nothing in it could be read" if self.unreadable else "it held no job"
        return (f"The job journal {self.journal} was damaged ({self.reason}), so it was moved aside to "
                f"{Path(self.kept_as).name} beside it and a fresh journal started: {saved}. "
                f"A job that was not recovered is no longer followed here; its result stays on MVSep about 72 hours "
                f"(your separation history lists it).")

    @classmethod
    def read(cls, note: Path) -> JournalDamage | None:
        try:
            data = json.loads(note.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None


def move_aside(path: Path, now: float) -> Path:
    """Rename the journal (and its ``-wal``/``-shm``) to ``<stem>.damaged-<stamp><suffix>`` beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    target = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    number = 2
    while target.exists():
        target = path.with_name(f"{path.stem}.damaged-{stamp}-{number}{path.suffix}")
        number += 1
    for extra in ("", "-wal", "-shm"):
        source = Path(f"{path}{extra}")
        if source.exists():
            os.replace(source, Path(f"{target}{extra}"))
    return target


def notes_beside(path: Path) -> list[Path]:
    """The notes of journals set aside at ``path``, oldest first."""
    return sorted(path.parent.glob(f"{path.stem}.damaged-*{path.suffix}{NOTE_SUFFIX}"))


def write_note(damage: JournalDamage) -> None:
    try:
        Path(damage.kept_as + NOTE_SUFFIX).write_text(json.dumps(asdict(damage), indent=2), encoding="utf-8")
    except OSError as exc:  # the sentence is logged and shown anyway
        log.warning("could not write the note beside %s (%s)", damage.kept_as, exc)


def salvage(damaged: Path, fresh: sqlite3.Connection) -> tuple[dict[str, int], bool]:
    """Copy every row of :data:`SALVAGED_TABLES` that still reads from ``damaged`` into ``fresh``; (rows copied per
    table, whether some could not be read). The kept file is never changed: the rows are read from a working copy."""
    recovered: dict[str, int] = {}
    unreadable = False
    with tempfile.TemporaryDirectory(prefix="mvsep-salvage-") as folder:
        source = _working_copy(damaged, Path(folder) / damaged.name)
        if source is None:
            return {}, True
        with closing(source):
            for table, check in SALVAGED_TABLES.items():
                copied, missed = _salvage_table(source, fresh, table, check)
                if copied:
                    recovered[table] = copied
                unreadable = unreadable or missed
    return recovered, unreadable


def _working_copy(damaged: Path, copy: Path) -> sqlite3.Connection | None:
    """A copy of the damaged file (and its WAL) that SQLite agrees to open: a file cut short still says in its header
    how many pages it had, which SQLite takes for damage before reading a single row, so the copy's header counts
    the pages it really has. None when not even that opens."""
    try:
        data = bytearray(damaged.read_bytes())
        if data.startswith(_SQLITE_MAGIC) and len(data) >= 100:
            page_size = int.from_bytes(data[16:18], "big")
            page_size = 65536 if page_size == 1 else page_size
            if page_size >= 512:
                data += bytes(-len(data) % page_size)  # whole pages
                data[28:32] = (len(data) // page_size).to_bytes(4, "big")
        copy.write_bytes(bytes(data))
        wal = Path(f"{damaged}-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{copy}-wal"))
    except OSError:
        return None
    db = sqlite3.connect(copy)
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error:
        db.close()
        return None
    return db


def _salvage_table(source: sqlite3.Connection, fresh: sqlite3.Connection, table: str,
                   check: Callable[[dict[str, object]], None] | None) -> tuple[int, bool]:
    """(rows copied, whether some could not be read). The ``rowid`` bounds come from the table's edges; when its right
    edge is gone (a cut file), the rows are read forward in chunks until several in a row hold nothing."""
    wanted = [row[1] for row in fresh.execute(f"PRAGMA table_info({table})")]
    try:
        have = {row[1] for row in source.execute(f"PRAGMA table_info({table})")}
    except sqlite3.Error:
        return 0, True
    columns = [c for c in wanted if c in have]
    if not columns:
        return 0, False  # a table the damaged journal never had
    low, high, missed = _edge(source, table, "min"), _edge(source, table, "max"), False
    if low is None and high is None and not missed:
        missed = True
    copier = _Copier(source, fresh, table, columns, check)
    fresh.execute("BEGIN IMMEDIATE")
    try:
        if high is not None:
            copier.copy(low if low is not None else 1, high)
        else:  # the right edge cannot be read: forward, chunk by chunk
            first, empty = low if low is not None else 1, 0
            while empty < JOURNAL_SALVAGE_EMPTY_CHUNKS:
                before = copier.copied
                copier.copy(first, first + JOURNAL_SALVAGE_CHUNK_ROWS - 1)
                empty = empty + 1 if copier.copied == before else 0
                first += JOURNAL_SALVAGE_CHUNK_ROWS
        fresh.execute("COMMIT")
    except BaseException:
        fresh.execute("ROLLBACK")
        raise
    return copier.copied, copier.failed or high is None


def _edge(source: sqlite3.Connection, table: str, which: str) -> int | None:
    """The table's lowest or highest ``rowid`` (None: empty, or that edge of its tree cannot be read)."""
    try:
        row = source.execute(f"SELECT {which}(rowid) FROM {table}").fetchone()  # noqa: S608 - our names
    except sqlite3.Error:
        return None
    return int(row[0]) if row and row[0] is not None else None


class _Copier:
    """Copies rows by ``rowid`` range, halving a range that fails down to single rows."""

    def __init__(self, source: sqlite3.Connection, fresh: sqlite3.Connection, table: str, columns: list[str],
                 check: Callable[[dict[str, object]], None] | None) -> None:
        self.source, self.fresh, self.columns, self.check = source, fresh, columns, check
        self.select = f"SELECT {', '.join(columns)} FROM {table} WHERE rowid BETWEEN ? AND ?"  # noqa: S608
        self.insert = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.copied = 0
        self.failed = False

    def copy(self, first: int, last: int) -> None:
        ranges = [(first, last)]
        while ranges:
            start, end = ranges.pop()
            try:
                rows = self.source.execute(self.select, (start, end)).fetchall()
            except sqlite3.Error:
                if start == end:
                    self.failed = True
                else:
                    middle = (start + end) // 2
                    ranges += [(middle + 1, end), (start, middle)]
                continue
            for row in rows:
                if self.check is not None:
                    try:
                        self.check(dict(zip(self.columns, row, strict=True)))
                    except (ValidationError, ValueError):
                        self.failed = True
                        continue
                self.copied += self.fresh.execute(self.insert, row).rowcount
