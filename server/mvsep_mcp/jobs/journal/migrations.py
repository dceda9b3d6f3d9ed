"""The journal's schema as numbered migrations, one per step, each written for SQLite and for PostgreSQL.

A database records the last migration applied in ``schema_version`` (one row). Opening a journal applies every later
migration, in order, inside one transaction that first takes the database's write lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock), so two processes or replicas starting at once apply each migration
exactly once and neither sees a half-made schema. Statements stay idempotent (``IF NOT EXISTS``) as well, so a file
made before ``schema_version`` existed is adopted as it is.

Adding a migration: append ``Migration(N + 1, …)`` with both dialects; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        """This step's statements for the database of that dialect (``sqlite`` or ``postgres``)."""
        return self.sqlite if dialect == "sqlite" else self.postgres


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "jobs (indexed columns plus the record as JSON), their committed output files, and the per-account leases",
        sqlite=(
            """CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY,
                account_key TEXT NOT NULL,
                state TEXT NOT NULL,
                request_key TEXT NOT NULL,
                batch_id TEXT,
                hash TEXT,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                data TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS jobs_account ON jobs (account_key, created_at)",
            "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state)",
            "CREATE INDEX IF NOT EXISTS jobs_request ON jobs (request_key)",
            "CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id)",
            """CREATE TABLE IF NOT EXISTS leases (
                account_key TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                pid INTEGER NOT NULL,
                host TEXT NOT NULL,
                expires_at REAL NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS outputs (
                job_id TEXT NOT NULL REFERENCES jobs (id),
                seq INTEGER NOT NULL,
                url TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (job_id, url)
            )""",
        ),
        postgres=(
            # seq: insertion order, the tie-break of jobs created in the same instant (SQLite's rowid)
            """CREATE TABLE IF NOT EXISTS jobs (
                seq BIGINT GENERATED ALWAYS AS IDENTITY,
                id TEXT PRIMARY KEY,
                account_key TEXT NOT NULL,
                state TEXT NOT NULL,
                request_key TEXT NOT NULL,
                batch_id TEXT,
                hash TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                data JSONB NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS jobs_account ON jobs (account_key, created_at, seq)",
            "CREATE INDEX IF NOT EXISTS jobs_account_state ON jobs (account_key, state)",
            "CREATE INDEX IF NOT EXISTS jobs_request ON jobs (account_key, request_key)",
            "CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id)",
            "CREATE INDEX IF NOT EXISTS jobs_hash ON jobs (account_key, hash)",
            # expires_at is the database's clock (now() + ttl): replicas with skewed clocks agree on who holds a lease
            """CREATE TABLE IF NOT EXISTS leases (
                account_key TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                pid INTEGER NOT NULL,
                host TEXT NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS outputs (
                job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                url TEXT NOT NULL,
                data JSONB NOT NULL,
                PRIMARY KEY (job_id, url)
            )""",
        ),
    ),
    Migration(
        2,
        "hosted mode: each user's linked MVSep account (its token sealed with the server key), one-time link tickets",
        sqlite=(
            """CREATE TABLE IF NOT EXISTS linked_accounts (
                user_key TEXT PRIMARY KEY,
                account_key TEXT NOT NULL,
                sealed_token TEXT NOT NULL,
                linked_at REAL NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS linked_accounts_account ON linked_accounts (account_key)",
            """CREATE TABLE IF NOT EXISTS link_tickets (
                ticket_hash TEXT PRIMARY KEY,
                user_key TEXT NOT NULL,
                expires_at REAL NOT NULL
            )""",
        ),
        postgres=(
            """CREATE TABLE IF NOT EXISTS linked_accounts (
                user_key TEXT PRIMARY KEY,
                account_key TEXT NOT NULL,
                sealed_token TEXT NOT NULL,
                linked_at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS linked_accounts_account ON linked_accounts (account_key)",
            """CREATE TABLE IF NOT EXISTS link_tickets (
                ticket_hash TEXT PRIMARY KEY,
                user_key TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    Migration(
        3,
        "hosted mode: the sealed MVSep token of an account with unfinished jobs (kept while they run, for any replica)",
        sqlite=(
            """CREATE TABLE IF NOT EXISTS job_tokens (
                account_key TEXT PRIMARY KEY,
                user_key TEXT NOT NULL,
                sealed_token TEXT NOT NULL,
                kept_at REAL NOT NULL
            )""",
        ),
        postgres=(
            """CREATE TABLE IF NOT EXISTS job_tokens (
                account_key TEXT PRIMARY KEY,
                user_key TEXT NOT NULL,
                sealed_token TEXT NOT NULL,
                kept_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    Migration(
        4,
        "hosted mode: whom a link ticket was made for, as the authorization server named them (the page shows it)",
        sqlite=("ALTER TABLE link_tickets ADD COLUMN shown_as TEXT NOT NULL DEFAULT ''",),
        postgres=("ALTER TABLE link_tickets ADD COLUMN IF NOT EXISTS shown_as TEXT NOT NULL DEFAULT ''",),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version

SCHEMA_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"

# PostgreSQL: the advisory lock key that serializes migrations between replicas (any fixed signed 64-bit number; this
# one is the first 8 bytes of sha256("mvsep-mcp journal migrations") with the top bit cleared, so no other
# application is likely to pick it)
MIGRATION_LOCK_KEY = 0x07E8_2E5E_9A33_E888


def pending(current: int, migrations: Sequence[Migration] = MIGRATIONS) -> list[Migration]:
    """The migrations after ``current``, in order (checked to be numbered 1, 2, 3, …)."""
    for index, migration in enumerate(migrations, start=1):
        if migration.version != index:
            raise ValueError(f"migration {migration.version} is out of order (expected {index})")
    return [m for m in migrations if m.version > current]
