"""The job journal, on SQLite and on PostgreSQL alike: round trip, reopen, filters, reusable results, outputs,
compare-and-set, migrations; and request keys."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from mvsep_mcp import system
from mvsep_mcp.jobs import JobNotFound, JobSpec, JobState, Journal, OutputFile, request_key, request_key_for
from mvsep_mcp.jobs.journal import MIGRATIONS, SCHEMA_VERSION, JobJournal, Migration, SqliteJournal
from mvsep_mcp.jobs.journal.migrations import pending
from mvsep_mcp.jobs.journal.sqlite import _holder_is_gone
from mvsep_mcp.policy import RESULT_RETENTION_HOURS

from tests.conftest import OpenJournal


def spec(tmp_path: Path, **over: object) -> JobSpec:
    values: dict[str, object] = dict(account_key="acct", base_url="https://mvsep.com/api", input_path="/x/song.flac",
                                     sep_type=40, model_name="BS Roformer", options={"add_opt1": "0"},
                                     output_format=2, output_root=str(tmp_path / "out"), input_sha256="ab" * 32)
    values.update(over)
    return JobSpec.model_validate(values)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_round_trip_and_reopen(tmp_path: Path, open_journal: OpenJournal) -> None:
    journal = open_journal()
    record = journal.add(spec(tmp_path))
    assert record.id.startswith("j") and len(record.id) == 8
    assert record.state is JobState.QUEUED
    journal.update(record.id, state=JobState.ACTIVE, hash="h1", submitted_at=5.0)
    journal.record_output(record.id, OutputFile(stem="Vocals", path="/o/v.flac", size=3, sha256="0" * 64, url="u1"))
    journal.close()

    reopened = open_journal()
    again = reopened.get(record.id)
    assert again.state is JobState.ACTIVE and again.hash == "h1" and again.submitted_at == 5.0
    assert again.spec == record.spec
    assert [o.stem for o in again.outputs] == ["Vocals"]
    assert again.model_dump(mode="json")["state"] == "active"
    reopened.close()


def test_schema_wal_and_indexes(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {row[1] for row in db.execute("SELECT * FROM sqlite_master WHERE type = 'index'")}
    assert {"jobs_account", "jobs_state", "jobs_request"} <= indexes


def test_get_is_scoped_to_the_account(tmp_path: Path, journal: JobJournal) -> None:
    record = journal.add(spec(tmp_path))
    assert journal.get(record.id, "acct").id == record.id
    with pytest.raises(JobNotFound, match="No job"):
        journal.get(record.id, "someone-else")
    with pytest.raises(JobNotFound):
        journal.get("jnothere")


def test_update_with_expectation(tmp_path: Path, journal: JobJournal) -> None:
    record = journal.add(spec(tmp_path))
    assert journal.update(record.id, expect=[JobState.ACTIVE], state=JobState.FAILED) is None
    assert journal.get(record.id).state is JobState.QUEUED
    assert journal.update(record.id, expect=[JobState.QUEUED], state=JobState.CANCELLED) is not None


def test_list_filters_and_order(tmp_path: Path, open_journal: OpenJournal) -> None:
    clock = Clock()
    journal = open_journal(clock=clock)
    ids = []
    for i in range(4):
        clock.now += 1
        ids.append(journal.add(spec(tmp_path, batch_id="b" if i < 2 else None)).id)
    journal.add(spec(tmp_path, account_key="other"))
    journal.update(ids[0], state=JobState.ACTIVE)
    assert [r.id for r in journal.list("acct")] == ids[::-1]
    assert [r.id for r in journal.list("acct", order="oldest")] == ids
    assert [r.id for r in journal.list("acct", limit=2)] == ids[:1:-1]
    assert [r.id for r in journal.list("acct", states=[JobState.ACTIVE])] == [ids[0]]
    assert [r.id for r in journal.list("acct", batch_id="b")] == ids[1::-1]
    assert journal.list("acct", states=[]) == []


def test_find_reusable_window(tmp_path: Path, open_journal: OpenJournal) -> None:
    clock = Clock()
    journal = open_journal(clock=clock)
    record = journal.add(spec(tmp_path))
    key = record.request_key
    assert journal.find_reusable("acct", key, clock.now) is None  # queued: nothing on MVSep yet
    journal.update(record.id, state=JobState.ACTIVE, hash="h1", submitted_at=clock.now)
    assert journal.find_reusable("acct", key, clock.now).id == record.id
    assert journal.find_reusable("other", key, clock.now) is None
    journal.update(record.id, state=JobState.COMPLETED, finished_at=clock.now + 100)
    later = clock.now + RESULT_RETENTION_HOURS * 3600
    assert journal.find_reusable("acct", key, later).id == record.id  # counted from completion
    assert journal.find_reusable("acct", key, later + 200) is None
    journal.update(record.id, state=JobState.EXPIRED)
    assert journal.find_reusable("acct", key, clock.now) is None


def test_request_key_identity() -> None:
    base = request_key("sha256:aa", 40, {"add_opt1": "0", "add_opt2": "1"}, 2, "https://mvsep.com/api")
    assert base == request_key("sha256:aa", 40, {"add_opt2": "1", "add_opt1": "0"}, 2, "https://MVSEP.com/api/")
    assert base != request_key("sha256:aa", 40, {"add_opt1": "1", "add_opt2": "1"}, 2, "https://mvsep.com/api")
    assert base != request_key("sha256:aa", 40, {"add_opt1": "0", "add_opt2": "1"}, 3, "https://mvsep.com/api")
    assert base != request_key("sha256:aa", 40, {"add_opt1": "0", "add_opt2": "1"}, 2, "https://de.mvsep.com/api")


def test_request_key_for_specs(tmp_path: Path) -> None:
    assert request_key_for(spec(tmp_path)) == request_key_for(spec(tmp_path, output_root="/elsewhere"))
    unhashed = spec(tmp_path, input_sha256=None)
    assert request_key_for(unhashed) != request_key_for(unhashed)  # never reused
    url = spec(tmp_path, kind="url", url="https://x.test/a.mp3", input_path=None, input_sha256=None)
    assert request_key_for(url) == request_key_for(url)


def test_no_field_can_hold_a_token() -> None:
    from mvsep_mcp.jobs import JobRecord

    names = set(JobSpec.model_fields) | set(JobRecord.model_fields)
    assert not [n for n in names if "token" in n or "secret" in n]


# --- both backends: what the runner relies on ------------------------------------------------------------------------


def test_jobs_of_one_instant_keep_their_insertion_order(tmp_path: Path, open_journal: OpenJournal) -> None:
    journal = open_journal(clock=Clock())
    ids = [journal.add(spec(tmp_path)).id for _ in range(5)]
    assert [r.id for r in journal.list("acct", order="oldest")] == ids
    assert [r.id for r in journal.list("acct")] == ids[::-1]


def test_filters_by_request_and_hash(tmp_path: Path, journal: JobJournal) -> None:
    first = journal.add(spec(tmp_path))
    other = journal.add(spec(tmp_path, input_sha256="cd" * 32))
    journal.update(first.id, hash="h1")
    assert [r.id for r in journal.list("acct", request_key=first.request_key)] == [first.id]
    assert [r.id for r in journal.list("acct", hash="h1")] == [first.id]
    assert [r.id for r in journal.list(hash="h1")] == [first.id]  # unscoped: the runner's own bookkeeping
    assert {r.id for r in journal.list()} == {first.id, other.id}


def test_update_change_sees_the_row_and_fields_merge(tmp_path: Path, journal: JobJournal) -> None:
    record = journal.add(spec(tmp_path))
    journal.update(record.id, change=lambda r: {"partials": [*r.partials, "/o/a.part"]})
    updated = journal.update(record.id, change=lambda r: {"partials": [*r.partials, "/o/b.part"]}, error="x")
    assert updated is not None and updated.partials == ["/o/a.part", "/o/b.part"] and updated.error == "x"
    assert journal.get(record.id).partials == ["/o/a.part", "/o/b.part"]
    with pytest.raises(JobNotFound):
        journal.update("jmissing", state=JobState.FAILED)


def test_outputs_recorded_once_per_url_and_replaced_at_once(tmp_path: Path, journal: JobJournal) -> None:
    record = journal.add(spec(tmp_path))

    def out(stem: str, url: str) -> OutputFile:
        return OutputFile(stem=stem, path=f"/o/{stem}.flac", size=3, sha256="0" * 64, url=url)

    journal.record_output(record.id, out("Vocals", "u1"))
    journal.record_output(record.id, out("Drums", "u2"))
    again = journal.record_output(record.id, out("Vocals", "u1"))  # a resumed download recording the same file
    assert sorted(o.stem for o in again.outputs) == ["Drums", "Vocals"]
    replaced = journal.set_outputs(record.id, [out("Bass", "u3"), out("Other", "u4")])
    assert [o.stem for o in replaced.outputs] == ["Bass", "Other"]
    assert [o.stem for o in journal.list("acct")[0].outputs] == ["Bass", "Other"]
    assert journal.set_outputs(record.id, []).outputs == []
    with pytest.raises(JobNotFound):
        journal.record_output("jmissing", out("Vocals", "u9"))


def test_a_claim_is_won_once_across_connections(tmp_path: Path, open_journal: OpenJournal) -> None:
    """The runner's claim before a create (queued -> submitting) is a compare-and-set: of several processes' (here:
    connections') claims on one job, exactly one wins."""
    journals = [open_journal() for _ in range(4)]
    ids = [journals[0].add(spec(tmp_path)).id for _ in range(12)]
    wins: list[tuple[int, str]] = []
    barrier = threading.Barrier(len(journals))

    def claim_all(n: int) -> None:
        barrier.wait()
        for job_id in ids:
            if journals[n].update(job_id, expect=[JobState.QUEUED], state=JobState.SUBMITTING) is not None:
                wins.append((n, job_id))

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(len(journals))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job_id for _, job_id in wins) == sorted(ids)  # every job claimed, none twice
    assert all(r.state is JobState.SUBMITTING for r in journals[0].list("acct"))


def test_concurrent_changes_are_not_lost(tmp_path: Path, open_journal: OpenJournal) -> None:
    """``change=`` reads the row inside the write: appends from several connections at once all survive."""
    journals = [open_journal() for _ in range(4)]
    record = journals[0].add(spec(tmp_path))

    def append(n: int) -> None:
        for i in range(5):
            journals[n].update(record.id, change=lambda r, i=i: {"partials": [*r.partials, f"/p/{n}-{i}"]})

    threads = [threading.Thread(target=append, args=(n,)) for n in range(len(journals))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(journals[0].get(record.id).partials) == 20


# --- both backends: migrations ---------------------------------------------------------------------------------------

NEXT = SCHEMA_VERSION + 1
EXTRA = Migration(NEXT, "a test table", sqlite=("CREATE TABLE extra (x INTEGER)",),
                  postgres=("CREATE TABLE extra (x INTEGER)",))  # no IF NOT EXISTS: applying it twice would fail


def schema_version(journal: JobJournal) -> list[int]:
    """Every row of ``schema_version`` (there must be exactly one)."""
    if isinstance(journal, SqliteJournal):
        with sqlite3.connect(journal.path) as db:
            return [row[0] for row in db.execute("SELECT version FROM schema_version")]
    with journal._pool.connection() as conn:  # type: ignore[attr-defined]  # noqa: SLF001
        return [row[0] for row in conn.execute("SELECT version FROM schema_version").fetchall()]


def test_migrations_apply_once_in_order(tmp_path: Path, open_journal: OpenJournal) -> None:
    journal = open_journal()
    assert schema_version(journal) == [SCHEMA_VERSION]
    record = journal.add(spec(tmp_path))
    upgraded = open_journal(migrations=(*MIGRATIONS, EXTRA))
    assert schema_version(upgraded) == [NEXT]
    assert upgraded.get(record.id).id == record.id  # the data survived the upgrade
    assert schema_version(open_journal(migrations=(*MIGRATIONS, EXTRA))) == [NEXT]  # nothing applied twice
    assert open_journal().get(record.id).id == record.id  # an older server still opens a newer schema (warns)


def test_replicas_starting_at_once_migrate_once(tmp_path: Path, open_journal: OpenJournal) -> None:
    opened: list[JobJournal] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            opened.append(open_journal(migrations=(*MIGRATIONS, EXTRA)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(opened) == 4
    assert schema_version(opened[0]) == [NEXT]


def test_migrations_must_be_numbered_in_order() -> None:
    with pytest.raises(ValueError, match="out of order"):
        pending(0, (MIGRATIONS[0], Migration(3, "gap", sqlite=(), postgres=())))


# --- both backends: hosted mode's linked accounts and link tickets (migration 2) --------------------------------------


def test_linked_accounts_and_one_time_tickets(tmp_path: Path, journal: JobJournal) -> None:
    assert journal.linked_account("u1") is None
    journal.link_account("u1", "acct-1", "sealed-1")
    journal.link_account("u1", "acct-2", "sealed-2")  # linking again replaces
    linked = journal.linked_account("u1")
    assert linked is not None and (linked.account_key, linked.sealed_token) == ("acct-2", "sealed-2")
    assert journal.linked_with_unfinished_jobs() == []
    record = journal.add(spec(tmp_path, account_key="acct-2"))
    assert [row.user_key for row in journal.linked_with_unfinished_jobs()] == ["u1"]
    journal.update(record.id, state=JobState.COMPLETED)
    assert journal.linked_with_unfinished_jobs() == []
    assert journal.count_by_state() == {"completed": 1}
    journal.ping()
    assert journal.unlink_account("u1") and journal.linked_account("u1") is None

    journal.add_link_ticket("t-expired", "u2", expires_at=1.0)
    journal.add_link_ticket("t-live", "u2", expires_at=4e9, shown_as="Uma (uma@example.org)")
    journal.add_link_ticket("t-other", "u2", expires_at=4e9)
    journal.add_link_ticket("t-third", "u3", expires_at=4e9)
    assert journal.link_ticket("t-expired") is None
    live = journal.link_ticket("t-live")
    assert live is not None and (live.user_key, live.shown_as) == ("u2", "Uma (uma@example.org)")
    assert journal.link_ticket("t-live") == live  # looking does not use it up
    assert journal.take_link_ticket("t-live") == "u2"
    assert journal.take_link_ticket("t-live") is None  # once
    assert journal.link_ticket("t-other") is None  # using one revoked the user's others
    assert journal.link_ticket("t-third") is not None  # and nobody else's


# --- both backends: tokens kept for unfinished jobs (migration 3) -----------------------------------------------------


def test_a_kept_token_lasts_while_its_account_has_unfinished_jobs(tmp_path: Path, open_journal: OpenJournal) -> None:
    now = [1000.0]
    journal = open_journal(clock=lambda: now[0])
    journal.keep_job_token("u1", "acct-1", "sealed-1")
    journal.keep_job_token("u1", "acct-1", "sealed-2")  # keeping again refreshes: one row per account
    assert journal.kept_with_unfinished_jobs() == []  # no job recorded yet
    assert journal.drop_job_tokens(grace_s=60) == 0  # too fresh: its request is recording the jobs
    record = journal.add(spec(tmp_path, account_key="acct-1"))
    [kept] = journal.kept_with_unfinished_jobs()
    assert (kept.user_key, kept.account_key, kept.sealed_token) == ("u1", "acct-1", "sealed-2")
    assert journal.linked_account("u1") is None  # a kept token is no linked account
    now[0] += 120
    grace = 60 if isinstance(journal, SqliteJournal) else -120  # PostgreSQL's own clock did not move: the same age
    assert journal.drop_job_tokens(grace_s=grace) == 0  # the job runs: kept
    journal.update(record.id, state=JobState.COMPLETED)
    assert journal.drop_job_tokens(grace_s=grace) == 1
    assert journal.kept_with_unfinished_jobs() == [] and journal.drop_job_tokens(grace_s=0) == 0


def _a_finished_pid() -> int:
    """The pid of a process of this machine that has ended (reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("simulated", ["windows", "macos", "linux"])
def test_a_dead_lease_holder_on_this_machine_is_seen_on_posix_only(simulated: system.System) -> None:
    """POSIX asks the process (``os.kill(pid, 0)``); Windows has no such question (``os.kill`` would end the
    process), so there a lease is trusted until it expires."""
    if sys.platform == "win32" and simulated != "windows":
        pytest.skip("the POSIX branch sends os.kill(pid, 0), which on Windows would signal the process")
    here = socket.gethostname()
    dead = _a_finished_pid()
    with system.simulate(simulated):
        assert _holder_is_gone(dead, here) is (simulated != "windows")
        assert _holder_is_gone(os.getpid(), here) is False
        assert _holder_is_gone(dead, here + ".elsewhere") is False  # another machine: its expiry decides
