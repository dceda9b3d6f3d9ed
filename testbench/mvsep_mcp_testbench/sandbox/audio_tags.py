"""Input metadata the way MVSep reports it: getID3's analysis, reduced to ``{"audio": {...}, "tags": {...}}``.

``audio`` carries getID3's names (dataformat, channels, sample_rate, bitrate, bitrate_mode, channelmode, lossless,
bits_per_sample, encoder, encoder_options, compression_ratio, streams). ``tags`` is keyed by tag family as getID3
names them: ``id3v1``/``id3v2`` (mp3, and wav with an ``id3 `` chunk), ``vorbiscomment`` (flac, ogg), ``quicktime``
(m4a), ``riff`` (wav LIST/INFO). Inside, getID3's lower-case field names, and every value is a list of strings
(the real service gives id3v1 ``track_number`` as an int; here it is a string too). Field names:

- id3v2: the frame's getID3 short name (TIT2 title, TPE1 artist, TALB album, TPE2 band, TYER year, TCON genre,
  TRCK track_number, COMM comment, TCOM composer, ...). TDRC (ID3v2.4) gives ``recording_time`` and also ``year``.
- vorbiscomment: the field name lower-cased, as written (title, artist, albumartist, date, tracknumber, ...).
- quicktime: title, artist, album, album_artist, creation_date, genre, track_number ("3" or "3/12"), ...
- riff: title (INAM), artist (IART), product (IPRD), creationdate (ICRD), genre (IGNR), comment (ICMT), ...

Cover art and other binary frames are never included. An untagged file gives ``"tags": {}``.
"""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path
from typing import Any

import mutagen
import soundfile as sf
from mutagen.id3 import ID3, ID3NoHeaderError
from mutagen.id3 import TCON as _TCON

from mvsep_mcp_testbench.sandbox.audio_codecs import UndecodableAudio, open_reader

ID3V2_NAMES: dict[str, str] = {
    "TALB": "album", "TBPM": "bpm", "TCOM": "composer", "TCON": "genre", "TCOP": "copyright_message",
    "TDAT": "date", "TDEN": "encoding_time", "TDOR": "original_release_time", "TDRC": "recording_time",
    "TDRL": "release_time", "TDTG": "tagging_time", "TENC": "encoded_by", "TEXT": "lyricist", "TFLT": "file_type",
    "TIME": "time", "TIT1": "content_group_description", "TIT2": "title", "TIT3": "subtitle", "TKEY": "initial_key",
    "TLAN": "language", "TLEN": "length", "TMED": "media_type", "TMOO": "mood", "TOAL": "original_album",
    "TOFN": "original_filename", "TOLY": "original_lyricist", "TOPE": "original_artist", "TORY": "original_year",
    "TOWN": "file_owner", "TPE1": "artist", "TPE2": "band", "TPE3": "conductor", "TPE4": "remixer",
    "TPOS": "part_of_a_set", "TPRO": "produced_notice", "TPUB": "publisher", "TRCK": "track_number",
    "TRDA": "recording_dates", "TSOA": "album_sort_order", "TSOP": "performer_sort_order",
    "TSOT": "title_sort_order", "TSRC": "isrc", "TSSE": "encoder_settings", "TSST": "set_subtitle", "TYER": "year",
    "TCMP": "part_of_a_compilation", "TSO2": "album_artist_sort_order", "COMM": "comment",
    "USLT": "unsynchronised_lyric", "TXXX": "text", "MCDI": "music_cd_identifier", "WXXX": "url_user",
}
QUICKTIME_NAMES: dict[str, str] = {
    "\xa9nam": "title", "\xa9ART": "artist", "\xa9alb": "album", "aART": "album_artist", "\xa9day": "creation_date",
    "\xa9gen": "genre", "\xa9cmt": "comment", "\xa9wrt": "composer", "\xa9too": "encoding_tool", "\xa9lyr": "lyrics",
    "\xa9grp": "grouping", "cprt": "copyright", "desc": "description", "ldes": "long_description", "tmpo": "bpm",
    "cpil": "compilation", "pgap": "gapless_playback", "soal": "sort_album", "soar": "sort_artist",
    "soaa": "sort_album_artist", "sonm": "sort_title", "soco": "sort_composer", "\xa9enc": "encoded_by",
}
RIFF_INFO_NAMES: dict[str, str] = {
    "IARL": "archivallocation", "IART": "artist", "ICMS": "commissionedby", "ICMT": "comment", "ICNT": "country",
    "ICOP": "copyright", "ICRD": "creationdate", "IENG": "engineers", "IGNR": "genre", "IKEY": "keywords",
    "ILNG": "language", "IMED": "orignalmedium", "IMUS": "composer", "INAM": "title", "IPRD": "product",
    "IPRO": "producer", "IPRT": "part", "IRTD": "rating", "ISBJ": "subject", "ISFT": "software", "ISRC":
    "sourcesupplier", "ISTD": "productionstudio", "ITCH": "encoded_by", "IWEB": "url", "IWRI": "writer",
    "ITRK": "track_number",
}
_SKIP_VORBIS = {"metadata_block_picture", "coverart", "coverartmime"}
_MP3_MODES = {0: "stereo", 1: "joint stereo", 2: "dual channel", 3: "mono"}


def _add(bucket: dict[str, list[str]], key: str, values: list[Any]) -> None:
    texts = [str(v).strip("\x00").strip() if not isinstance(v, str) else v.rstrip("\x00") for v in values]
    texts = [t for t in texts if t != ""]
    if texts:
        bucket.setdefault(key, []).extend(texts)


def _channelmode(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def _id3v2(tags: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for frame in tags.values():
        fid = frame.FrameID
        name = ID3V2_NAMES.get(fid)
        if name is None:
            continue
        if fid == "MCDI":
            out.setdefault(name, []).append(bytes(frame.data).decode("latin-1"))
        elif fid == "WXXX":
            _add(out, name, [frame.url])
        elif fid == "TCON":
            _add(out, name, list(frame.genres))
        elif fid == "TDRC":
            stamps = [str(t) for t in frame.text]
            _add(out, name, stamps)
            if "TYER" not in tags:
                _add(out, "year", [s[:4] for s in stamps])
        else:
            _add(out, name, [str(t) for t in getattr(frame, "text", [])])
    return out


def _id3v1(path: Path) -> dict[str, list[str]]:
    try:
        with path.open("rb") as handle:
            handle.seek(-128, 2)
            block = handle.read(128)
    except OSError:
        return {}
    if len(block) != 128 or block[:3] != b"TAG":
        return {}

    def text(raw: bytes) -> str:
        return raw.split(b"\x00", 1)[0].decode("latin-1").strip()

    out: dict[str, list[str]] = {}
    comment_raw = block[97:127]
    fields = {"title": text(block[3:33]), "artist": text(block[33:63]), "album": text(block[63:93]),
              "year": text(block[93:97])}
    if comment_raw[28] == 0 and comment_raw[29] != 0:  # ID3v1.1 track number
        fields["comment"] = text(comment_raw[:28])
        fields["track_number"] = str(comment_raw[29])
    else:
        fields["comment"] = text(comment_raw)
    genre_id = block[127]
    if genre_id < len(_TCON.GENRES):
        fields["genre"] = _TCON.GENRES[genre_id]
    for key, value in fields.items():
        _add(out, key, [value])
    return out


def _riff_info(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        with path.open("rb") as handle:
            header = handle.read(12)
            if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
                return {}
            while True:
                chunk = handle.read(8)
                if len(chunk) < 8:
                    break
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"LIST" and size >= 4 and size < 16 * 1024 * 1024:
                    body = handle.read(size)
                    if body[:4] == b"INFO":
                        pos = 4
                        while pos + 8 <= len(body):
                            sub, sub_size = body[pos:pos + 4].decode("latin-1"), struct.unpack(
                                "<I", body[pos + 4:pos + 8])[0]
                            raw = body[pos + 8:pos + 8 + sub_size].split(b"\x00", 1)[0]
                            name = RIFF_INFO_NAMES.get(sub)
                            if name:
                                _add(out, name, [raw.decode("utf-8", errors="replace").strip()])
                            pos += 8 + sub_size + (sub_size & 1)
                    if size & 1:
                        handle.seek(1, 1)
                else:
                    handle.seek(size + (size & 1), 1)
    except OSError:
        return {}
    return out


def _quicktime(tags: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for atom, values in tags.items():
        if atom in ("trkn", "disk"):
            name = "track_number" if atom == "trkn" else "disc_number"
            _add(out, name, [f"{n}/{total}" if total else str(n) for n, total in values])
        elif atom == "gnre":
            _add(out, "genre", [_TCON.GENRES[g - 1] for g in values if 0 < g <= len(_TCON.GENRES)])
        elif atom.startswith("----:"):
            name = atom.rsplit(":", 1)[-1].lower()
            _add(out, name, [bytes(v).decode("utf-8", errors="replace") for v in values])
        elif atom in QUICKTIME_NAMES:
            _add(out, QUICKTIME_NAMES[atom], [int(v) if isinstance(v, bool) else v for v in values])
    return out


def _vorbis(tags: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in tags:
        if key.lower() not in _SKIP_VORBIS:
            _add(out, key.lower(), [value])
    return out


def _finish_audio(audio: dict[str, Any]) -> dict[str, Any]:
    audio = {k: v for k, v in audio.items() if v is not None}
    rate, channels, bitrate = audio.get("sample_rate"), audio.get("channels"), audio.get("bitrate")
    if rate and channels and bitrate:
        audio["compression_ratio"] = bitrate / (channels * rate * audio.get("bits_per_sample", 16))
    audio["streams"] = [dict(audio)]
    return audio


def read_getid3_tags(path: Path) -> dict[str, Any]:
    """``{"audio": {...}, "tags": {...}}`` for ``path`` as MVSep's getID3 would show it.

    Raises ``UndecodableAudio`` when the file is not audio that mutagen, soundfile or PyAV recognises.
    """
    path = Path(path)
    try:
        mf = mutagen.File(str(path))
    except Exception:
        mf = None
    kind = type(mf).__name__ if mf is not None else ""
    audio: dict[str, Any] = {}
    tags: dict[str, dict[str, list[str]]] = {}
    info: Any = getattr(mf, "info", None)
    if kind in ("MP3", "EasyMP3"):
        mode = getattr(info, "mode", None)
        bitrate_mode = str(getattr(info, "bitrate_mode", "")).rsplit(".", 1)[-1].lower()
        bitrate_mode = bitrate_mode if bitrate_mode in ("cbr", "vbr", "abr") else "cbr"
        kbps = round(info.bitrate / 1000)
        options = {"cbr": f"CBR{kbps}", "abr": f"--abr {kbps}"}.get(bitrate_mode) or (
            getattr(info, "encoder_settings", "") or "VBR")
        audio = {"dataformat": "mp3", "channels": info.channels, "sample_rate": info.sample_rate,
                 "bitrate": round(info.bitrate / 1000) * 1000, "channelmode": _MP3_MODES.get(mode or 0, "stereo"),
                 "bitrate_mode": bitrate_mode, "lossless": False,
                 "encoder": getattr(info, "encoder_info", None) or None, "encoder_options": options}
        with contextlib.suppress(Exception):
            v1 = _id3v1(path)
            if v1:
                tags["id3v1"] = v1
        with contextlib.suppress(ID3NoHeaderError, Exception):
            v2 = _id3v2(ID3(str(path), translate=False))  # type: ignore[no-untyped-call]
            if v2:
                tags["id3v2"] = v2
    elif kind == "FLAC":
        audio = {"dataformat": "flac", "channels": info.channels, "sample_rate": info.sample_rate,
                 "bitrate": int(info.bitrate), "bits_per_sample": info.bits_per_sample, "bitrate_mode": "vbr",
                 "channelmode": _channelmode(info.channels), "lossless": True,
                 "encoder": getattr(mf.tags, "vendor", None) if mf.tags is not None else None}
        if mf.tags is not None and (vc := _vorbis(mf.tags)):
            tags["vorbiscomment"] = vc
    elif kind in ("OggVorbis", "OggOpus", "OggFLAC", "OggSpeex"):
        fmt = {"OggVorbis": "vorbis", "OggOpus": "opus", "OggFLAC": "flac", "OggSpeex": "speex"}[kind]
        audio = {"dataformat": fmt, "channels": info.channels, "sample_rate": getattr(info, "sample_rate", 48000),
                 "bitrate": int(getattr(info, "bitrate", 0)) or None, "bitrate_mode": "vbr",
                 "channelmode": _channelmode(info.channels), "lossless": fmt == "flac",
                 "encoder": getattr(mf.tags, "vendor", None) if mf.tags is not None else None}
        if mf.tags is not None and (vc := _vorbis(mf.tags)):
            tags["vorbiscomment"] = vc
    elif kind == "MP4":
        codec = str(getattr(info, "codec", ""))
        lossless = codec.startswith("alac")
        audio = {"dataformat": "mp4", "codec": getattr(info, "codec_description", None) or codec or None,
                 "channels": info.channels, "sample_rate": info.sample_rate, "bitrate": int(info.bitrate) or None,
                 "bits_per_sample": getattr(info, "bits_per_sample", 16) or 16,
                 "channelmode": _channelmode(info.channels), "lossless": lossless}
        if mf.tags is not None:
            too = mf.tags.get("\xa9too")
            if too:
                audio["encoder"] = str(too[0])
            if qt := _quicktime(mf.tags):
                tags["quicktime"] = qt
    elif kind == "WAVE":
        subtype = ""
        with contextlib.suppress(Exception):
            subtype = sf.info(str(path)).subtype
        audio = {"dataformat": "wav",
                 "codec": "IEEE Float" if subtype in ("FLOAT", "DOUBLE") else "Pulse Code Modulation (PCM)",
                 "channels": info.channels, "sample_rate": info.sample_rate, "bitrate": int(info.bitrate),
                 "bits_per_sample": info.bits_per_sample, "bitrate_mode": "cbr",
                 "channelmode": _channelmode(info.channels), "lossless": True}
        if mf.tags is not None and (v2 := _id3v2(mf.tags)):
            tags["id3v2"] = v2
        if riff := _riff_info(path):
            tags["riff"] = riff
    elif kind == "AAC":
        audio = {"dataformat": "aac", "channels": info.channels, "sample_rate": info.sample_rate,
                 "bitrate": int(info.bitrate) or None, "bitrate_mode": "vbr",
                 "channelmode": _channelmode(info.channels), "lossless": False}
    else:
        audio = _fallback_audio(path)
    return {"audio": _finish_audio(audio), "tags": tags}


def _fallback_audio(path: Path) -> dict[str, Any]:
    """Audio properties of a file mutagen does not know (webm, aiff, ...), from the decoders."""
    with contextlib.suppress(Exception):
        info = sf.info(str(path))
        lossless = info.subtype.startswith("PCM") or info.subtype in ("FLOAT", "DOUBLE", "ALAC_16", "ALAC_24")
        return {"dataformat": info.format.lower(), "channels": info.channels, "sample_rate": info.samplerate,
                "channelmode": _channelmode(info.channels), "lossless": lossless}
    reader = open_reader(path)  # raises UndecodableAudio
    with contextlib.suppress(Exception):
        reader.blocks.close()  # type: ignore[attr-defined]
    fmt = path.suffix.lower().lstrip(".") or "unknown"
    if reader.channels <= 0:
        raise UndecodableAudio(f"{path.name}: no audio")
    return {"dataformat": fmt, "channels": reader.channels, "sample_rate": reader.sample_rate,
            "channelmode": _channelmode(reader.channels), "lossless": False}
