"""Hosted mode's rows in the journal's database: each user's linked MVSep account, one-time link tickets, the tokens
kept for unfinished jobs, plus the two reads operations need (jobs by state for metrics, a ping for readiness).

:class:`AccountLinks` is what hosted mode needs; :class:`SqlLinks` provides it for both backends of the journal, as
a base of :class:`~mvsep_mcp.jobs.journal.sql.SqlJournal` over its own connections and dialect, so links and jobs
live in one database and one backup. The token is stored only sealed (``mvsep_mcp.hosted.vault``); a ticket only as
its SHA-256. A kept token's time is on the database's clock where the dialect has one (replicas' clocks drift, and
the sweep of any replica compares it); the rest on the journal's ``clock``.

A kept token (``job_tokens``, one per journal account key) is the sealed token of an account whose jobs have not all
ended, whatever way its token came (linked, or sent per request): any replica can then finish those jobs. It is no
linked account (a request never finds its account through it) and is dropped once the account has no unfinished job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mvsep_mcp.jobs.journal.dialect import SqlDatabase, upsert
from mvsep_mcp.jobs.models import NON_TERMINAL_STATES

UNFINISHED = tuple(sorted(s.value for s in NON_TERMINAL_STATES))

_SELECT_LINKED = "SELECT user_key, account_key, sealed_token, linked_at FROM linked_accounts"


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


class SqlLinks(SqlDatabase):
    """:class:`AccountLinks` in SQL, on the journal's connections (see :mod:`~mvsep_mcp.jobs.journal.dialect`)."""

    def link_account(self, user_key: str, account_key: str, sealed_token: str) -> None:
        with self._connection() as db:
            db.execute(upsert("linked_accounts", ("user_key", "account_key", "sealed_token", "linked_at"),
                              key=("user_key",)), (user_key, account_key, sealed_token, self._clock()))

    def linked_account(self, user_key: str) -> LinkedAccount | None:
        with self._connection() as db:
            row = db.execute(_SELECT_LINKED + " WHERE user_key = ?", (user_key,)).fetchone()
        return LinkedAccount(*row) if row is not None else None

    def unlink_account(self, user_key: str) -> bool:
        with self._connection() as db:
            return db.execute("DELETE FROM linked_accounts WHERE user_key = ?", (user_key,)).rowcount > 0

    def linked_with_unfinished_jobs(self) -> list[LinkedAccount]:
        unfinished, params = self._unfinished_jobs("l")
        with self._connection() as db:
            rows = db.execute(_SELECT_LINKED + " l WHERE " + unfinished, params).fetchall()
        return [LinkedAccount(*row) for row in rows]

    def keep_job_token(self, user_key: str, account_key: str, sealed_token: str) -> None:
        now, at = self._now()
        with self._connection() as db:
            db.execute(upsert("job_tokens", ("account_key", "user_key", "sealed_token", "kept_at"),
                              key=("account_key",), values=("?", "?", "?", now)),
                       (account_key, user_key, sealed_token, *at))

    def kept_with_unfinished_jobs(self) -> list[KeptToken]:
        unfinished, params = self._unfinished_jobs("k")
        with self._connection() as db:
            rows = db.execute("SELECT k.user_key, k.account_key, k.sealed_token, k.kept_at FROM job_tokens k WHERE "
                              + unfinished, params).fetchall()
        return [KeptToken(*row) for row in rows]

    def drop_job_tokens(self, grace_s: float) -> int:
        now, at = self._now()
        unfinished, params = self._unfinished_jobs("job_tokens")
        with self._connection() as db:
            return int(db.execute(f"DELETE FROM job_tokens WHERE kept_at < {now} - ? AND NOT " + unfinished,
                                  (*at, grace_s, *params)).rowcount)

    def add_link_ticket(self, ticket_hash: str, user_key: str, expires_at: float, shown_as: str = "") -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM link_tickets WHERE expires_at < ?", (self._clock(),))
            db.execute("INSERT INTO link_tickets (ticket_hash, user_key, expires_at, shown_as) VALUES (?, ?, ?, ?)",
                       (ticket_hash, user_key, expires_at, shown_as))

    def link_ticket(self, ticket_hash: str) -> LinkTicket | None:
        with self._connection() as db:
            row = db.execute("SELECT user_key, shown_as FROM link_tickets WHERE ticket_hash = ? AND expires_at >= ?",
                             (ticket_hash, self._clock())).fetchone()
        return LinkTicket(str(row[0]), str(row[1])) if row is not None else None

    def take_link_ticket(self, ticket_hash: str) -> str | None:
        with self._transaction() as db:
            taken = db.execute("DELETE FROM link_tickets WHERE ticket_hash = ? AND expires_at >= ? RETURNING user_key",
                               (ticket_hash, self._clock())).fetchall()
            if not taken:
                return None
            user_key = str(taken[0][0])
            db.execute("DELETE FROM link_tickets WHERE user_key = ?", (user_key,))
        return user_key

    def count_by_state(self) -> dict[str, int]:
        with self._connection() as db:
            rows = db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def ping(self) -> None:
        with self._connection() as db:
            db.execute("SELECT 1").fetchone()

    def _unfinished_jobs(self, alias: str) -> tuple[str, list[Any]]:
        """``EXISTS``: the account of row ``alias`` has a job not yet ended; and its parameters."""
        state, params = self._dialect.one_of("j.state", UNFINISHED)
        return f"EXISTS (SELECT 1 FROM jobs j WHERE j.account_key = {alias}.account_key AND {state})", params
