"""Two server processes on one journal (Claude Desktop and Claude Code on one machine): one works, none twice."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from mvsep_mcp.jobs import JobRunner, JobState, Journal

from tests.audio_factory import Song
from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import ACCOUNT, FAST, finish, input_file, make_spec, running


def test_lease_is_exclusive_until_released_or_expired(tmp_path: Path) -> None:
    now = [1000.0]
    first = Journal(tmp_path / "j.sqlite3", clock=lambda: now[0])
    second = Journal(tmp_path / "j.sqlite3", clock=lambda: now[0])
    assert first.hold_lease(ACCOUNT, "a", ttl=30)
    assert not second.hold_lease(ACCOUNT, "b", ttl=30)
    assert first.hold_lease(ACCOUNT, "a", ttl=30)  # renewal
    assert second.hold_lease("other-account", "b", ttl=30)  # leases are per account
    now[0] += 31
    assert second.hold_lease(ACCOUNT, "b", ttl=30)  # lapsed
    assert not first.hold_lease(ACCOUNT, "a", ttl=30)
    second.release_lease(ACCOUNT, "b")
    assert first.hold_lease(ACCOUNT, "a", ttl=30)


def test_lease_of_a_dead_process_is_taken_over_at_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    dead_pid = 2**22 + 12345  # above any pid the kernel hands out by default
    with journal._lock:  # noqa: SLF001 - plant a lease as a killed process would leave it
        journal._db.execute("INSERT INTO leases VALUES (?, ?, ?, ?, ?)",
                            (ACCOUNT, "killed", dead_pid, socket.gethostname(), journal._clock() + 3600))
    if os.name != "nt":
        assert journal.hold_lease(ACCOUNT, "new", ttl=30)


async def test_second_runner_on_the_same_journal_does_not_duplicate_work(tmp_path: Path) -> None:
    fake = FakeMVSep()
    first = JobRunner(Journal(tmp_path / "journal.sqlite3"), **FAST)
    second = JobRunner(Journal(tmp_path / "journal.sqlite3"), **FAST)
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
