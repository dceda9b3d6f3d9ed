"""What MVSep lists (the catalogue, the quality checker's leaderboards) cached on disk with a time limit, served
stale when MVSep cannot be reached.

`DiskCache` keeps one value per file, one file per base URL and kind (regional hosts and the sandbox each get their
own): JSON `{"version": 1, "base_url": ..., "host": ..., "fetched_at": <epoch s>, "<key>": <items>}` (the catalogue's
key is `"algorithms"`), written to a temporary file and renamed. `get()`:

- a copy younger than `ttl` (memory first, then disk) is served without a request;
- otherwise `fetch()` is awaited; its result is stored and served;
- if that fails with an MVSepError and any copy exists, the copy is served with `Catalog.stale = True`;
- with no copy the error propagates.

`get(refresh=True)` fetches even when the copy is fresh (still falling back to a stale copy on failure).
A copy written for another base URL, or unreadable, counts as no copy. A copy dated in the future counts as expired.
Concurrent `get()`s share one fetch. Disk reads and writes run in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import anyio
from platformdirs import user_cache_dir

from mvsep_mcp.mvsep.errors import MVSepError
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.policy import CATALOG_TTL_S

from .search import Catalog

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
APP_NAME = "mvsep-mcp"


def default_cache_dir() -> Path:
    """The platform's per-user cache folder for this app."""
    return Path(user_cache_dir(APP_NAME))


def cache_path_for(base_url: str, cache_dir: Path | None = None, kind: str = "catalog") -> Path:
    """The cache file of one kind for one base URL: `<kind>-<host>[-<port>]-<hash of the URL>.json`."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "local").replace(":", "_")
    port = f"-{parts.port}" if parts.port else ""
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:8]
    return (cache_dir or default_cache_dir()) / f"{kind}-{host}{port}-{digest}.json"


T = TypeVar("T")  # the value as fetched and stored
R = TypeVar("R")  # the value as served (built once per copy)


@dataclass(frozen=True)
class _Copy(Generic[T, R]):
    value: T
    fetched_at: float
    served: R


class DiskCache(Generic[T, R]):
    """One value fetched from MVSep, kept in memory and on disk (see the module docstring). ``dump``/``load`` turn
    the value into JSON and back; ``build(value, fetched_at, stale)`` makes what ``get`` serves."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        cache_path: Path,
        *,
        key: str,
        dump: Callable[[T], Any],
        load: Callable[[Any], T],
        build: Callable[[T, float | None, bool], R],
        ttl: float,
        clock: Callable[[], float] = time.time,
        base_url: str | None = None,
    ) -> None:
        self._fetch = fetch
        self.cache_path = Path(cache_path)
        self.ttl = ttl
        self._key, self._dump, self._load, self._build = key, dump, load, build
        self._clock = clock
        self.base_url = base_url.rstrip("/") if base_url else None
        self._memo: _Copy[T, R] | None = None
        self._lock = anyio.Lock()

    async def get(self, refresh: bool = False) -> R:
        if not refresh and self._memo is not None and self._is_fresh(self._memo.fetched_at):
            return self._memo.served
        async with self._lock:
            if self._memo is None:
                self._memo = await anyio.to_thread.run_sync(self._read_disk)
            copy = self._memo
            if not refresh and copy is not None and self._is_fresh(copy.fetched_at):
                return copy.served
            try:
                value = await self._fetch()
            except MVSepError as error:
                if copy is None:
                    raise
                logger.warning("%s fetch failed (%s); serving the copy from %s", self._key, type(error).__name__,
                               copy.fetched_at)
                return self._build(copy.value, copy.fetched_at, True)
            now = self._clock()
            fresh = _Copy(value, now, self._build(value, now, False))
            self._memo = fresh
            await anyio.to_thread.run_sync(self._write_disk, fresh)
            return fresh.served

    def _is_fresh(self, fetched_at: float) -> bool:
        age = self._clock() - fetched_at
        return 0 <= age < self.ttl

    def _read_disk(self) -> _Copy[T, R] | None:
        try:
            raw = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("cache %s unreadable, ignored: %s", self.cache_path, error)
            return None
        try:
            if raw.get("version") != CACHE_FORMAT_VERSION:
                return None
            if self.base_url is not None and raw.get("base_url") != self.base_url:
                logger.info("cache %s is for another base URL, ignored", self.cache_path)
                return None
            value, fetched_at = self._load(raw[self._key]), float(raw["fetched_at"])
            return _Copy(value, fetched_at, self._build(value, fetched_at, False))
        except Exception as error:  # a damaged or outdated file is no copy at all
            logger.warning("cache %s not usable, ignored: %s", self.cache_path, error)
            return None

    def _write_disk(self, copy: _Copy[T, R]) -> None:
        payload: dict[str, Any] = {
            "version": CACHE_FORMAT_VERSION,
            "base_url": self.base_url,
            "host": urlsplit(self.base_url).hostname if self.base_url else None,
            "fetched_at": copy.fetched_at,
            self._key: self._dump(copy.value),
        }
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.cache_path.name + ".", suffix=".tmp", dir=self.cache_path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(payload, handle, ensure_ascii=False)
                os.replace(tmp, self.cache_path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as error:
            logger.warning("cache %s not written: %s", self.cache_path, error)


class CatalogCache(DiskCache[list[Algorithm], Catalog]):
    """The catalogue (``/app/algorithms``) on disk for ``CATALOG_TTL_S``."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[Algorithm]]],
        cache_path: Path,
        *,
        ttl: float = CATALOG_TTL_S,
        clock: Callable[[], float] = time.time,
        base_url: str | None = None,
    ) -> None:
        super().__init__(
            fetch, cache_path, key="algorithms", ttl=ttl, clock=clock, base_url=base_url,
            dump=lambda algorithms: [a.model_dump(mode="json", by_alias=True) for a in algorithms],
            load=lambda items: [Algorithm.model_validate(item) for item in items],
            build=lambda algorithms, fetched_at, stale: Catalog(list(algorithms), fetched_at=fetched_at, stale=stale),
        )
