"""What only the PostgreSQL journal does: its schema, its URL kept secret, a lost connection, choosing the backend.

(Everything both backends share is in test_journal.py, test_shared_journal.py and the runner tests, which run on both.)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from mvsep_mcp.jobs import JobSpec, JournalUnavailable, SqliteJournal, open_journal
from mvsep_mcp.jobs.journal import SCHEMA_VERSION
from mvsep_mcp.jobs.journal.postgres import PostgresJournal
from mvsep_mcp.logs import redact, redacted_url

WRONG_PASSWORD = "not-the-password-4711"


def spec(tmp_path: Path) -> JobSpec:
    return JobSpec(account_key="acct", base_url="https://mvsep.com/api", input_path="/x/song.flac", sep_type=40,
                   output_root=str(tmp_path), input_sha256="ab" * 32)


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{parts.username}:{password}@{parts.hostname}:{parts.port}", parts.path, "", ""))


def test_schema(postgres_url: str) -> None:
    PostgresJournal(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"jobs", "outputs", "leases", "schema_version", "linked_accounts", "link_tickets",
                "job_tokens"} <= tables
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'jobs'")}
        assert {"jobs_account", "jobs_account_state", "jobs_request", "jobs_hash"} <= indexes
        kinds = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns"
                                  " WHERE table_name = 'leases'").fetchall())
        assert kinds["expires_at"] == "timestamp with time zone"  # the database's clock, not a replica's


def test_the_password_is_never_shown(postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = with_password(postgres_url, WRONG_PASSWORD)
    with pytest.raises(JournalUnavailable) as raised:
        PostgresJournal(wrong, connect_timeout=1.0)
    text = raised.value.user_text()
    assert "cannot be reached" in text and "MVSEP_DATABASE_URL" in text
    assert f"{urlsplit(wrong).username}:***@127.0.0.1" in text and WRONG_PASSWORD not in text
    assert WRONG_PASSWORD not in caplog.text  # libpq never says it
    assert redact(f"x {WRONG_PASSWORD} y") == "x *** y"  # and the log filter would hide it if anything did
    real_password = urlsplit(postgres_url).password or ""
    with PostgresJournal(postgres_url) as journal:
        assert real_password not in repr(journal) and "***" in repr(journal)
        assert real_password not in journal.where


def test_a_lost_connection_is_a_sentence_and_the_next_call_reconnects(tmp_path: Path, postgres_url: str) -> None:
    with PostgresJournal(postgres_url) as journal:
        record = journal.add(spec(tmp_path))
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        errors: list[str] = []
        for _ in range(3):
            try:
                assert journal.get(record.id).id == record.id
                break
            except JournalUnavailable as exc:  # the call that found its connection dead
                errors.append(exc.user_text())
        else:
            pytest.fail(f"the journal did not reconnect: {errors}")
        assert len(errors) <= 1
        assert all("is not answering" in e and (urlsplit(postgres_url).password or "") not in e for e in errors)


def test_open_journal_picks_the_backend(tmp_path: Path, postgres_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    local = open_journal(None, tmp_path / "j.sqlite3")
    assert isinstance(local, SqliteJournal)
    local.close()
    shared = open_journal(postgres_url, tmp_path / "unused.sqlite3")
    assert isinstance(shared, PostgresJournal)
    shared.close()
    assert not (tmp_path / "unused.sqlite3").exists()
    monkeypatch.setitem(sys.modules, "mvsep_mcp.jobs.journal.postgres", None)  # as without the [postgres] extra
    with pytest.raises(JournalUnavailable, match=r"mvsep-mcp\[postgres\]"):
        open_journal(postgres_url)


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://app:s3cr%40t@db:5432/mvsep", "postgresql://app:***@db:5432/mvsep"),
    ("postgresql://app@db/mvsep", "postgresql://app@db/mvsep"),
    ("postgresql://db/mvsep?password=s3cret&sslmode=require", "postgresql://db/mvsep?***"),
])
def test_redacted_url(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
