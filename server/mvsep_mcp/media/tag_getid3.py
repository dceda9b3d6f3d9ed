"""``TrackTags`` from MVSep's ``tags`` result field, which is getID3's analysis of the uploaded input.

Shape: ``{"audio": {...}, "tags": {"id3v2": {"title": ["…"], "band": ["…"], "track_number": ["10"]}, "id3v1": {...},
"vorbiscomment": {...}, "quicktime": {...}, "riff": {...}}}`` — every value a list. For each field the first tag
format that has it wins, in the order id3v2 > vorbiscomment > quicktime > riff > ape > asf > others > id3v1 (ID3v1
truncates to 30 characters, so it comes last). Anything malformed is skipped, never raised.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from mvsep_mcp.media.tag_model import CoverArt, TrackTags, clean_text, sniff_image_mime

log = logging.getLogger(__name__)

PRIORITY = ("id3v2", "vorbiscomment", "quicktime", "riff", "ape", "asf")
LAST = ("id3v1",)

# field -> getID3 key names across tag formats (compared case-insensitively)
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "artist": ("artist",),
    "album": ("album", "product"),
    "albumartist": ("albumartist", "album_artist", "album artist", "band"),
    "date": ("date", "year", "recording_time", "creation_date", "creationdate"),
    "genre": ("genre",),
    "track": ("track_number", "tracknumber", "track"),
    "disc": ("part_of_a_set", "discnumber", "disc_number", "disknumber", "disc"),
    "comment": ("comment", "comments", "description"),
    "composer": ("composer",),
}


def _first_value(value: Any) -> str | None:
    """The first usable scalar of a getID3 value (a list, by the API's rules; a bare scalar tolerated)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    for item in values:
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if (text := clean_text(item)) is not None:
            return text
    return None


def _ordered_formats(formats: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    by_name = {str(k).lower(): v for k, v in formats.items() if isinstance(v, Mapping)}
    known = [*PRIORITY, *LAST]
    names = [n for n in PRIORITY if n in by_name]
    names += sorted(n for n in by_name if n not in known and n not in ("audio", "video", "comments_html"))
    names += [n for n in LAST if n in by_name]
    return [by_name[n] for n in names]


def _cover_from(pictures: Any) -> CoverArt | None:
    """A cover from getID3 ``picture`` entries (``{"data": <base64>, "image_mime": "image/png"}``) if present."""
    if not isinstance(pictures, (list, tuple)):
        return None
    for picture in pictures:
        if not isinstance(picture, Mapping) or not isinstance(picture.get("data"), str):
            continue
        try:
            data = base64.b64decode(picture["data"], validate=True)
        except (binascii.Error, ValueError):
            continue
        if sniff_image_mime(data) is None:
            continue
        mime = picture.get("image_mime") or picture.get("mime")
        return CoverArt.from_bytes(data, mime if isinstance(mime, str) else None)
    return None


def tags_from_getid3(mvsep_tags: Any) -> TrackTags:
    """``TrackTags`` from MVSep's ``tags`` (the whole ``{"audio", "tags"}`` dict, or just its inner ``tags``)."""
    try:
        return _parse(mvsep_tags)
    except Exception as exc:  # a malformed server field must never break a job
        log.warning("ignoring MVSep tags that could not be read: %s", exc)
        return TrackTags()


def _parse(mvsep_tags: Any) -> TrackTags:
    if not isinstance(mvsep_tags, Mapping):
        return TrackTags()
    inner = mvsep_tags.get("tags")
    formats = inner if isinstance(inner, Mapping) else mvsep_tags
    ordered = _ordered_formats(formats)
    fields: dict[str, Any] = {}
    for name, aliases in ALIASES.items():
        for fmt in ordered:
            lowered = {str(k).lower(): v for k, v in fmt.items()}
            value = next((v for key in aliases if (v := _first_value(lowered.get(key))) is not None), None)
            if value is not None:
                fields[name] = value
                break
    cover = None
    for fmt in ordered:
        if (cover := _cover_from(fmt.get("picture"))) is not None:
            break
    comments = mvsep_tags.get("comments")
    if cover is None and isinstance(comments, Mapping):
        cover = _cover_from(comments.get("picture"))
    fields["cover"] = cover
    return TrackTags(**fields)
