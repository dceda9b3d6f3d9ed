"""Every recorded MVSep answer replayed through the matching client method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import SeparationRequest, errors

from tests.mvsep.conftest import RECORDED, TOKEN, fixture_response, load_fixture, parse_form


class Replay:
    """A handler answering with one recorded fixture and remembering the requests."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return fixture_response(self.name)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def test_every_fixture_is_covered() -> None:
    names = {p.stem for p in RECORDED.glob("*.json")}
    assert names == set(COVERED), names ^ set(COVERED)


COVERED: list[str] = []


def covers(*names: str) -> Any:
    COVERED.extend(names)
    return pytest.mark.parametrize("fixture", names)


@covers("algorithms-200-1")
async def test_algorithms_2024_shape(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay) as client:
        algos = await client.algorithms()
    assert replay.last.method == "GET" and replay.last.url.path == "/api/app/algorithms"
    assert "api_token" not in replay.last.url.params
    assert len(algos) == 38
    first = algos[0]
    assert first.render_id == 26 and first.id == 27
    assert first.algorithm_group is not None and first.algorithm_group.id == 3
    assert first.is_active is False and first.orientation == 2 and first.price_coefficient == 2.0
    field = first.algorithm_fields[0]
    assert field.name == "add_opt1" and field.default_key == "0" and field.server_key == "detailed"
    assert list(field.options) == ["0", "1"] and field.options["0"] == "Standard set"
    assert field.input_type == "select" and field.conditions == [] and field.price_rules == []
    assert first.rating.average is None and first.output_stems == [] and first.outputs == {}
    assert first.algorithm_descriptions[0].short_description and first.short_description("ru")


@covers("demo-200-1")
async def test_demo(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay) as client:
        items = await client.demo(start=0, limit=2)
    assert dict(replay.last.url.params) == {"start": "0", "limit": "2"}
    assert [d.hash for d in items][0] == "20240514123536-15f8f16001-lxst-cxntury-carbon-mist.mp3"
    assert items[0].algorithm is not None and items[0].algorithm.render_id == 37
    assert items[1].input_audio and items[1].input_audio.endswith(".m4a")


@covers("login-200-2")
async def test_login_ok_with_null_token(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay, token=None) as client:
        result = await client.login("me@example.com", "secret-pw")
    form = parse_form(replay.last)
    assert form == {"email": "me@example.com", "password": "secret-pw"}
    assert result.premium_minutes == 54 and result.premium_enabled is True and result.long_filenames_enabled is True
    assert result.token() is None and not result.has_token
    assert "api_token" not in result.model_dump()


@covers("login-400-1")
async def test_login_validation_messages(make_client: Any, fixture: str) -> None:
    async with make_client(Replay(fixture), token=None) as client:
        with pytest.raises(errors.BadRequestError) as info:
            await client.login("", "")
    err = info.value
    assert err.status_code == 400
    assert err.message == "email: The email field is required.; password: The password field is required."
    assert err.method == "POST" and err.path == "/app/login"


@covers("news-200-1", "news-200-2")
async def test_news(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay) as client:
        items = await client.news(lang="ru", start=2, limit=1)
    assert dict(replay.last.url.params) == {"lang": "ru", "start": "2", "limit": "1"}
    body = load_fixture(fixture)["body"]
    assert [n.id for n in items] == [b["id"] for b in body]
    assert all(n.title and n.text and n.lang in ("en", "ru") for n in items)


TOGGLES = {
    "profile-enable-premium-200-1": ("enable_premium", "/app/enable_premium", "successfully enabled"),
    "profile-disable-premium-200-1": ("disable_premium", "/app/disable_premium", "successfully disabled"),
    "profile-enable-long-filenames-200-1": ("enable_long_filenames", "/app/enable_long_filenames",
                                            "successfully enabled"),
    "profile-disable-long-filenames-200-1": ("disable_long_filenames", "/app/disable_long_filenames",
                                             "successfully disabled"),
}


@covers(*TOGGLES)
async def test_toggles(make_client: Any, fixture: str) -> None:
    method, path, message = TOGGLES[fixture]
    replay = Replay(fixture)
    async with make_client(replay) as client:
        assert await getattr(client, method)() == message
    assert replay.last.method == "POST" and replay.last.url.path == "/api" + path
    assert parse_form(replay.last) == {"api_token": TOKEN}


@covers("profile-separation-history-200-1", "profile-separation-history-200-2")
async def test_history(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay) as client:
        entries = await client.separation_history(start=1, limit=2)
    assert replay.last.url.params["api_token"] == TOKEN
    assert replay.last.url.params["start"] == "1" and replay.last.url.params["limit"] == "2"
    first = entries[0]
    assert first.hash.endswith(".mp3") and first.job_exists is True and first.credits == 2
    assert first.time_left is not None and first.time_left < 0
    assert first.algorithm is not None and first.algorithm.render_id == 20
    assert first.algorithm.algorithm_group is not None and first.algorithm.algorithm_group.name == "HQ Models"


@covers("quality-checker-add-entry-200-1")
async def test_quality_add(make_client: Any, fixture: str, tmp_path: Path) -> None:
    archive = tmp_path / "stems.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    replay = Replay(fixture)
    async with make_client(replay) as client:
        added = await client.quality_add(archive, algo_name="Test Algorithm Name", dataset_type=2, ensemble=True,
                                         main_text="Test Algorithm Description", password="pw")
    assert added.id == 7772 and added.link and added.link.endswith("id=7772")
    form = parse_form(replay.last)
    assert form["zipfile"] == ("stems.zip", archive.read_bytes())
    assert {k: form[k] for k in ("algo_name", "dataset_type", "ensemble", "password", "api_token")} == {
        "algo_name": "Test Algorithm Name", "dataset_type": "2", "ensemble": "1", "password": "pw", "api_token": TOKEN}


@covers("quality-checker-delete-entry-200-1")
async def test_quality_delete(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay) as client:
        assert await client.quality_delete(7720, "pw") == "successfully deleted"
    assert parse_form(replay.last) == {"id": "7720", "password": "pw"}


@covers("register-200-1")
async def test_register(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay, token=None) as client:
        message = await client.register("Ann", "asdf@gmail.com", "pw123456", "pw123456")
    assert message == "Account verification email sent to asdf@gmail.com"
    assert set(parse_form(replay.last)) == {"name", "email", "password", "password_confirmation"}


@covers("separation-200-1")
async def test_get_waiting(make_client: Any, fixture: str) -> None:
    replay = Replay(fixture)
    async with make_client(replay) as client:
        result = await client.get_separation("20240205144711-c46e6a674c-x.mp3")
    assert replay.last.url.params["hash"] == "20240205144711-c46e6a674c-x.mp3"
    assert "mirror" not in replay.last.url.params
    assert result.status == "waiting" and not result.is_terminal and not result.is_done
    assert result.data.queue_count == 3 and result.data.current_order == 2 and result.data.message is None


@covers("separation-200-2")
async def test_get_done(make_client: Any, fixture: str) -> None:
    async with make_client(Replay(fixture), token=None) as client:
        result = await client.get_separation("h")
    assert result.is_done and result.is_terminal and not result.is_failed
    data = result.data
    assert data.output_format == "mp3 (320 kbps)" and data.size == "5.70 MB" and data.date == "2024-01-19 12:40:25"
    assert data.algorithm == "Ensemble 8 models (vocals, bass, drums, other)"
    assert data.tags["audio"]["sample_rate"] == 44100
    assert data.tags["tags"]["id3v2"]["title"] == ["Luke's Theme -A Madman's Symphony"]
    assert data.input_file is not None and data.input_file.size == "5.70 MB"
    assert data.files == []


async def test_get_done_with_files(make_client: Any) -> None:
    body = load_fixture("separation-200-2")["body"]
    body["data"]["files"] = [
        {"type": "Vocals", "url": "https://mvsep.com/storage/processed/a_vocals.mp3", "size": "5.84 MB",
         "download": "a_vocals.mp3"},
        {"url": "https://mvsep.com/storage/processed/a_other.mp3", "size": "5.1 MB", "download": "a_other.mp3",
         "image": "x.png"},
    ]
    async with make_client(lambda r: httpx.Response(200, json=body)) as client:
        result = await client.get_separation("h")
    assert [f.type for f in result.data.files] == ["Vocals", None]
    assert result.data.files[0].download == "a_vocals.mp3" and result.data.files[1].model_extra == {"image": "x.png"}


async def test_create_and_mirror_and_cancel(make_client: Any, tmp_path: Path) -> None:
    song = tmp_path / "Song.flac"
    song.write_bytes(b"fLaC" + b"\1" * 1000)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/create"):
            return httpx.Response(200, json={"success": True, "data": {"link": "https://x/api/separation/get?hash=h1",
                                                                        "hash": "h1"}})
        if request.url.path.endswith("/cancel"):
            return httpx.Response(200, json={"success": False})
        return httpx.Response(200, json={"success": True, "status": "processing", "data": {"message": "Working"}})

    async with make_client(handler) as client:
        created = await client.create_separation(SeparationRequest(
            sep_type=40, audiofile=song, options={"add_opt1": "0", "add_opt2": 81}, output_format=2))
        result = await client.get_separation(created.hash, mirror=True)
        cancelled = await client.cancel_separation("h1")
        assert client.stats.creates_sent == 1 and client.stats.requests["/separation/create"] == 1
    assert created.hash == "h1" and result.status == "processing" and result.data.message == "Working"
    assert cancelled is False
    form = parse_form(seen[0])
    assert form["audiofile"] == ("Song.flac", song.read_bytes())
    assert {k: v for k, v in form.items() if k != "audiofile"} == {
        "sep_type": "40", "output_format": "2", "add_opt1": "0", "add_opt2": "81", "is_demo": "0", "api_token": TOKEN}
    assert seen[1].url.params["mirror"] == "1" and seen[1].url.params["api_token"] == TOKEN
    assert parse_form(seen[2]) == {"hash": "h1", "api_token": TOKEN}
