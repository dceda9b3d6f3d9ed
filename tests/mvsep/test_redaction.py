"""The API token never appears in an error text, an error body, a repr or a log line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import SeparationRequest, errors
from mvsep_mcp.mvsep._redact import Redactor

from tests.mvsep.conftest import TOKEN

OTHER = "Zz9OtherToken000000000000000x"


def _all_text(err: BaseException) -> str:
    parts = [str(err), repr(err), repr(getattr(err, "body", None)), str(getattr(err, "message", "")),
             str(getattr(err, "path", "")), repr(err.__cause__), repr(err.__context__)]
    return " ".join(parts)


async def test_500_echoing_the_token(make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    page = f"<html><title>Error for api_token={TOKEN}</title><body>request {TOKEN} failed</body></html>"
    caplog.set_level(logging.DEBUG, logger="mvsep_mcp.mvsep")
    async with make_client(lambda r: httpx.Response(500, text=page), max_retries=1) as client:
        with pytest.raises(errors.ServerError) as info:
            await client.separation_history()
        assert TOKEN not in repr(client)
    assert TOKEN not in _all_text(info.value)
    assert "api_token=***" in info.value.message
    assert TOKEN not in caplog.text and "/app/separation_history" in caplog.text


async def test_json_error_echoing_tokens(make_client: Any) -> None:
    body = {"success": False, "errors": [f"token {TOKEN} is not allowed"], "api_token": OTHER,
            "data": {"echo": f"?api_token={OTHER}&x=1"}}
    async with make_client(lambda r: httpx.Response(400, json=body)) as client:
        with pytest.raises(errors.BadRequestError) as info:
            await client.enable_premium()
    text = _all_text(info.value)
    assert TOKEN not in text and OTHER not in text
    assert info.value.body["api_token"] == "***" and info.value.body["data"]["echo"] == "?api_token=***&x=1"


async def test_transport_errors_and_ambiguous_create(make_client: Any, tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out on {request.url}", request=request)

    song = tmp_path / "a.mp3"
    song.write_bytes(b"x")
    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(errors.TimeoutError) as timeout:
            await client.user()
        with pytest.raises(errors.AmbiguousCreateError) as ambiguous:
            await client.create_separation(SeparationRequest(sep_type=1, audiofile=song))
    for err in (timeout.value, ambiguous.value):
        assert TOKEN not in _all_text(err)
        assert err.__cause__ is None  # httpx exceptions (which hold the URL with the token) are not chained


async def test_connect_error_message_with_url(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(errors.ConnectError) as info:
            await client.separation_history()
    assert TOKEN not in _all_text(info.value) and "api_token=***" in str(info.value)


def test_redactor() -> None:
    redactor = Redactor(TOKEN)
    assert redactor.text(f"a {TOKEN} b") == "a *** b"
    assert redactor.text(f'{{"api_token": "{OTHER}"}}') == '{"api_token": "***"}'
    assert redactor.text(f"https://x/api?hash=1&api_token={OTHER}") == "https://x/api?hash=1&api_token=***"
    assert redactor.json({"list": [TOKEN], "password": "pw", "api_token": None}) == {
        "list": ["***"], "password": "***", "api_token": None}
    assert TOKEN not in repr(redactor) and Redactor(None).text("plain") == "plain"
