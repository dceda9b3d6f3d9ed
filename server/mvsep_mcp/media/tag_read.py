# mypy: disable-error-code="no-untyped-call"
"""Read ``TrackTags`` from an audio file: ID3 (mp3, wav, aiff), Vorbis comments (flac, ogg, opus), MP4 atoms (m4a).

WAV files may carry an ``id3 `` chunk (mutagen reads it) and/or a RIFF ``LIST/INFO`` chunk, which mutagen does not
read: a small reader here fills whatever the ID3 chunk left empty.
"""

from __future__ import annotations

import base64
import binascii
import logging
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Cover, MP4Tags

from mvsep_mcp.media.errors import UnsupportedAudio
from mvsep_mcp.media.probe import SUPPORTED_FORMATS, load_mutagen
from mvsep_mcp.media.tag_model import CoverArt, TrackTags

log = logging.getLogger(__name__)

_ID3_TEXT = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "albumartist": "TPE2", "date": "TDRC",
             "track": "TRCK", "disc": "TPOS", "composer": "TCOM"}
_MP4_TEXT = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "albumartist": "aART", "date": "\xa9day",
             "genre": "\xa9gen", "comment": "\xa9cmt", "composer": "\xa9wrt"}
_VORBIS_TEXT = {"title": ("title",), "artist": ("artist",), "album": ("album",),
                "albumartist": ("albumartist", "album artist", "album_artist"), "date": ("date", "year"),
                "genre": ("genre",), "comment": ("comment", "description"), "composer": ("composer",)}
_RIFF_INFO = {b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"ICRD": "date", b"IGNR": "genre",
              b"ICMT": "comment", b"ITRK": "track", b"IPRT": "track", b"IMUS": "composer"}
_MAX_INFO_BYTES = 1 << 20


def _join(values: Iterable[Any]) -> str | None:
    parts = [str(v).replace("\x00", "").strip() for v in values]
    text = "; ".join(p for p in parts if p)
    return text or None


def _numbered(number: Any, total: Any) -> str | None:
    """"3/12" from a number and a total, "3" without a (non-zero) total."""
    number_text = str(number).strip() if number not in (None, "", 0) else ""
    if not number_text:
        return None
    total_text = str(total).strip() if total not in (None, "", 0, "0") else ""
    if total_text and "/" not in number_text:
        return f"{number_text}/{total_text}"
    return number_text


# --- ID3 --------------------------------------------------------------------------------------------------------

def from_id3(id3: ID3 | None) -> TrackTags:
    """Tags from an ID3 frame set (mp3, the ID3 chunk of wav/aiff)."""
    if id3 is None:
        return TrackTags()
    fields: dict[str, Any] = {}
    for name, frame_id in _ID3_TEXT.items():
        frames = id3.getall(frame_id)
        if frames:
            fields[name] = _join(str(text) for text in frames[0].text)
    genres = id3.getall("TCON")
    if genres:
        fields["genre"] = _join(genres[0].genres)
    comments = [f for f in id3.getall("COMM") if not str(f.desc).lower().startswith("itun")]
    comments.sort(key=lambda f: f.desc != "")  # the plain comment (no description) first
    if comments:
        fields["comment"] = _join(str(text) for text in comments[0].text)
    pictures = id3.getall("APIC")
    pictures.sort(key=lambda f: f.type != 3)  # front cover first
    if pictures:
        fields["cover"] = CoverArt.from_bytes(pictures[0].data, pictures[0].mime)
    return TrackTags(**fields)


# --- Vorbis comments ----------------------------------------------------------------------------------------------

def _picture_from_block(encoded: str) -> CoverArt | None:
    try:
        picture = Picture(base64.b64decode(encoded))
    except (binascii.Error, ValueError, mutagen.MutagenError, struct.error) as exc:
        log.debug("ignoring an unreadable METADATA_BLOCK_PICTURE: %s", exc)
        return None
    return CoverArt.from_bytes(picture.data, picture.mime)


def from_vorbis(comments: Any, pictures: list[Picture] | None = None) -> TrackTags:
    """Tags from Vorbis comments (flac, ogg vorbis/opus/flac) plus FLAC picture blocks."""
    fields: dict[str, Any] = {}
    if comments is not None:
        def first(*keys: str) -> str | None:
            for key in keys:
                values = comments.get(key)
                if values:
                    return _join(values)
            return None

        for name, keys in _VORBIS_TEXT.items():
            fields[name] = first(*keys)
        fields["track"] = _numbered(first("tracknumber"), first("tracktotal", "totaltracks"))
        fields["disc"] = _numbered(first("discnumber"), first("disctotal", "totaldiscs"))
    covers: list[CoverArt] = []
    for picture in sorted(pictures or [], key=lambda p: p.type != 3):
        if (cover := CoverArt.from_bytes(picture.data, picture.mime)) is not None:
            covers.append(cover)
    if not covers and comments is not None:
        for block in comments.get("metadata_block_picture") or []:
            if (cover := _picture_from_block(block)) is not None:
                covers.append(cover)
        for legacy in comments.get("coverart") or []:  # pre-2010 taggers: bare base64 image
            try:
                data = base64.b64decode(legacy)
            except (binascii.Error, ValueError):
                continue
            mime = (comments.get("coverartmime") or [None])[0]
            if (cover := CoverArt.from_bytes(data, mime)) is not None:
                covers.append(cover)
    if covers:
        fields["cover"] = covers[0]
    return TrackTags(**fields)


# --- MP4 ----------------------------------------------------------------------------------------------------------

def from_mp4(atoms: MP4Tags | None) -> TrackTags:
    """Tags from MP4 atoms (m4a)."""
    if atoms is None:
        return TrackTags()
    fields: dict[str, Any] = {}
    for name, atom in _MP4_TEXT.items():
        values = atoms.get(atom)
        if values:
            fields[name] = _join(values)
    for name, atom in (("track", "trkn"), ("disc", "disk")):
        pairs = atoms.get(atom)
        if pairs and isinstance(pairs[0], tuple) and len(pairs[0]) == 2:
            fields[name] = _numbered(pairs[0][0], pairs[0][1])
    covers = atoms.get("covr") or []
    if covers:
        cover: MP4Cover = covers[0]
        image_format: Any = getattr(cover, "imageformat", None)
        mime = {MP4Cover.FORMAT_PNG: "image/png", MP4Cover.FORMAT_JPEG: "image/jpeg"}.get(image_format)
        fields["cover"] = CoverArt.from_bytes(bytes(cover), mime)
    return TrackTags(**fields)


# --- RIFF INFO ----------------------------------------------------------------------------------------------------

def _decode_info(raw: bytes) -> str | None:
    raw = raw.split(b"\x00", 1)[0]
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding).strip() or None
        except UnicodeDecodeError:
            continue
    return None


def read_riff_info(path: Path) -> TrackTags:
    """Tags from a WAV file's ``LIST/INFO`` chunk (INAM, IART, IPRD, ICRD, IGNR, ICMT, ITRK); empty when absent."""
    fields: dict[str, Any] = {}
    try:
        with open(path, "rb") as handle:
            header = handle.read(12)
            if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                return TrackTags()
            while True:
                chunk = handle.read(8)
                if len(chunk) < 8:
                    break
                chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if chunk_id == b"LIST" and 4 <= size <= _MAX_INFO_BYTES:
                    body = handle.read(size)
                    if body[:4] == b"INFO":
                        fields.update(_parse_info(body[4:]))
                    if size % 2:
                        handle.seek(1, 1)
                else:
                    handle.seek(size + (size % 2), 1)
    except OSError as exc:
        log.debug("could not read RIFF INFO of %s: %s", path, exc)
    return TrackTags(**fields)


def _parse_info(body: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    offset = 0
    while offset + 8 <= len(body):
        sub_id, size = body[offset : offset + 4], struct.unpack("<I", body[offset + 4 : offset + 8])[0]
        value = body[offset + 8 : offset + 8 + size]
        offset += 8 + size + (size % 2)
        name = _RIFF_INFO.get(sub_id)
        if name and name not in fields and (text := _decode_info(value)):
            fields[name] = text
    return fields


# --- entry point --------------------------------------------------------------------------------------------------

def tags_of_loaded(audio: Any, path: Path) -> TrackTags:
    """Tags of an already loaded mutagen ``FileType`` (``path`` is used for the RIFF INFO fallback)."""
    kind = type(audio).__name__
    tags = getattr(audio, "tags", None)
    if isinstance(tags, ID3):
        result = from_id3(tags)
    elif isinstance(tags, MP4Tags) or kind in ("MP4", "EasyMP4"):
        result = from_mp4(tags if isinstance(tags, MP4Tags) else None)
    elif kind in ("FLAC", "OggVorbis", "OggOpus", "OggFLAC", "OggSpeex", "OggTheora"):
        result = from_vorbis(tags, getattr(audio, "pictures", None))
    elif kind in ("MP3", "WAVE", "AIFF"):
        result = TrackTags()  # no tag header yet
    else:
        log.debug("no tag reader for %s (%s)", path, kind)
        result = TrackTags()
    if kind == "WAVE":
        result = result.filled_from(read_riff_info(path))
    return result


def read_tags(path: Path) -> TrackTags:
    """The tags and front cover of ``path``; empty ``TrackTags`` for audio without tags.

    Raises ``FileNotFoundError`` for a missing file and ``UnsupportedAudio`` for a file mutagen cannot read.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    audio = load_mutagen(path)
    if audio is None:
        raise UnsupportedAudio(
            f"Cannot read tags of {path.name}: it is not audio mutagen can read; use one of "
            f"{', '.join(f for f in SUPPORTED_FORMATS if f != 'webm')}."
        )
    return tags_of_loaded(audio, path)
