"""CatalogCache: fresh copy served without a request, expiry, stale-on-error, no copy -> error, per-URL files."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mvsep_mcp.catalog import CatalogCache, cache_path_for, default_cache_dir
from mvsep_mcp.mvsep.errors import MVSepError, ServerError
from mvsep_mcp.mvsep.models import Algorithm

from .conftest import raw_2026

TTL = 100.0
BASE_URL = "http://127.0.0.1:8123/api"


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeFetch:
    """Counts calls; returns the real catalogue, or raises `error` when set."""

    def __init__(self, algorithms: list[Algorithm]) -> None:
        self.algorithms = algorithms
        self.calls = 0
        self.error: Exception | None = None

    async def __call__(self) -> list[Algorithm]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.algorithms


def _server_error() -> MVSepError:
    return ServerError("Service Temporarily Unavailable", status_code=503)


def _names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def fetch(algorithms: list[Algorithm]) -> FakeFetch:
    return FakeFetch(algorithms)


def make_cache(fetch: FakeFetch, path: Path, clock: Clock) -> CatalogCache:
    return CatalogCache(fetch, path, ttl=TTL, clock=clock, base_url=BASE_URL)


async def test_fresh_copy_is_served_without_a_request(tmp_path: Path, fetch: FakeFetch) -> None:
    clock = Clock()
    cache = make_cache(fetch, tmp_path / "catalog.json", clock)
    first = await cache.get()
    assert (fetch.calls, len(first), first.fetched_at, first.stale) == (1, 117, 1_000.0, False)
    clock.now += TTL - 1
    assert await cache.get() is first  # the in-memory memo
    assert fetch.calls == 1
    # a new process (new cache object) reads the disk copy instead of fetching
    other = make_cache(fetch, tmp_path / "catalog.json", clock)
    from_disk = await other.get()
    assert (fetch.calls, len(from_disk), from_disk.fetched_at) == (1, 117, 1_000.0)
    assert from_disk.find(40).algorithm_fields[1].price_rules[0].value == 2.0  # round-trips through JSON


async def test_expired_copy_is_fetched_again(tmp_path: Path, fetch: FakeFetch) -> None:
    clock = Clock()
    cache = make_cache(fetch, tmp_path / "catalog.json", clock)
    await cache.get()
    clock.now += TTL
    again = await cache.get()
    assert (fetch.calls, again.fetched_at, again.stale) == (2, 1_000.0 + TTL, False)
    saved = json.loads((tmp_path / "catalog.json").read_text())
    assert (saved["fetched_at"], saved["base_url"], saved["host"]) == (1_000.0 + TTL, BASE_URL, "127.0.0.1")


async def test_refresh_forces_a_fetch(tmp_path: Path, fetch: FakeFetch) -> None:
    cache = make_cache(fetch, tmp_path / "catalog.json", Clock())
    await cache.get()
    await cache.get(refresh=True)
    assert fetch.calls == 2


async def test_stale_copy_served_when_mvsep_fails(tmp_path: Path, fetch: FakeFetch) -> None:
    clock = Clock()
    await make_cache(fetch, tmp_path / "catalog.json", clock).get()
    clock.now += 10 * TTL
    fetch.error = _server_error()
    cache = make_cache(fetch, tmp_path / "catalog.json", clock)
    stale = await cache.get()
    assert (fetch.calls, stale.stale, stale.fetched_at, len(stale)) == (2, True, 1_000.0, 117)
    forced = await cache.get(refresh=True)
    assert (fetch.calls, forced.stale) == (3, True)
    fetch.error = None
    recovered = await cache.get()
    assert (fetch.calls, recovered.stale, recovered.fetched_at) == (4, False, clock.now)


async def test_no_copy_and_mvsep_down_raises(tmp_path: Path, fetch: FakeFetch) -> None:
    fetch.error = _server_error()
    cache = make_cache(fetch, tmp_path / "catalog.json", Clock())
    with pytest.raises(MVSepError):
        await cache.get()
    assert not (tmp_path / "catalog.json").exists()


async def test_other_errors_are_not_swallowed(tmp_path: Path, fetch: FakeFetch) -> None:
    clock = Clock()
    await make_cache(fetch, tmp_path / "catalog.json", clock).get()
    clock.now += 10 * TTL
    fetch.error = RuntimeError("a bug")
    with pytest.raises(RuntimeError):
        await make_cache(fetch, tmp_path / "catalog.json", clock).get()


async def test_copy_for_another_base_url_or_damaged_is_no_copy(tmp_path: Path, fetch: FakeFetch) -> None:
    path = tmp_path / "catalog.json"
    clock = Clock()
    await make_cache(fetch, path, clock).get()
    elsewhere = CatalogCache(fetch, path, ttl=TTL, clock=clock, base_url="https://mvsep.com/api")
    await elsewhere.get()
    assert fetch.calls == 2
    path.write_text("{not json")
    await make_cache(fetch, path, clock).get()
    assert fetch.calls == 3
    assert json.loads(path.read_text())["base_url"] == BASE_URL  # rewritten whole
    assert _names_in(tmp_path) == ["catalog.json"]  # no temporary files left


async def test_copy_from_the_future_counts_as_expired(tmp_path: Path, fetch: FakeFetch) -> None:
    clock = Clock(5_000.0)
    await make_cache(fetch, tmp_path / "c.json", clock).get()
    clock.now = 1_000.0
    await make_cache(fetch, tmp_path / "c.json", clock).get()
    assert fetch.calls == 2


async def test_concurrent_gets_share_one_fetch(tmp_path: Path, fetch: FakeFetch) -> None:
    cache = make_cache(fetch, tmp_path / "catalog.json", Clock())
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(cache.get)
    assert fetch.calls == 1


async def test_unwritable_cache_dir_still_serves(tmp_path: Path, fetch: FakeFetch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = make_cache(fetch, blocker / "sub" / "catalog.json", Clock())
    assert len(await cache.get()) == 117


async def test_older_2024_items_in_a_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    payload = {"version": 1, "base_url": BASE_URL, "host": "127.0.0.1", "fetched_at": 990.0, "algorithms": raw_2026()}
    path.write_text(json.dumps(payload))
    fetch = FakeFetch([])
    catalog = await make_cache(fetch, path, Clock()).get()
    assert (fetch.calls, len(catalog)) == (0, 117)  # raw (JSON-in-string) items are read too


def test_paths() -> None:
    assert default_cache_dir().name == "mvsep-mcp" or "mvsep-mcp" in str(default_cache_dir())
    a = cache_path_for("https://mvsep.com/api", Path("/c"))
    b = cache_path_for("https://de.mvsep.com/api", Path("/c"))
    c = cache_path_for("http://127.0.0.1:8123/api", Path("/c"))
    assert a.parent == Path("/c") and a != b
    assert a.name.startswith("catalog-mvsep.com-") and c.name.startswith("catalog-127.0.0.1-8123-")
    assert cache_path_for("https://mvsep.com/api/", Path("/c")) == a
