"""SeparationRequest: exactly one input kind (or none), option names checked, form fields as MVSep expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import SeparationRequest
from pydantic import ValidationError

from tests.mvsep.conftest import TOKEN, parse_form

CREATED = {"success": True, "data": {"link": "l", "hash": "h"}}


def test_input_kinds(tmp_path: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    assert SeparationRequest(sep_type=1, audiofile=a).input_kind == "file"
    assert SeparationRequest(sep_type=1, url="https://example.com/x.mp3", remote_type="drive").input_kind == "url"
    assert SeparationRequest(sep_type=68, target_audiofile=a, reference_audiofile=b).input_kind == "matchering"
    assert SeparationRequest(sep_type=90, options={"add_opt1": "Hello there"}).input_kind == "none"
    bad: list[dict[str, Any]] = [
        {"audiofile": a, "url": "https://example.com/x.mp3"},
        {"target_audiofile": a},
        {"audiofile": a, "target_audiofile": a, "reference_audiofile": b},
        {"remote_type": "mega"},
        {"url": "ftp://example.com/x"},
        {"options": {"opt1": "0"}},
        {"output_format": 6},
        {"audiofile": a, "sep_typo": 3},
    ]
    for extra in bad:
        with pytest.raises(ValidationError):
            SeparationRequest(sep_type=1, **extra)


def test_form_fields() -> None:
    request = SeparationRequest(sep_type=40, url="https://example.com/x.mp3", options={"add_opt2": 0.3, "add_opt1": 7},
                                output_format=5, is_demo=True)
    assert request.form_fields() == {"sep_type": "40", "output_format": "5", "url": "https://example.com/x.mp3",
                                     "remote_type": "direct", "add_opt2": "0.3", "add_opt1": "7", "is_demo": "1"}
    assert request.upload_files() == [] and request.display_name == "https://example.com/x.mp3"


async def test_matchering_and_text_only_uploads(make_client: Any, tmp_path: Path) -> None:
    target, reference = tmp_path / "mine.wav", tmp_path / "ref.wav"
    target.write_bytes(b"T" * 100)
    reference.write_bytes(b"R" * 50)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=CREATED)

    async with make_client(handler) as client:
        await client.create_separation(SeparationRequest(sep_type=68, target_audiofile=target,
                                                         reference_audiofile=reference))
        await client.create_separation(SeparationRequest(sep_type=90, options={"add_opt1": "Say hi"}))
    first, second = parse_form(seen[0]), parse_form(seen[1])
    assert first["target_audiofile"] == ("mine.wav", b"T" * 100)
    assert first["reference_audiofile"] == ("ref.wav", b"R" * 50)
    assert "audiofile" not in first and first["api_token"] == TOKEN
    assert all(not isinstance(v, tuple) for v in second.values()) and second["add_opt1"] == "Say hi"


async def test_missing_input_file_fails_before_sending(make_client: Any, tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never reached
        raise AssertionError("nothing must be sent")

    async with make_client(handler) as client:
        with pytest.raises(FileNotFoundError):
            await client.create_separation(SeparationRequest(sep_type=1, audiofile=tmp_path / "nope.mp3"))
        assert client.stats.total_requests == 0
