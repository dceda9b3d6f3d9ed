"""Shared helpers for the MVSep client tests: recorded fixtures, a mock transport, multipart parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp_testbench.sandbox.algorithms import DATA_DIR

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
CATALOGUE_2026 = DATA_DIR / "algorithms.json"
BASE_URL = "http://127.0.0.1:9/api"
TOKEN = "SandboxFree0000000000000000001"  # the sandbox's documented free-account test token

_DROP_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))


def fixture_response(name: str) -> httpx.Response:
    """The recorded answer as an httpx response (transfer headers dropped, body re-encoded)."""
    fx = load_fixture(name)
    headers = {k: v for k, v in fx["headers"].items() if k.lower() not in _DROP_HEADERS}
    return httpx.Response(fx["status"], json=fx["body"], headers=headers)


def parse_form(request: httpx.Request) -> dict[str, Any]:
    """Decode a multipart/form-data request body: text fields as str, file fields as (filename, bytes)."""
    ctype = request.headers.get("content-type", "")
    assert ctype.startswith("multipart/form-data"), ctype
    boundary = ctype.split("boundary=")[1].encode()
    out: dict[str, Any] = {}
    for part in request.content.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part[2:].partition(b"\r\n\r\n")
        data = data[:-2]  # the CRLF before the next boundary
        disposition = head.decode().split("\r\n")[0]
        name = disposition.split('name="')[1].split('"')[0]
        if 'filename="' in disposition:
            out[name] = (disposition.split('filename="')[1].split('"')[0], data)
        else:
            out[name] = data.decode()
    return out


class Sleeps(list[float]):
    """An injectable sleep that records the delays instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


Handler = Callable[[httpx.Request], Any]


@pytest.fixture
def make_client(sleeps: Sleeps) -> Callable[..., MVSepClient]:
    def factory(handler: Handler | httpx.AsyncBaseTransport, token: str | None = TOKEN, **kwargs: Any) -> MVSepClient:
        transport = handler if isinstance(handler, httpx.AsyncBaseTransport) else httpx.MockTransport(handler)
        kwargs.setdefault("sleep", sleeps)
        return MVSepClient(token, base_url=BASE_URL, transport=transport, **kwargs)

    return factory
