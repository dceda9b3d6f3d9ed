"""A damaged SQLite journal is moved aside, not fatal: the server's journal opens fresh, with the rows that still
read, the damaged file kept beside it with a timestamp, and a note saying what happened."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from mvsep_mcp.jobs import JobState, SqliteJournal
from mvsep_mcp.jobs.journal.salvage import JournalDamage, is_damage, notes_beside

from tests.jobs.helpers import ACCOUNT, input_file, make_spec

PAGE = 4096


def filled(tmp_path: Path, jobs: int = 60) -> tuple[Path, list[str]]:
    """A journal file with ``jobs`` jobs (one output each), closed (its WAL folded into the file)."""
    path = tmp_path / "data" / "journal.sqlite3"
    spec = make_spec(tmp_path, input_file(tmp_path))
    ids = []
    with SqliteJournal(path) as journal:
        for n in range(jobs):
            record = journal.add(spec.model_copy(update={"model_name": f"Model {n} " + "x" * 800}))
            ids.append(record.id)
    return path, ids


def kept_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.glob("journal.damaged-*.sqlite3"))


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_fresh_journal_opens(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this was overwritten by something else entirely" * 100)
    with SqliteJournal(path) as journal:
        assert journal.damage is not None and journal.list(ACCOUNT) == []
        journal.add(make_spec(tmp_path, input_file(tmp_path)))  # a working journal
        damage = journal.damage
    [kept] = kept_files(path)
    assert kept.read_bytes().startswith(b"this was overwritten") and damage.kept_as == str(kept)
    assert "file is not a database" in damage.reason and damage.recovered == {}
    assert damage.sentence().startswith(f"The job journal {path} was damaged (file is not a database), so it was "
                                        f"moved aside to {kept.name} beside it and a fresh journal started: nothing "
                                        f"in it could be read.")
    assert [JournalDamage.read(n) for n in notes_beside(path)] == [damage]
    with SqliteJournal(path) as again:  # the fresh journal is sound: nothing more is moved aside
        assert again.damage is None and len(again.list(ACCOUNT)) == 1


def test_a_damaged_page_loses_only_the_rows_on_it(tmp_path: Path) -> None:
    path, ids = filled(tmp_path)
    pages = path.stat().st_size // PAGE
    with path.open("r+b") as handle:  # a stretch of garbage over one page in the middle of the jobs
        handle.seek(PAGE * (pages // 2))
        handle.write(b"\xde\xad\xbe\xef" * (PAGE // 4))
    with SqliteJournal(path) as journal:
        damage = journal.damage
        assert damage is not None
        left = journal.list(ACCOUNT, limit=1000)
    recovered = damage.recovered.get("jobs", 0)
    assert 0 < recovered < len(ids) and len(left) == recovered and damage.unreadable
    assert {r.id for r in left} < set(ids) and all(r.state is JobState.QUEUED for r in left)
    assert f"{recovered} job(s) recovered; some rows could not be read." in damage.sentence()


def test_a_truncated_file_keeps_the_jobs_of_the_pages_that_remain(tmp_path: Path) -> None:
    path, ids = filled(tmp_path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size * 2 // 3)
    with SqliteJournal(path) as journal:
        assert journal.damage is not None
        left = journal.list(ACCOUNT, limit=1000)
    assert 0 < len(left) < len(ids)
    note = json.loads(notes_beside(path)[0].read_text())
    assert note["recovered"]["jobs"] == len(left) and note["journal"] == str(path)


def test_a_sound_journal_is_left_alone(tmp_path: Path) -> None:
    path, ids = filled(tmp_path, jobs=3)
    with SqliteJournal(path) as journal:
        assert journal.damage is None and len(journal.list(ACCOUNT)) == 3
    assert kept_files(path) == [] and notes_beside(path) == []


@pytest.mark.parametrize(("error", "damage"), [
    (sqlite3.DatabaseError("database disk image is malformed"), True),
    (sqlite3.DatabaseError("file is not a database"), True),
    (sqlite3.OperationalError("database is locked"), False),
    (sqlite3.OperationalError("attempt to write a readonly database"), False),
    (sqlite3.OperationalError("unable to open database file"), False),
])
def test_only_damage_counts_as_damage(error: sqlite3.Error, damage: bool) -> None:
    assert is_damage(error) is damage
