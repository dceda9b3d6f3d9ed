"""Retry policy: what is repeated, how often, how long it waits; creates are never re-sent blindly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import RetryPolicy, SeparationRequest, errors
from mvsep_mcp.mvsep.retry import Idempotency, exception_is_retryable, parse_retry_after, status_is_retryable
from mvsep_mcp.policy import MAX_RETRIES, RETRY_BACKOFF_INITIAL_S, RETRY_BACKOFF_MAX_S, RETRY_JITTER_FRACTION

from tests.mvsep.conftest import parse_form

CREATED = {"success": True, "data": {"link": "https://mvsep.com/api/separation/get?hash=h9", "hash": "h9"}}
NEWS: list[dict[str, Any]] = [{"id": 1, "title": "t"}]


class Script:
    """Answers from a list: an exception class is raised, a response returned; the last entry repeats."""

    def __init__(self, *steps: Any) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("simulated", request=request)
        return step


@pytest.fixture
def song(tmp_path: Path) -> Path:
    path = tmp_path / "My Song.mp3"
    path.write_bytes(bytes(range(256)) * 40)
    return path


def expected_bytes(path: Path) -> bytes:
    return path.read_bytes()


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


async def test_get_retried_after_connect_error(make_client: Any, sleeps: list[float]) -> None:
    script = Script(httpx.ConnectError, httpx.ReadTimeout, ok(NEWS))
    async with make_client(script) as client:
        assert [n.id for n in await client.news()] == [1]
        assert client.stats.retries == 2 and client.stats.requests["/app/news"] == 3
    assert len(sleeps) == 2
    lo, hi = 1 - RETRY_JITTER_FRACTION, 1 + RETRY_JITTER_FRACTION
    assert RETRY_BACKOFF_INITIAL_S * lo <= sleeps[0] <= RETRY_BACKOFF_INITIAL_S * hi
    assert sleeps[1] > sleeps[0] * 0.9  # grows (jitter aside)


async def test_get_gives_up_after_max_retries(make_client: Any, sleeps: list[float]) -> None:
    script = Script(httpx.ReadTimeout)
    async with make_client(script) as client:
        with pytest.raises(errors.TimeoutError):
            await client.algorithms()
    assert len(script.requests) == MAX_RETRIES + 1 and len(sleeps) == MAX_RETRIES
    assert all(s <= RETRY_BACKOFF_MAX_S * (1 + RETRY_JITTER_FRACTION) for s in sleeps)


async def test_connect_failure_maps_to_connect_error(make_client: Any) -> None:
    async with make_client(Script(httpx.ConnectError), max_retries=1) as client:
        with pytest.raises(errors.ConnectError):
            await client.demo()


async def test_5xx_on_get_retried(make_client: Any, sleeps: list[float]) -> None:
    script = Script(httpx.Response(500, text="oops"), httpx.Response(504, text="gw"), ok(NEWS))
    async with make_client(script) as client:
        await client.news()
    assert len(script.requests) == 3 and len(sleeps) == 2


async def test_400_and_401_never_retried(make_client: Any, sleeps: list[float]) -> None:
    for status in (400, 401):
        script = Script(httpx.Response(status, json={"success": False, "errors": ["nope"]}))
        async with make_client(script) as client:
            with pytest.raises(errors.APIError):
                await client.user()
        assert len(script.requests) == 1
    assert sleeps == []


async def test_retry_after_http_date(make_client: Any, sleeps: list[float]) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    script = Script(httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), ok(NEWS))
    async with make_client(script) as client:
        await client.news()
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31


async def test_create_not_resent_after_read_timeout(make_client: Any, sleeps: list[float], song: Path) -> None:
    script = Script(httpx.ReadTimeout, ok(CREATED))
    before = datetime.now(UTC)
    async with make_client(script) as client:
        with pytest.raises(errors.AmbiguousCreateError) as info:
            await client.create_separation(SeparationRequest(sep_type=40, audiofile=song))
        assert client.stats.creates_sent == 1
    err = info.value
    assert len(script.requests) == 1 and sleeps == []
    assert err.sep_type == 40 and err.file_name == "My Song.mp3" and err.status_code is None
    assert before - timedelta(seconds=1) <= err.sent_at <= datetime.now(UTC)
    assert "separation_history" in str(err)


@pytest.mark.parametrize("exc", [httpx.RemoteProtocolError, httpx.ReadError])
async def test_create_broken_answer_is_ambiguous(make_client: Any, song: Path, exc: type[Exception]) -> None:
    script = Script(exc, ok(CREATED))
    async with make_client(script) as client:
        with pytest.raises(errors.AmbiguousCreateError):
            await client.create_separation(SeparationRequest(sep_type=40, audiofile=song))
    assert len(script.requests) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError])
async def test_create_retried_when_never_sent(make_client: Any, song: Path, sleeps: list[float],
                                               exc: type[Exception]) -> None:
    script = Script(exc, ok(CREATED))
    async with make_client(script) as client:
        request = SeparationRequest(sep_type=40, audiofile=song, options={"add_opt1": "2"})
        created = await client.create_separation(request)
        assert client.stats.creates_sent == 1 and client.stats.retries == 1
        assert client.stats.requests["/separation/create"] == 2
    assert created.hash == "h9" and len(sleeps) == 1
    # the second attempt re-read the file from the start: a complete, identical upload
    content = expected_bytes(song)
    assert parse_form(script.requests[1])["audiofile"] == ("My Song.mp3", content)
    assert parse_form(script.requests[0])["audiofile"][1] == content


@pytest.mark.parametrize("status", [502, 504, 500])
async def test_create_gateway_errors_are_ambiguous(make_client: Any, song: Path, status: int) -> None:
    script = Script(httpx.Response(status, text="<title>Bad Gateway</title>"), ok(CREATED))
    async with make_client(script) as client:
        with pytest.raises(errors.AmbiguousCreateError) as info:
            await client.create_separation(SeparationRequest(sep_type=40, audiofile=song))
    assert info.value.status_code == status and len(script.requests) == 1


@pytest.mark.parametrize("status", [503, 429])
async def test_create_retried_after_refusal(make_client: Any, song: Path, sleeps: list[float], status: int) -> None:
    script = Script(httpx.Response(status, headers={"Retry-After": "3"}, text="busy"), ok(CREATED))
    async with make_client(script) as client:
        created = await client.create_separation(SeparationRequest(sep_type=40, audiofile=song))
        assert client.stats.creates_sent == 2
    assert created.hash == "h9" and sleeps == [3.0] and len(script.requests) == 2


async def test_unsafe_calls_not_retried_after_sending(make_client: Any) -> None:
    script = Script(httpx.ReadTimeout, ok({"success": True, "message": "sent"}))
    async with make_client(script, token=None) as client:
        with pytest.raises(errors.TimeoutError):
            await client.register("a", "a@example.com", "pw", "pw")
    assert len(script.requests) == 1
    script = Script(httpx.ConnectError, ok({"success": True, "message": "sent"}))
    async with make_client(script, token=None) as client:
        assert await client.register("a", "a@example.com", "pw", "pw") == "sent"
    assert len(script.requests) == 2


async def test_safe_posts_are_retried(make_client: Any) -> None:
    done = ok({"success": True, "message": "successfully enabled"})
    script = Script(httpx.ReadTimeout, httpx.Response(502, text="x"), done)
    async with make_client(script) as client:
        assert await client.enable_long_filenames() == "successfully enabled"
    assert len(script.requests) == 3


def test_classification_tables() -> None:
    assert status_is_retryable(503, Idempotency.CREATE) and status_is_retryable(429, Idempotency.UNSAFE)
    assert not status_is_retryable(502, Idempotency.CREATE) and status_is_retryable(502, Idempotency.SAFE)
    assert not status_is_retryable(400, Idempotency.SAFE) and not status_is_retryable(401, Idempotency.SAFE)
    request = httpx.Request("GET", "http://127.0.0.1/")
    assert exception_is_retryable(httpx.ConnectTimeout("x", request=request), Idempotency.CREATE)
    assert not exception_is_retryable(httpx.ReadTimeout("x", request=request), Idempotency.CREATE)
    assert exception_is_retryable(httpx.ReadTimeout("x", request=request), Idempotency.SAFE)


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:40 GMT", now=now) == 40.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("") is None


def test_backoff_curve() -> None:
    mid = RetryPolicy(backoff_initial_s=0.5, backoff_multiplier=2.0, backoff_max_s=8.0, rng=lambda: 0.5)
    assert [mid.backoff(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    low, high = RetryPolicy(rng=lambda: 0.0), RetryPolicy(rng=lambda: 1.0)
    assert low.backoff(0) == pytest.approx(RETRY_BACKOFF_INITIAL_S * (1 - RETRY_JITTER_FRACTION))
    assert high.backoff(0) == pytest.approx(RETRY_BACKOFF_INITIAL_S * (1 + RETRY_JITTER_FRACTION))
    assert mid.delay(3, 2.0) == 2.0 and not mid.retry_after_acceptable(61.0) and mid.retry_after_acceptable(None)
