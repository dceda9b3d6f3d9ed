"""HashCache: a file's SHA-256 computed once while the file is unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mvsep_mcp.media import files as media_files
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.media.hash_cache import HashCache


def test_an_unchanged_file_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    song = tmp_path / "song.flac"
    song.write_bytes(b"x" * 1000)
    cache = HashCache(tmp_path / "hashes.sqlite3")
    first = cache.sha256(song)
    assert first == sha256_file(song)
    calls: list[Path] = []
    monkeypatch.setattr("mvsep_mcp.media.hash_cache.sha256_file", lambda p: calls.append(p) or "recomputed")
    assert cache.sha256(song) == first and calls == []  # from the cache
    again = HashCache(tmp_path / "hashes.sqlite3")  # another process, the same data folder
    assert again.sha256(song) == first and calls == []
    song.write_bytes(b"y" * 1000)  # same size, new content and mtime
    os.utime(song, ns=(song.stat().st_atime_ns, song.stat().st_mtime_ns + 1_000_000))
    assert cache.sha256(song) == "recomputed" and calls == [song]
    cache.close()
    again.close()


def test_without_a_cache_file_every_call_hashes(tmp_path: Path) -> None:
    song = tmp_path / "song.flac"
    song.write_bytes(b"abc")
    assert HashCache(None).sha256(song) == media_files.sha256_file(song)


def test_the_cache_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mvsep_mcp.media.hash_cache.HASH_CACHE_MAX_ENTRIES", 3)
    cache = HashCache(tmp_path / "hashes.sqlite3")
    for n in range(6):
        file = tmp_path / f"{n}.wav"
        file.write_bytes(bytes([n]) * 10)
        cache.sha256(file)
    assert cache._db is not None and cache._db.execute("SELECT COUNT(*) FROM hashes").fetchone()[0] == 3
