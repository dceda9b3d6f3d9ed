"""Two server processes on one journal (Claude Desktop and Claude Code on one machine, or replicas on one PostgreSQL
database): one works, none twice. Every test here runs on both backends unless it says otherwise."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from mvsep_mcp.jobs import JobRunner, JobState, Journal

from tests.audio_factory import Song
from tests.conftest import OpenJournal
from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, FAST, finish, input_file, make_spec, no_sessions, running

SHORT_TTL = 0.2  # a holder that renews with this and then goes silent has lapsed once we slept longer


def test_lease_is_exclusive_until_released_or_expired(open_journal: OpenJournal) -> None:
    first, second = open_journal(), open_journal()
    assert first.hold_lease(ACCOUNT, "a", ttl=30)
    assert not second.hold_lease(ACCOUNT, "b", ttl=30)
    assert first.hold_lease(ACCOUNT, "a", ttl=30)  # renewal
    assert second.hold_lease("other-account", "b", ttl=30)  # leases are per account
    second.release_lease(ACCOUNT, "b")  # not its lease: nothing happens
    assert not second.hold_lease(ACCOUNT, "b", ttl=30)
    assert first.hold_lease(ACCOUNT, "a", ttl=SHORT_TTL)  # the last renewal before it went silent
    time.sleep(SHORT_TTL * 2)
    assert second.hold_lease(ACCOUNT, "b", ttl=30)  # lapsed
    assert not first.hold_lease(ACCOUNT, "a", ttl=30)
    second.release_lease(ACCOUNT, "b")
    assert first.hold_lease(ACCOUNT, "a", ttl=30)


def test_lease_lapses_on_the_journal_clock(tmp_path: Path) -> None:
    """SQLite: leases follow the journal's clock (one machine, one clock)."""
    now = [1000.0]
    first = Journal(tmp_path / "j.sqlite3", clock=lambda: now[0])
    second = Journal(tmp_path / "j.sqlite3", clock=lambda: now[0])
    assert first.hold_lease(ACCOUNT, "a", ttl=30)
    assert not second.hold_lease(ACCOUNT, "b", ttl=30)
    now[0] += 31
    assert second.hold_lease(ACCOUNT, "b", ttl=30)


def test_replicas_with_skewed_clocks_agree_on_the_lease(postgres_url: str) -> None:
    """PostgreSQL: leases follow the database's clock, so a replica whose clock runs a day ahead cannot think the
    holder's lease has expired (nor one a day behind keep its own alive)."""
    from mvsep_mcp.jobs.journal.postgres import PostgresJournal

    day = 86_400.0
    with PostgresJournal(postgres_url, clock=lambda: time.time() - day) as behind, \
            PostgresJournal(postgres_url, clock=lambda: time.time() + day) as ahead:
        assert behind.hold_lease(ACCOUNT, "behind", ttl=30)
        assert not ahead.hold_lease(ACCOUNT, "ahead", ttl=30)
        assert behind.hold_lease(ACCOUNT, "behind", ttl=SHORT_TTL)
        time.sleep(SHORT_TTL * 2)
        assert ahead.hold_lease(ACCOUNT, "ahead", ttl=30)
        assert not behind.hold_lease(ACCOUNT, "behind", ttl=30)


def test_lease_of_a_dead_replica_waits_for_its_ttl(postgres_url: str) -> None:
    """PostgreSQL: a pid means nothing across machines or containers, so a lease is taken over only once it lapsed."""
    from mvsep_mcp.jobs.journal.postgres import PostgresJournal

    with PostgresJournal(postgres_url) as journal:
        with journal._pool.connection() as conn:  # noqa: SLF001 - plant a lease as a killed replica would leave it
            conn.execute("INSERT INTO leases VALUES (%s, 'killed', %s, %s, now() + interval '1 hour')",
                         (ACCOUNT, 2**22 + 12345, socket.gethostname()))
        assert not journal.hold_lease(ACCOUNT, "new", ttl=30)
        with journal._pool.connection() as conn:  # noqa: SLF001 - its ttl ran out
            conn.execute("UPDATE leases SET expires_at = now() - interval '1 second'")
        assert journal.hold_lease(ACCOUNT, "new", ttl=30)


def test_lease_of_a_dead_process_is_taken_over_at_once(tmp_path: Path) -> None:
    """SQLite: every process sharing the file is on this machine, so a holder whose pid is gone is known dead."""
    journal = Journal(tmp_path / "j.sqlite3")
    dead_pid = 2**22 + 12345  # above any pid the kernel hands out by default
    with journal._lock:  # noqa: SLF001 - plant a lease as a killed process would leave it
        journal._db.execute("INSERT INTO leases VALUES (?, ?, ?, ?, ?)",
                            (ACCOUNT, "killed", dead_pid, socket.gethostname(), journal._clock() + 3600))
    if os.name != "nt":
        assert journal.hold_lease(ACCOUNT, "new", ttl=30)


async def test_second_runner_on_the_same_journal_does_not_duplicate_work(
        tmp_path: Path, open_journal: OpenJournal) -> None:
    fake = FakeMVSep()
    first = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    second = JobRunner(open_journal(), sessions_after_job=no_sessions, **FAST)
    await first.attach_account(ACCOUNT, fake)
    await second.attach_account(ACCOUNT, fake)
    async with running(first), running(second):
        # submitted through the runner that does not hold the lease: the holder does the work
        inputs = [input_file(tmp_path, name=f"Song {i}", seed=i, song=Song(title=f"Song {i}")) for i in range(2)]
        specs = [make_spec(tmp_path, path) for path in inputs]
        records = await second.submit(specs)
        done = await finish(second, records)
    assert [r.state for r in done] == [JobState.COMPLETED, JobState.COMPLETED]
    assert fake.create_calls == 2
    assert first.stats.creates_sent + second.stats.creates_sent == 2
    assert min(first.stats.creates_sent, second.stats.creates_sent) == 0  # only one of them worked
    files = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert not [name for name in files if "(2)" in name]  # nothing downloaded twice
