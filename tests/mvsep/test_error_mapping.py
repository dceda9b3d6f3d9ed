"""Every status and envelope maps onto the error tree with MVSep's own message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import MVSepClient, SeparationRequest, errors


def answer(status: int, body: Any = None, *, text: str | None = None, headers: dict[str, str] | None = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers or {"Content-Type": "text/html"})
        return httpx.Response(status, json=body, headers=headers)

    return handler


async def test_400_errors_list(make_client: Any) -> None:
    body = {"success": False, "errors": ["Seperation type is unavailable until you purchase premium membership"]}
    async with make_client(answer(400, body)) as client:
        with pytest.raises(errors.BadRequestError) as info:
            await client.create_separation(SeparationRequest(sep_type=26, url="https://example.com/a.mp3"))
    err = info.value
    assert err.status_code == 400 and err.message.startswith("Seperation type is unavailable")
    assert err.body == body and err.request_line == "POST /separation/create"
    assert "HTTP 400" in str(err) and "premium membership" in str(err)


async def test_unknown_sep_type_is_not_retried(make_client: Any, sleeps: list[float]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"success": False, "errors": ["Seperation type is not set"]})

    async with make_client(handler) as client:
        with pytest.raises(errors.BadRequestError, match="Seperation type is not set"):
            await client.create_separation(SeparationRequest(sep_type=9999, url="https://example.com/a.mp3"))
        with pytest.raises(errors.BadRequestError):
            await client.news()
    assert len(calls) == 2 and sleeps == []


@pytest.mark.parametrize("status", [401, 400, 200, 403])
async def test_invalid_token_is_authentication_whatever_the_status(make_client: Any, status: int) -> None:
    async with make_client(answer(status, {"success": False, "errors": ["invalid token"]})) as client:
        with pytest.raises(errors.AuthenticationError) as info:
            await client.user()
    assert info.value.status_code == status and info.value.message == "invalid token"


async def test_401_without_message(make_client: Any) -> None:
    async with make_client(answer(401, {"success": False})) as client:
        with pytest.raises(errors.AuthenticationError):
            await client.separation_history()


async def test_data_message_and_plain_message(make_client: Any) -> None:
    async with make_client(answer(400, {"success": False, "data": {"message": "Too many jobs"}})) as client:
        with pytest.raises(errors.BadRequestError, match="Too many jobs"):
            await client.enable_premium()
    async with make_client(answer(200, {"success": False, "message": "Not enough credits"})) as client:
        with pytest.raises(errors.BadRequestError) as info:
            await client.enable_premium()
    assert info.value.status_code == 200 and info.value.message == "Not enough credits"


async def test_429_retried_then_rate_limit_error(make_client: Any, sleeps: list[float]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, json={"message": "Too Many Attempts."}, headers={"Retry-After": "7"})

    async with make_client(handler, max_retries=3) as client:
        with pytest.raises(errors.RateLimitError) as info:
            await client.news()
        assert client.stats.retries == 3
    assert len(calls) == 4 and sleeps == [7.0, 7.0, 7.0]
    assert info.value.retry_after == 7.0 and info.value.message == "Too Many Attempts."


async def test_429_with_a_long_retry_after_is_reported_not_slept(make_client: Any, sleeps: list[float]) -> None:
    async with make_client(answer(429, {}, headers={"Retry-After": "3600"})) as client:
        with pytest.raises(errors.RateLimitError) as info:
            await client.queue()
    assert sleeps == [] and info.value.retry_after == 3600.0


async def test_502_html_body(make_client: Any, sleeps: list[float]) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    async with make_client(answer(502, text=page), max_retries=2) as client:
        with pytest.raises(errors.ServerError) as info:
            await client.algorithms()
    assert info.value.status_code == 502 and info.value.message == "502 Bad Gateway"
    assert isinstance(info.value.body, str) and "nginx" in info.value.body
    assert len(sleeps) == 2


async def test_503_plain_text(make_client: Any) -> None:
    async with make_client(answer(503, text="Service Temporarily Unavailable", headers={}), max_retries=0) as client:
        with pytest.raises(errors.ServerError, match="Service Temporarily Unavailable"):
            await client.demo()


async def test_non_json_200_is_invalid_response(make_client: Any) -> None:
    async with make_client(answer(200, text="<html>maintenance</html>")) as client:
        with pytest.raises(errors.InvalidResponseError) as info:
            await client.news()
    assert info.value.status_code == 200


@pytest.mark.parametrize("body", [{"success": True, "data": {"link": "x"}}, [1, 2], {"success": True}])
async def test_wrong_shapes_are_invalid_response(make_client: Any, body: Any) -> None:
    async with make_client(answer(200, body)) as client:
        with pytest.raises(errors.InvalidResponseError):
            await client.create_separation(SeparationRequest(sep_type=1, url="https://example.com/a.mp3"))
        if not (isinstance(body, dict) and "data" in body):  # any object under data is a (sparse) user
            with pytest.raises(errors.InvalidResponseError):
                await client.user()


async def test_object_without_success_and_bare_list_envelopes(make_client: Any) -> None:
    async with make_client(answer(200, {"queue": {"free": 12, "premium": 1}, "plan": {"name": "free"}})) as client:
        info = await client.queue()
    assert info.queue == {"free": 12, "premium": 1} and info.plan == {"name": "free"}
    async with make_client(answer(200, {"success": True, "data": [{"id": 1, "title": "x"}]})) as client:
        assert [n.id for n in await client.news()] == [1]


async def test_not_found_is_a_status_not_an_exception(make_client: Any) -> None:
    for status in (200, 404):
        async with make_client(answer(status, {"success": False, "status": "not_found"})) as client:
            result = await client.get_separation("nope")
        assert result.is_not_found and result.is_terminal


async def test_cancel_false_on_400(make_client: Any) -> None:
    async with make_client(answer(400, {"success": False, "message": "Job is running"})) as client:
        assert await client.cancel_separation("h") is False
    async with make_client(answer(200, {"success": True})) as client:
        assert await client.cancel_separation("h") is True


async def test_missing_token_says_how_to_set_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never reached
        raise AssertionError("no request without a token")

    async with MVSepClient(None, transport=httpx.MockTransport(handler)) as client:
        for call in (client.user(), client.separation_history(), client.enable_premium(),
                     client.cancel_separation("h"), client.get_separation("h", mirror=True),
                     client.create_separation(SeparationRequest(sep_type=1, url="https://example.com/a.mp3"))):
            with pytest.raises(errors.MissingTokenError) as info:
                await call
            assert "MVSEP_API_TOKEN" in str(info.value) and "mvsep-mcp login" in str(info.value)
            assert isinstance(info.value, errors.MVSepError)


def test_error_tree() -> None:
    assert issubclass(errors.ConnectError, errors.TransportError)
    assert issubclass(errors.TimeoutError, errors.TransportError)
    for cls in (errors.BadRequestError, errors.AuthenticationError, errors.RateLimitError, errors.ServerError,
                errors.InvalidResponseError):
        assert issubclass(cls, errors.APIError)
    for cls in (errors.TransportError, errors.AmbiguousCreateError, errors.APIError, errors.MissingTokenError):
        assert issubclass(cls, errors.MVSepError)
    assert not issubclass(errors.AmbiguousCreateError, errors.TransportError)
