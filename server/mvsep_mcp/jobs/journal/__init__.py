"""The job journal: every job committed before anything is sent to MVSep, behind one interface and two databases.

- :class:`JobJournal` (``interface``): what the runner needs, a ``typing.Protocol``.
- ``SqlJournal`` (``sql``): every statement and all the logic, written once over a small ``Dialect`` (``dialect``:
  what SQLite and PostgreSQL spell differently, connections and one transaction helper); hosted mode's rows
  (``linked``) on the same footing.
- :class:`SqliteJournal` (``sqlite``): one file, the default (stdio users, one machine). ``Journal`` is its old name.
- ``PostgresJournal`` (``postgres``, the ``[postgres]`` extra): one database shared by replicas, chosen by
  ``MVSEP_DATABASE_URL``; imported only when asked for, so psycopg stays optional.
- ``migrations``: the numbered schema steps of both; ``keys``: job ids and request keys; ``salvage``: a damaged
  SQLite file set aside.

``open_journal(database_url, path)`` picks the backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from mvsep_mcp.jobs.errors import JournalUnavailable
from mvsep_mcp.jobs.journal.interface import JobJournal, newest_reusable
from mvsep_mcp.jobs.journal.keys import new_job_id, request_key, request_key_for
from mvsep_mcp.jobs.journal.migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from mvsep_mcp.jobs.journal.sqlite import SqliteJournal, default_journal_path

Journal = SqliteJournal  # the name every caller used before there were two backends


def open_journal(
    database_url: str | None = None, path: Path | None = None, *, clock: Callable[[], float] = time.time
) -> JobJournal:
    """The PostgreSQL journal at ``database_url`` when one is given, else the SQLite journal at ``path``."""
    if database_url:
        try:
            from mvsep_mcp.jobs.journal.postgres import PostgresJournal
        except ImportError:
            raise JournalUnavailable(
                "MVSEP_DATABASE_URL is set but PostgreSQL support is not installed: install mvsep-mcp[postgres] "
                "(pip install 'mvsep-mcp[postgres]'), or unset MVSEP_DATABASE_URL to use the local SQLite journal."
            ) from None
        return PostgresJournal(database_url, clock=clock)
    return SqliteJournal(path, clock=clock)


__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "JobJournal",
    "Journal",
    "Migration",
    "SqliteJournal",
    "default_journal_path",
    "new_job_id",
    "newest_reusable",
    "open_journal",
    "request_key",
    "request_key_for",
]
