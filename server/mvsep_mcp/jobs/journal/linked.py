"""Hosted mode's rows in the journal's database: each user's linked MVSep account, one-time link tickets, the tokens
kept for unfinished jobs, plus the two reads operations need (jobs by state for metrics, a ping for readiness).

:class:`AccountLinks` is what hosted mode needs; :class:`SqliteLinks` provides it for
:class:`~mvsep_mcp.jobs.journal.sqlite.SqliteJournal` (``linked_postgres.PostgresLinks`` for PostgreSQL), as mixins
over the journal's own connection and lock, so links and jobs live in one database and one backup. The token is
stored only sealed (``mvsep_mcp.hosted.vault``); a ticket only as its SHA-256.

A kept token (``job_tokens``, one per journal account key) is the sealed token of an account whose jobs have not all
ended, whatever way its token came (linked, or sent per request): any replica can then finish those jobs. It is no
linked account (a request never finds its account through it) and is dropped once the account has no unfinished job.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mvsep_mcp.jobs.models import NON_TERMINAL_STATES

UNFINISHED = tuple(sorted(s.value for s in NON_TERMINAL_STATES))


@dataclass(frozen=True)
class LinkedAccount:
    user_key: str
    account_key: str
    sealed_token: str
    linked_at: float


@dataclass(frozen=True)
class LinkTicket:
    user_key: str
    shown_as: str  # the user as the authorization server named them when the ticket was made


@dataclass(frozen=True)
class KeptToken:
    user_key: str
    account_key: str
    sealed_token: str
    kept_at: float


class AccountLinks(Protocol):
    def link_account(self, user_key: str, account_key: str, sealed_token: str) -> None:
        """Store (or replace) the user's linked account."""
        ...

    def linked_account(self, user_key: str) -> LinkedAccount | None: ...

    def unlink_account(self, user_key: str) -> bool: ...

    def linked_with_unfinished_jobs(self) -> list[LinkedAccount]:
        """Linked accounts that have jobs not yet ended (for a replica to take them over)."""
        ...

    def keep_job_token(self, user_key: str, account_key: str, sealed_token: str) -> None:
        """Keep (or refresh) the sealed token of an account about to record jobs."""
        ...

    def kept_with_unfinished_jobs(self) -> list[KeptToken]:
        """Kept tokens whose accounts have jobs not yet ended (for a replica to take them over)."""
        ...

    def drop_job_tokens(self, grace_s: float) -> int:
        """Forget every kept token kept more than ``grace_s`` ago (on the journal's clock: the database's for a
        shared one) whose account has no unfinished job; how many."""
        ...

    def add_link_ticket(self, ticket_hash: str, user_key: str, expires_at: float, shown_as: str = "") -> None:
        """Store a one-time ticket (and forget expired ones)."""
        ...

    def link_ticket(self, ticket_hash: str) -> LinkTicket | None:
        """A ticket that is still valid, without using it up."""
        ...

    def take_link_ticket(self, ticket_hash: str) -> str | None:
        """Use a valid ticket up, atomically (of two callers, one gets the user and the other ``None``), and with it
        every other ticket of its user: one link used revokes the others."""
        ...

    def count_by_state(self) -> dict[str, int]: ...

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        ...


def _sqlite_unfinished_jobs(alias: str) -> str:
    """``EXISTS``: the account of row ``alias`` has a job not yet ended (parameters: ``UNFINISHED``)."""
    return (f"EXISTS (SELECT 1 FROM jobs j WHERE j.account_key = {alias}.account_key"
            f" AND j.state IN ({', '.join('?' * len(UNFINISHED))}))")


class SqliteLinks:
    _db: sqlite3.Connection
    _lock: threading.RLock
    _clock: Callable[[], float]

    def link_account(self, user_key: str, account_key: str, sealed_token: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO linked_accounts (user_key, account_key, sealed_token, linked_at)"
                             " VALUES (?, ?, ?, ?)", (user_key, account_key, sealed_token, self._clock()))

    def linked_account(self, user_key: str) -> LinkedAccount | None:
        with self._lock:
            row = self._db.execute("SELECT user_key, account_key, sealed_token, linked_at FROM linked_accounts"
                                   " WHERE user_key = ?", (user_key,)).fetchone()
        return LinkedAccount(*tuple(row)) if row is not None else None

    def unlink_account(self, user_key: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM linked_accounts WHERE user_key = ?", (user_key,)).rowcount > 0

    def linked_with_unfinished_jobs(self) -> list[LinkedAccount]:
        with self._lock:
            rows = self._db.execute(
                "SELECT l.user_key, l.account_key, l.sealed_token, l.linked_at FROM linked_accounts l WHERE "
                + _sqlite_unfinished_jobs("l"), UNFINISHED).fetchall()
        return [LinkedAccount(*tuple(row)) for row in rows]

    def keep_job_token(self, user_key: str, account_key: str, sealed_token: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO job_tokens (account_key, user_key, sealed_token, kept_at)"
                             " VALUES (?, ?, ?, ?)", (account_key, user_key, sealed_token, self._clock()))

    def kept_with_unfinished_jobs(self) -> list[KeptToken]:
        with self._lock:
            rows = self._db.execute(
                "SELECT k.user_key, k.account_key, k.sealed_token, k.kept_at FROM job_tokens k WHERE "
                + _sqlite_unfinished_jobs("k"), UNFINISHED).fetchall()
        return [KeptToken(*tuple(row)) for row in rows]

    def drop_job_tokens(self, grace_s: float) -> int:
        kept_before = self._clock() - grace_s
        with self._lock:
            return int(self._db.execute(
                "DELETE FROM job_tokens WHERE kept_at < ? AND NOT " + _sqlite_unfinished_jobs("job_tokens"),
                (kept_before, *UNFINISHED)).rowcount)

    def add_link_ticket(self, ticket_hash: str, user_key: str, expires_at: float, shown_as: str = "") -> None:
        with self._lock:
            self._db.execute("DELETE FROM link_tickets WHERE expires_at < ?", (self._clock(),))
            self._db.execute("INSERT INTO link_tickets (ticket_hash, user_key, expires_at, shown_as)"
                             " VALUES (?, ?, ?, ?)", (ticket_hash, user_key, expires_at, shown_as))

    def link_ticket(self, ticket_hash: str) -> LinkTicket | None:
        with self._lock:
            row = self._db.execute("SELECT user_key, shown_as FROM link_tickets WHERE ticket_hash = ?"
                                   " AND expires_at >= ?", (ticket_hash, self._clock())).fetchone()
        return LinkTicket(str(row[0]), str(row[1])) if row is not None else None

    def take_link_ticket(self, ticket_hash: str) -> str | None:
        with self._lock:
            row = self._db.execute("DELETE FROM link_tickets WHERE ticket_hash = ? AND expires_at >= ?"
                                   " RETURNING user_key", (ticket_hash, self._clock())).fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM link_tickets WHERE user_key = ?", (row[0],))
        return str(row[0])

    def count_by_state(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def ping(self) -> None:
        with self._lock:
            self._db.execute("SELECT 1").fetchone()
