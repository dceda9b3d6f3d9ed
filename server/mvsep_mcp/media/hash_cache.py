"""A file's SHA-256, computed once: remembered by (device, inode, size, modification time) in a small SQLite file.

Planning hashes every input to recognise identical requests; a dry run, a repeat, a batch re-run all ask again.
The cache answers at once while the file is unchanged (same inode, size and nanosecond mtime), and computes and
remembers it otherwise. It never holds more than ``HASH_CACHE_MAX_ENTRIES`` files (the oldest go first).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.policy import HASH_CACHE_MAX_ENTRIES, JOURNAL_BUSY_TIMEOUT_S

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    device INTEGER NOT NULL, inode INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, used REAL NOT NULL,
    PRIMARY KEY (device, inode, size, mtime_ns)
);
CREATE INDEX IF NOT EXISTS hashes_used ON hashes (used);
"""


class HashCache:
    """``sha256(path)``: from the cache while the file is unchanged, else computed (and remembered)."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None: no cache on disk, every call computes (tests, read-only data folders)."""
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, timeout=JOURNAL_BUSY_TIMEOUT_S, check_same_thread=False,
                                           isolation_level=None)
                self._db.executescript(_SCHEMA)
            except sqlite3.Error as exc:  # a broken cache costs time, never correctness
                log.warning("the hash cache %s cannot be used (%s); hashing every time", path, exc)
                self._db = None

    def sha256(self, path: Path) -> str:
        info = os.stat(path)
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        if self._db is not None:
            with self._lock:
                row = self._db.execute("SELECT sha256 FROM hashes WHERE device = ? AND inode = ? AND size = ? AND "
                                       "mtime_ns = ?", key).fetchone()
            if row is not None:
                self._touch(key)
                return str(row[0])
        digest = sha256_file(path)
        if self._db is not None:
            self._remember(key, digest)
        return digest

    def _touch(self, key: tuple[int, int, int, int]) -> None:
        with self._lock:
            assert self._db is not None
            self._db.execute("UPDATE hashes SET used = ? WHERE device = ? AND inode = ? AND size = ? AND "
                             "mtime_ns = ?", (time.time(), *key))

    def _remember(self, key: tuple[int, int, int, int], digest: str) -> None:
        with self._lock:
            assert self._db is not None
            try:
                self._db.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)",
                                 (*key, digest, time.time()))
                self._db.execute("DELETE FROM hashes WHERE rowid IN (SELECT rowid FROM hashes ORDER BY used DESC "
                                 "LIMIT -1 OFFSET ?)", (HASH_CACHE_MAX_ENTRIES,))
            except sqlite3.Error as exc:
                log.debug("could not remember a hash (%s)", exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
