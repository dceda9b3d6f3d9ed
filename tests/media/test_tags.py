"""read_tags / write_stem_tags on real files of every format, including untagged MVSep-like files and .part names."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mvsep_mcp.media import CoverArt, TrackTags, UnsupportedAudio, read_tags, stem_title, write_stem_tags
from mvsep_mcp.media.tag_read import read_riff_info

from tests.audio_factory import FORMATS, Song, make_audio, png_cover

COVER = png_cover(rgb=(10, 200, 30))
SONG = Song(title="Test Song", artist="Test Artist", album="Test Album", albumartist="Various", date="2024",
            genre="Electronic", track="3", cover=COVER)
MODEL = "BS Roformer (viperx edition)"


def song_tags() -> TrackTags:
    return TrackTags(title="Test Song", artist="Test Artist", album="Test Album", albumartist="Various", date="2024",
                     genre="Electronic", track="3/12", disc="1/2", composer="Someone",
                     cover=CoverArt(data=COVER, mime="image/png"))


def model_tags(path: Path, fmt: str) -> tuple[str, str]:
    """The (model, stem) machine tags as stored in the file's native tag format."""
    if fmt == "mp3":
        id3 = ID3(path)
        return str(id3["TXXX:MVSEP_MODEL"].text[0]), str(id3["TXXX:MVSEP_STEM"].text[0])
    if fmt == "wav":
        wave = WAVE(path)
        assert wave.tags is not None
        return str(wave.tags["TXXX:MVSEP_MODEL"].text[0]), str(wave.tags["TXXX:MVSEP_STEM"].text[0])
    if fmt == "m4a":
        mp4 = MP4(path)
        assert mp4.tags is not None
        return (bytes(mp4.tags["----:com.mvsep:model"][0]).decode(),
                bytes(mp4.tags["----:com.mvsep:stem"][0]).decode())
    comments = FLAC(path) if fmt == "flac" else OggVorbis(path)
    assert comments.tags is not None
    return comments.tags["MVSEP_MODEL"][0], comments.tags["MVSEP_STEM"][0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_tags_each_format(tmp_path: Path, fmt: str) -> None:
    tags = read_tags(make_audio(tmp_path, fmt, song=SONG))
    assert (tags.title, tags.artist, tags.album, tags.albumartist) == ("Test Song", "Test Artist", "Test Album",
                                                                       "Various")
    assert tags.date == "2024"
    assert tags.genre == "Electronic"
    assert tags.track == "3"
    assert tags.cover is not None
    assert tags.cover.data == COVER
    assert tags.cover.mime == "image/png"


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_tags_untagged_is_empty(tmp_path: Path, fmt: str) -> None:
    tags = read_tags(make_audio(tmp_path, fmt, tagged=False))
    assert tags.is_empty


def test_read_tags_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "x.flac"
    path.write_bytes(b"\x00" * 1000)
    with pytest.raises(UnsupportedAudio, match=r"^Cannot read tags of x\.flac: .*use one of mp3, flac"):
        read_tags(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_stem_tags_on_untagged_file(tmp_path: Path, fmt: str) -> None:
    path = make_audio(tmp_path, fmt, tagged=False)
    write_stem_tags(path, song_tags(), stem="Vocals", model=MODEL)
    back = read_tags(path)
    assert back.title == "Test Song (Vocals)"
    assert back.artist == "Test Artist"
    assert back.album == "Test Album"
    assert back.albumartist == "Various"
    assert back.date == "2024"
    assert back.genre == "Electronic"
    assert back.track == "3/12"
    assert back.disc == "1/2"
    assert back.composer == "Someone"
    assert back.comment == f"Vocals stem separated by MVSep ({MODEL})"
    assert back.cover is not None and back.cover.data == COVER and back.cover.mime == "image/png"
    assert model_tags(path, fmt) == (MODEL, "Vocals")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("give_fmt", [True, False])
def test_write_stem_tags_on_part_file(tmp_path: Path, fmt: str, give_fmt: bool) -> None:
    source = make_audio(tmp_path, fmt, tagged=False)
    part = source.rename(tmp_path / f".Test Song (Drums).{fmt}.0123abcd.part")
    write_stem_tags(part, song_tags(), stem="Drums", model=MODEL, fmt=fmt if give_fmt else None)
    final = part.rename(tmp_path / f"Test Song (Drums).{fmt}")
    back = read_tags(final)
    assert back.title == "Test Song (Drums)"
    assert back.artist == "Test Artist"
    assert back.cover is not None and back.cover.data == COVER
    assert model_tags(final, fmt) == (MODEL, "Drums")


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_stem_tags_over_existing_tags_keeps_song_comment_and_replaces_cover(tmp_path: Path, fmt: str) -> None:
    other = Song(title="mvsep_output_vocals", artist=None, album=None, date=None, genre=None, track=None,
                 cover=png_cover(rgb=(1, 2, 3)))
    path = make_audio(tmp_path, fmt, song=other)
    tags = song_tags().model_copy(update={"comment": "ripped from vinyl"})
    write_stem_tags(path, tags, stem="Vocals", model=MODEL)
    write_stem_tags(path, tags, stem="Vocals", model=MODEL)  # twice: idempotent
    back = read_tags(path)
    assert back.title == "Test Song (Vocals)"
    assert back.comment == "ripped from vinyl"
    assert back.cover is not None and back.cover.data == COVER


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_stem_tags_without_title_uses_file_name(tmp_path: Path, fmt: str) -> None:
    path = make_audio(tmp_path, fmt, name="my track", tagged=False)
    write_stem_tags(path, TrackTags(artist="Someone"), stem="Bass", model=MODEL)
    assert read_tags(path).title == "my track (Bass)"
    part = shutil.copy(path, tmp_path / f".My Take (Bass).{fmt}.89abcdef.part")
    write_stem_tags(Path(part), TrackTags(), stem="Bass", model=MODEL)
    assert read_tags(Path(part)).title == "My Take (Bass)"  # temp name undone, stem not doubled


def test_write_stem_tags_fallback_title(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "flac", tagged=False)
    write_stem_tags(path, TrackTags(), stem="Other", model=MODEL, fallback_title="input name")
    assert read_tags(path).title == "input name (Other)"


def test_write_stem_tags_keeps_encoder_tag(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "m4a", tagged=False)  # PyAV writes ©too (encoder)
    write_stem_tags(path, song_tags(), stem="Vocals", model=MODEL)
    mp4 = MP4(path)
    assert mp4.tags is not None and "\xa9too" in mp4.tags


def test_write_stem_tags_jpeg_cover_in_m4a(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    path = make_audio(tmp_path, "m4a", tagged=False)
    write_stem_tags(path, TrackTags(title="T", cover=CoverArt(data=jpeg, mime="image/jpeg")), stem="V", model="M")
    cover = read_tags(path).cover
    assert cover is not None and cover.data == jpeg and cover.mime == "image/jpeg"


def test_write_stem_tags_refuses_non_audio(tmp_path: Path) -> None:
    path = tmp_path / ".x.flac.00000000.part"
    path.write_bytes(b"not audio at all" * 100)
    with pytest.raises(UnsupportedAudio, match="the stem was kept untagged"):
        write_stem_tags(path, song_tags(), stem="Vocals", model=MODEL, fmt="flac")


def _riff_info_wav(path: Path, info: dict[bytes, str]) -> None:
    body = b"INFO"
    for key, value in info.items():
        data = value.encode("utf-8") + b"\x00"
        body += key + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    with open(path, "r+b") as handle:
        content = handle.read()
        content += b"LIST" + struct.pack("<I", len(body)) + body
        content = content[:4] + struct.pack("<I", len(content) - 8) + content[8:]
        handle.seek(0)
        handle.write(content)


def test_read_tags_wav_riff_info(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "wav", tagged=False)
    _riff_info_wav(path, {b"INAM": "Info Title", b"IART": "Info Artist", b"IPRD": "Info Album", b"ITRK": "7"})
    assert read_riff_info(path).title == "Info Title"
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album, tags.track) == ("Info Title", "Info Artist", "Info Album", "7")


def test_read_tags_wav_id3_wins_over_riff_info(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "wav", tagged=False)
    _riff_info_wav(path, {b"INAM": "Info Title", b"ICMT": "info comment"})
    write_stem_tags(path, TrackTags(title="Id3 Title"), stem="Vocals", model=MODEL)
    tags = read_tags(path)
    assert tags.title == "Id3 Title (Vocals)"
    assert tags.comment == f"Vocals stem separated by MVSep ({MODEL})"


def test_stem_title() -> None:
    assert stem_title("Song", "Vocals") == "Song (Vocals)"
    assert stem_title("Song (vocals)", "Vocals") == "Song (vocals)"
    assert stem_title("Song", "") == "Song"


def test_track_tags_model() -> None:
    tags = TrackTags(title="  A ", artist="", album="\x00")
    assert (tags.title, tags.artist, tags.album) == ("A", None, None)
    assert TrackTags().is_empty and not tags.is_empty
    cover = CoverArt(data=COVER, mime="image/png")
    filled = tags.filled_from(TrackTags(title="B", artist="X", cover=cover))
    assert (filled.title, filled.artist, filled.cover) == ("A", "X", cover)
    assert tags.title == "A" and tags.artist is None  # the original is untouched
    assert filled.summary() == {"title": "A", "artist": "X", "cover": f"image/png, {len(COVER)} bytes"}
    assert "bytes" in repr(cover) and str(COVER[:4]) not in repr(cover)
    assert CoverArt.from_bytes(COVER) == cover
    assert CoverArt.from_bytes(b"") is None


def test_write_and_read_opus(tmp_path: Path) -> None:
    import soundfile as sf
    from mvsep_mcp.media import probe

    from tests.audio_factory import signal

    path = tmp_path / ".stem.opus.0000aaaa.part"
    try:
        sf.write(path, signal(1.0, 48000), 48000, format="OGG", subtype="OPUS")
    except (sf.LibsndfileError, ValueError, TypeError):
        pytest.skip("libsndfile without Opus")
    assert probe(path).format == "opus"
    write_stem_tags(path, song_tags(), stem="Vocals", model=MODEL)
    back = read_tags(path)
    assert back.title == "Test Song (Vocals)"
    assert back.cover is not None and back.cover.data == COVER
