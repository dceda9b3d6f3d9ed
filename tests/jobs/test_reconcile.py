"""Matching history entries to an uncertain job: time window, slug, algorithm."""

from __future__ import annotations

import time
from pathlib import Path

from mvsep_mcp.jobs import JobJournal, JobSpec
from mvsep_mcp.jobs.reconcile import hash_slug, matches, slug_matches, slugify
from mvsep_mcp.mvsep import models


def entry(job_hash: str, created: float, render_id: int = 40) -> models.HistoryEntry:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created))
    return models.HistoryEntry.model_validate({"hash": job_hash, "created_at": stamp,
                                               "algorithm": {"render_id": render_id}})


def test_slugs() -> None:
    assert slugify("4 Un Poco De Tu Amor 5.flac") == "4-un-poco-de-tu-amor-5"
    assert hash_slug("20240212075543-a274f83da2-4-un-poco-de-tu-amor-5.flac") == "4-un-poco-de-tu-amor-5"
    assert slugify("Café Déjà Vu.mp3") == "cafe-deja-vu"
    assert slug_matches("my-song-2", "my-song")
    assert slug_matches("a" * 80, "a" * 120)
    assert not slug_matches("my-song", "my-other-song")


def test_matches_window_slug_and_algorithm(tmp_path: Path, journal: JobJournal) -> None:
    spec = JobSpec(account_key="a", base_url="http://x/api", input_path="/in/My Song.flac", sep_type=40,
                   output_root=str(tmp_path))
    now = time.time()
    record = journal.update(journal.add(spec).id, submitted_at=now)
    assert record is not None
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
    good = f"{stamp}-0123456789-my-song.flac"
    assert matches(record, entry(good, now))
    assert matches(record, entry(good, now - 60))  # clock skew
    assert not matches(record, entry(good, now - 3600))  # long before the create
    assert not matches(record, entry(good, now, render_id=20))  # another model
    assert not matches(record, entry(f"{stamp}-0123456789-other.flac", now))
