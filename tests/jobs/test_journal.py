"""The job journal: round trip, reopen, filters, reusable results, outputs, request keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mvsep_mcp.jobs import JobNotFound, JobSpec, JobState, Journal, OutputFile, request_key, request_key_for
from mvsep_mcp.policy import RESULT_RETENTION_HOURS


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


def test_round_trip_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    record = journal.add(spec(tmp_path))
    assert record.id.startswith("j") and len(record.id) == 8
    assert record.state is JobState.QUEUED
    journal.update(record.id, state=JobState.ACTIVE, hash="h1", submitted_at=5.0)
    journal.record_output(record.id, OutputFile(stem="Vocals", path="/o/v.flac", size=3, sha256="0" * 64, url="u1"))
    journal.close()

    reopened = Journal(path)
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
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == 1
    indexes = {row[1] for row in db.execute("SELECT * FROM sqlite_master WHERE type = 'index'")}
    assert {"jobs_account", "jobs_state", "jobs_request"} <= indexes


def test_get_is_scoped_to_the_account(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    record = journal.add(spec(tmp_path))
    assert journal.get(record.id, "acct").id == record.id
    with pytest.raises(JobNotFound, match="No job"):
        journal.get(record.id, "someone-else")
    with pytest.raises(JobNotFound):
        journal.get("jnothere")


def test_update_with_expectation(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    record = journal.add(spec(tmp_path))
    assert journal.update(record.id, expect=[JobState.ACTIVE], state=JobState.FAILED) is None
    assert journal.get(record.id).state is JobState.QUEUED
    assert journal.update(record.id, expect=[JobState.QUEUED], state=JobState.CANCELLED) is not None


def test_list_filters_and_order(tmp_path: Path) -> None:
    clock = Clock()
    journal = Journal(tmp_path / "j.sqlite3", clock=clock)
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


def test_find_reusable_window(tmp_path: Path) -> None:
    clock = Clock()
    journal = Journal(tmp_path / "j.sqlite3", clock=clock)
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
