"""The catalogue cached on disk with a time limit, served stale when MVSep cannot be reached.

One cache file per base URL (regional hosts and the sandbox each get their own): JSON
`{"version": 1, "base_url": ..., "host": ..., "fetched_at": <epoch s>, "algorithms": [<items>]}`, written to a
temporary file and renamed. `get()`:

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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from platformdirs import user_cache_dir

from mvsep_mcp.mvsep.errors import MVSepError
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.policy import CATALOG_TTL_S

from .catalog import Catalog

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
APP_NAME = "mvsep-mcp"


def default_cache_dir() -> Path:
    """The platform's per-user cache folder for this app."""
    return Path(user_cache_dir(APP_NAME))


def cache_path_for(base_url: str, cache_dir: Path | None = None) -> Path:
    """The cache file for one base URL: `catalog-<host>[-<port>]-<hash of the URL>.json`."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "local").replace(":", "_")
    port = f"-{parts.port}" if parts.port else ""
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:8]
    return (cache_dir or default_cache_dir()) / f"catalog-{host}{port}-{digest}.json"


class CatalogCache:
    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[Algorithm]]],
        cache_path: Path,
        *,
        ttl: float = CATALOG_TTL_S,
        clock: Callable[[], float] = time.time,
        base_url: str | None = None,
    ) -> None:
        self._fetch = fetch
        self.cache_path = Path(cache_path)
        self.ttl = ttl
        self._clock = clock
        self.base_url = base_url.rstrip("/") if base_url else None
        self._memo: Catalog | None = None
        self._lock = anyio.Lock()

    async def get(self, refresh: bool = False) -> Catalog:
        if not refresh and self._memo is not None and self._is_fresh(self._memo):
            return self._memo
        async with self._lock:
            if self._memo is None:
                self._memo = await anyio.to_thread.run_sync(self._read_disk)
            copy = self._memo
            if not refresh and copy is not None and self._is_fresh(copy):
                return copy
            try:
                algorithms = await self._fetch()
            except MVSepError as error:
                if copy is None:
                    raise
                logger.warning("catalogue fetch failed (%s); serving the copy from %s", type(error).__name__,
                               copy.fetched_at)
                return Catalog(copy.algorithms, fetched_at=copy.fetched_at, stale=True)
            fresh = Catalog(list(algorithms), fetched_at=self._clock())
            self._memo = fresh
            await anyio.to_thread.run_sync(self._write_disk, fresh)
            return fresh

    def _is_fresh(self, catalog: Catalog) -> bool:
        if catalog.fetched_at is None:
            return False
        age = self._clock() - catalog.fetched_at
        return 0 <= age < self.ttl

    def _read_disk(self) -> Catalog | None:
        try:
            raw = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("catalogue cache %s unreadable, ignored: %s", self.cache_path, error)
            return None
        try:
            if raw.get("version") != CACHE_FORMAT_VERSION:
                return None
            if self.base_url is not None and raw.get("base_url") != self.base_url:
                logger.info("catalogue cache %s is for another base URL, ignored", self.cache_path)
                return None
            algorithms = [Algorithm.model_validate(item) for item in raw["algorithms"]]
            return Catalog(algorithms, fetched_at=float(raw["fetched_at"]))
        except Exception as error:  # a damaged or outdated file is no copy at all
            logger.warning("catalogue cache %s not usable, ignored: %s", self.cache_path, error)
            return None

    def _write_disk(self, catalog: Catalog) -> None:
        payload: dict[str, Any] = {
            "version": CACHE_FORMAT_VERSION,
            "base_url": self.base_url,
            "host": urlsplit(self.base_url).hostname if self.base_url else None,
            "fetched_at": catalog.fetched_at,
            "algorithms": [a.model_dump(mode="json", by_alias=True) for a in catalog.algorithms],
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
            logger.warning("catalogue cache %s not written: %s", self.cache_path, error)
