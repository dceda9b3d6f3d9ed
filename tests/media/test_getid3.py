"""tags_from_getid3 on MVSep's recorded `done` result and on malformed input."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.media import TrackTags, tags_from_getid3

from tests.audio_factory import png_cover

FIXTURE = Path(__file__).parents[1] / "fixtures" / "recorded" / "separation-200-2.json"


def recorded_tags() -> dict[str, Any]:
    body = json.loads(FIXTURE.read_text(encoding="utf-8"))["body"]
    tags = body["data"]["tags"]
    assert isinstance(tags, dict)
    return tags


def test_recorded_fixture_prefers_id3v2_over_truncated_id3v1() -> None:
    tags = tags_from_getid3(recorded_tags())
    assert tags.title == "Luke's Theme -A Madman's Symphony"
    assert tags.artist == "Various Artists"
    assert tags.album == "The Letter A Horror Visual Novel Original Soundtrack"
    assert tags.date == "2022"
    assert tags.genre == "Film"
    assert tags.track == "10"
    assert tags.composer == "Yangyang Mobile"
    assert tags.cover is None


def test_inner_tags_dict_accepted_too() -> None:
    assert tags_from_getid3(recorded_tags()["tags"]).title == "Luke's Theme -A Madman's Symphony"


def test_id3v1_used_when_nothing_better() -> None:
    tags = tags_from_getid3({"tags": {"id3v1": {"title": ["Short"], "track_number": [4], "year": ["1999"]}}})
    assert (tags.title, tags.track, tags.date) == ("Short", "4", "1999")


def test_priority_per_field_across_formats() -> None:
    given = {"tags": {
        "id3v1": {"title": ["v1"], "artist": ["v1 artist"], "album": ["v1 album"], "genre": ["v1 genre"]},
        "riff": {"title": ["riff"], "product": ["riff album"], "creationdate": ["2001"]},
        "quicktime": {"title": ["qt"], "album_artist": ["qt band"], "disc_number": ["1/2"]},
        "vorbiscomment": {"TITLE": ["vorbis"], "ARTIST": ["vorbis artist"]},
        "id3v2": {"title": ["v2"], "band": []},
    }}
    tags = tags_from_getid3(given)
    assert tags.title == "v2"
    assert tags.artist == "vorbis artist"
    assert tags.albumartist == "qt band"
    assert tags.disc == "1/2"
    assert tags.album == "riff album"
    assert tags.date == "2001"
    assert tags.genre == "v1 genre"


def test_cover_from_picture_entries() -> None:
    cover = png_cover()
    given = {"tags": {"id3v2": {"title": ["T"], "picture": [{"data": "not base64!", "image_mime": "image/png"},
                                                           {"data": base64.b64encode(cover).decode(),
                                                            "image_mime": "image/png"}]}}}
    tags = tags_from_getid3(given)
    assert tags.cover is not None and tags.cover.data == cover and tags.cover.mime == "image/png"


@pytest.mark.parametrize("malformed", [
    None, [], "tags", 42, {}, {"tags": None}, {"tags": []}, {"tags": {"id3v2": None}},
    {"tags": {"id3v2": ["title", "x"]}}, {"tags": {"id3v2": {"title": None, "artist": [None, {}, []]}}},
    {"tags": {"id3v2": {"title": [""], "artist": ["\x00\x00"]}}}, {"audio": {"dataformat": "mp3"}},
    {"tags": {"id3v2": {"picture": "nope", "title": [True]}}}, {"tags": {"id3v2": {"picture": [{"data": 5}]}}},
])
def test_malformed_input_gives_empty_tags(malformed: Any) -> None:
    tags = tags_from_getid3(malformed)
    assert isinstance(tags, TrackTags)
    assert tags.is_empty


def test_scalars_and_numbers_tolerated() -> None:
    tags = tags_from_getid3({"tags": {"id3v2": {"title": "Bare", "track_number": [7.0], "year": [2020]}}})
    assert (tags.title, tags.track, tags.date) == ("Bare", "7", "2020")


def test_fills_input_without_tags() -> None:
    from_file = TrackTags(title="From File")
    merged = from_file.filled_from(tags_from_getid3(recorded_tags()))
    assert merged.title == "From File"
    assert merged.artist == "Various Artists"
