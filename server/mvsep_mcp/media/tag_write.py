# mypy: disable-error-code="no-untyped-call"
"""Put a song's tags on one separated stem: ``write_stem_tags``.

What a stem gets: every ``TrackTags`` field of the song, its front cover, the title ``"<Title> (<Stem>)"``, and two
machine tags naming the separation — ID3 ``TXXX:MVSEP_MODEL`` / ``TXXX:MVSEP_STEM``, Vorbis ``MVSEP_MODEL`` /
``MVSEP_STEM``, MP4 ``----:com.mvsep:model`` / ``----:com.mvsep:stem``. The comment is the song's own comment when it
has one (it is the song's metadata, like the rest); otherwise a human line "Vocals stem separated by MVSep (<model>)".

Tags already in the file (an encoder tag MVSep wrote) are kept; fields we set replace theirs; an existing cover is
replaced only when the song has one. ID3 is saved as v2.3, which every DAW and OS file browser reads. RIFF INFO in
WAV files is left as it is (mutagen cannot write it); the ID3 chunk carries the tags.

Files are recognised by content, so the temporary ``.<name>.<random>.part`` download can be tagged before it is
renamed; ``fmt`` may name the format to skip detection.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import mutagen
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, COMM, ID3, TALB, TCOM, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK, TXXX
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4Cover, MP4FreeForm
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from mvsep_mcp.media.errors import UnsupportedAudio
from mvsep_mcp.media.files import final_name_from_temp
from mvsep_mcp.media.probe import format_of, load_mutagen
from mvsep_mcp.media.tag_model import CoverArt, TrackTags

log = logging.getLogger(__name__)

MODEL_KEY = "MVSEP_MODEL"
STEM_KEY = "MVSEP_STEM"
MP4_MODEL_ATOM = "----:com.mvsep:model"
MP4_STEM_ATOM = "----:com.mvsep:stem"
ID3_VERSION = 3

_CLASSES_BY_FORMAT: dict[str, list[type[Any]]] = {
    "mp3": [MP3], "wav": [WAVE], "wave": [WAVE], "flac": [FLAC], "m4a": [MP4], "mp4": [MP4], "aac": [MP4],
    "alac": [MP4], "ogg": [OggVorbis, OggOpus, OggFLAC], "oga": [OggVorbis, OggOpus, OggFLAC], "opus": [OggOpus],
    "aiff": [AIFF], "aif": [AIFF],
}
WRITABLE_FORMATS = ("mp3", "flac", "m4a", "wav", "ogg", "opus", "aiff")


def stem_title(base: str, stem: str) -> str:
    """``"Song (Vocals)"``; unchanged when ``base`` already ends with that stem mark (tagging twice is harmless)."""
    base, stem = base.strip(), stem.strip()
    if not stem or base.casefold().endswith(f"({stem})".casefold()):
        return base
    return f"{base} ({stem})"


def _base_title(path: Path, tags: TrackTags, fallback_title: str | None) -> str:
    if tags.title:
        return tags.title
    if fallback_title and fallback_title.strip():
        return fallback_title.strip()
    name = final_name_from_temp(path.name) or path.name
    return Path(name).stem or name


def _split_number(value: str | None) -> tuple[int, int] | None:
    """(3, 12) from "3/12", (3, 0) from "3"; None when not numeric."""
    if not value:
        return None
    number, _, total = value.partition("/")
    try:
        return int(number.strip()), int(total.strip() or 0)
    except ValueError:
        return None


def _open(path: Path, fmt: str | None) -> Any:
    classes = _CLASSES_BY_FORMAT.get((fmt or "").lower().lstrip("."))
    audio: Any = None
    if classes:
        for cls in classes:
            try:
                audio = cls(path)
                break
            except (mutagen.MutagenError, OSError, ValueError, EOFError):
                continue
    if audio is None:
        audio = load_mutagen(path)
    if audio is None:
        raise UnsupportedAudio(f"Cannot tag {path.name}: it is not audio mutagen can read; the stem was kept untagged.")
    return audio


# --- ID3 (mp3, wav, aiff) -----------------------------------------------------------------------------------------

def _apply_id3(id3: ID3, tags: TrackTags, title: str, comment: str, stem: str, model: str) -> None:
    text_frames = ((TIT2, title), (TPE1, tags.artist), (TALB, tags.album), (TPE2, tags.albumartist),
                   (TDRC, tags.date), (TCON, tags.genre), (TRCK, tags.track), (TPOS, tags.disc),
                   (TCOM, tags.composer))
    for frame_cls, value in text_frames:
        if value:
            id3.add(frame_cls(encoding=3, text=[value]))
    for frame in list(id3.getall("COMM")):
        if frame.desc == "":
            id3.delall(frame.HashKey)
    id3.add(COMM(encoding=3, lang="eng", desc="", text=[comment]))
    id3.add(TXXX(encoding=3, desc=MODEL_KEY, text=[model]))
    id3.add(TXXX(encoding=3, desc=STEM_KEY, text=[stem]))
    if tags.cover is not None:
        id3.delall("APIC")
        id3.add(APIC(encoding=3, mime=tags.cover.mime, type=3, desc="Cover", data=tags.cover.data))


# --- Vorbis comments (flac, ogg, opus) -----------------------------------------------------------------------------

def _picture(cover: CoverArt) -> Picture:
    picture = Picture()
    picture.type = 3
    picture.mime = cover.mime
    picture.desc = "Cover"
    picture.data = cover.data
    return picture


def _apply_vorbis(audio: Any, tags: TrackTags, title: str, comment: str, stem: str, model: str) -> None:
    if audio.tags is None:
        audio.add_tags()
    comments = audio.tags
    values = {"TITLE": title, "ARTIST": tags.artist, "ALBUM": tags.album, "ALBUMARTIST": tags.albumartist,
              "DATE": tags.date, "GENRE": tags.genre, "COMPOSER": tags.composer, "COMMENT": comment,
              MODEL_KEY: model, STEM_KEY: stem}
    for field, (number_key, total_key) in (("track", ("TRACKNUMBER", "TRACKTOTAL")),
                                           ("disc", ("DISCNUMBER", "DISCTOTAL"))):
        raw = getattr(tags, field)
        if raw:
            number, _, total = raw.partition("/")
            values[number_key] = number.strip()
            if total.strip():
                values[total_key] = total.strip()
    for key, value in values.items():
        if value:
            comments[key] = [value]
    if "DESCRIPTION" in comments and comment:
        del comments["DESCRIPTION"]  # the comment now lives in COMMENT
    if tags.cover is not None:
        if isinstance(audio, FLAC):
            audio.clear_pictures()
            audio.add_picture(_picture(tags.cover))
        else:
            for legacy in ("COVERART", "COVERARTMIME"):
                if legacy in comments:
                    del comments[legacy]
            encoded = base64.b64encode(_picture(tags.cover).write()).decode("ascii")
            comments["METADATA_BLOCK_PICTURE"] = [encoded]


# --- MP4 (m4a) ----------------------------------------------------------------------------------------------------

def _apply_mp4(audio: MP4, tags: TrackTags, title: str, comment: str, stem: str, model: str) -> None:
    if audio.tags is None:
        audio.add_tags()
    atoms = audio.tags
    assert atoms is not None
    for atom, value in (("\xa9nam", title), ("\xa9ART", tags.artist), ("\xa9alb", tags.album),
                        ("aART", tags.albumartist), ("\xa9day", tags.date), ("\xa9gen", tags.genre),
                        ("\xa9wrt", tags.composer), ("\xa9cmt", comment)):
        if value:
            atoms[atom] = [value]
    if tags.genre and "gnre" in atoms:
        del atoms["gnre"]
    for atom, raw in (("trkn", tags.track), ("disk", tags.disc)):
        pair = _split_number(raw)
        if pair is not None:
            atoms[atom] = [pair]
    atoms[MP4_MODEL_ATOM] = [MP4FreeForm(model.encode("utf-8"), dataformat=AtomDataType.UTF8)]
    atoms[MP4_STEM_ATOM] = [MP4FreeForm(stem.encode("utf-8"), dataformat=AtomDataType.UTF8)]
    if tags.cover is not None:
        image_format = MP4Cover.FORMAT_PNG if tags.cover.mime == "image/png" else MP4Cover.FORMAT_JPEG
        atoms["covr"] = [MP4Cover(tags.cover.data, imageformat=image_format)]


# --- entry point --------------------------------------------------------------------------------------------------

def write_stem_tags(
    path: Path,
    tags: TrackTags,
    *,
    stem: str,
    model: str,
    fmt: str | None = None,
    fallback_title: str | None = None,
    keep_title: bool = False,
    comment: str | None = None,
) -> None:
    """Tag the stem file ``path`` with the song's ``tags``, title "<Title> (<stem>)" and the model's name.

    ``fmt`` ("mp3", "flac", "m4a", "wav", "ogg"…) skips content detection (use it for ``.part`` files if known).
    Without a song title the title comes from ``fallback_title``, else from the file name (a temp name is undone).
    ``keep_title``: the song's title as it is (a DJ stem file is the song); ``comment``: the comment when the song
    has none (default: "<stem> stem separated by MVSep (<model>)").
    Raises ``UnsupportedAudio`` for files that cannot carry tags (the stem itself stays usable).
    """
    path = Path(path)
    audio = _open(path, fmt)
    base = _base_title(path, tags, fallback_title)
    title = base if keep_title else stem_title(base, stem)
    comment = tags.comment or comment or f"{stem} stem separated by MVSep ({model})"
    if isinstance(audio, (MP3, WAVE, AIFF)):
        if audio.tags is None:
            audio.add_tags()
        id3: Any = audio.tags
        _apply_id3(id3, tags, title, comment, stem, model)
        audio.save(v2_version=ID3_VERSION)
    elif isinstance(audio, (FLAC, OggVorbis, OggOpus, OggFLAC)):
        _apply_vorbis(audio, tags, title, comment, stem, model)
        audio.save()
    elif isinstance(audio, MP4):
        _apply_mp4(audio, tags, title, comment, stem, model)
        audio.save()
    else:
        raise UnsupportedAudio(
            f"Cannot tag {path.name}: {format_of(audio)} files cannot carry tags here; "
            f"the stem was kept untagged (taggable: {', '.join(WRITABLE_FORMATS)})."
        )
    log.debug("tagged %s as %r (%s, %s)", path.name, title, stem, model)
