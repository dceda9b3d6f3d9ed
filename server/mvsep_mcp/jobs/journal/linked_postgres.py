"""Hosted mode's rows in PostgreSQL (see ``linked``): the same statements as SQLite's, on the journal's pool."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from mvsep_mcp.jobs.journal.linked import UNFINISHED, KeptToken, LinkedAccount, LinkTicket

_SELECT = "SELECT user_key, account_key, sealed_token, linked_at FROM linked_accounts"
# the account of row k (or l) has a job not yet ended (parameter: the UNFINISHED states as a list)
_UNFINISHED_JOBS = "EXISTS (SELECT 1 FROM jobs j WHERE j.account_key = {alias}.account_key AND j.state = ANY(%s))"


class PostgresLinks:
    _clock: Callable[[], float]

    def _connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        raise NotImplementedError  # the journal's pooled connection

    def link_account(self, user_key: str, account_key: str, sealed_token: str) -> None:
        with self._connection() as conn:
            conn.execute(
                "INSERT INTO linked_accounts (user_key, account_key, sealed_token, linked_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (user_key) DO UPDATE SET account_key = EXCLUDED.account_key,"
                " sealed_token = EXCLUDED.sealed_token, linked_at = EXCLUDED.linked_at",
                (user_key, account_key, sealed_token, self._clock()))

    def linked_account(self, user_key: str) -> LinkedAccount | None:
        with self._connection() as conn:
            row = conn.execute(_SELECT + " WHERE user_key = %s", (user_key,)).fetchone()
        return LinkedAccount(*row) if row is not None else None

    def unlink_account(self, user_key: str) -> bool:
        with self._connection() as conn:
            return conn.execute("DELETE FROM linked_accounts WHERE user_key = %s", (user_key,)).rowcount > 0

    def linked_with_unfinished_jobs(self) -> list[LinkedAccount]:
        with self._connection() as conn:
            rows = conn.execute(
                _SELECT + " l WHERE " + _UNFINISHED_JOBS.format(alias="l"), (list(UNFINISHED),)).fetchall()
        return [LinkedAccount(*row) for row in rows]

    def keep_job_token(self, user_key: str, account_key: str, sealed_token: str) -> None:
        with self._connection() as conn:
            conn.execute(
                # kept_at on the database's clock, as the sweep of any replica compares it (clocks of replicas drift)
                "INSERT INTO job_tokens (account_key, user_key, sealed_token, kept_at)"
                " VALUES (%s, %s, %s, extract(epoch from now()))"
                " ON CONFLICT (account_key) DO UPDATE SET user_key = EXCLUDED.user_key,"
                " sealed_token = EXCLUDED.sealed_token, kept_at = EXCLUDED.kept_at",
                (account_key, user_key, sealed_token))

    def kept_with_unfinished_jobs(self) -> list[KeptToken]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT k.user_key, k.account_key, k.sealed_token, k.kept_at FROM job_tokens k WHERE "
                + _UNFINISHED_JOBS.format(alias="k"), (list(UNFINISHED),)).fetchall()
        return [KeptToken(*row) for row in rows]

    def drop_job_tokens(self, grace_s: float) -> int:
        with self._connection() as conn:
            return int(conn.execute(
                "DELETE FROM job_tokens k WHERE k.kept_at < extract(epoch from now()) - %s AND NOT "
                + _UNFINISHED_JOBS.format(alias="k"), (grace_s, list(UNFINISHED))).rowcount)

    def add_link_ticket(self, ticket_hash: str, user_key: str, expires_at: float, shown_as: str = "") -> None:
        with self._connection() as conn, conn.transaction():
            conn.execute("DELETE FROM link_tickets WHERE expires_at < %s", (self._clock(),))
            conn.execute("INSERT INTO link_tickets (ticket_hash, user_key, expires_at, shown_as)"
                         " VALUES (%s, %s, %s, %s)", (ticket_hash, user_key, expires_at, shown_as))

    def link_ticket(self, ticket_hash: str) -> LinkTicket | None:
        with self._connection() as conn:
            row = conn.execute("SELECT user_key, shown_as FROM link_tickets WHERE ticket_hash = %s"
                               " AND expires_at >= %s", (ticket_hash, self._clock())).fetchone()
        return LinkTicket(str(row[0]), str(row[1])) if row is not None else None

    def take_link_ticket(self, ticket_hash: str) -> str | None:
        with self._connection() as conn, conn.transaction():
            row = conn.execute("DELETE FROM link_tickets WHERE ticket_hash = %s AND expires_at >= %s"
                               " RETURNING user_key", (ticket_hash, self._clock())).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM link_tickets WHERE user_key = %s", (row[0],))
        return str(row[0])

    def count_by_state(self) -> dict[str, int]:
        with self._connection() as conn:
            rows = conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def ping(self) -> None:
        with self._connection() as conn:
            conn.execute("SELECT 1").fetchone()
