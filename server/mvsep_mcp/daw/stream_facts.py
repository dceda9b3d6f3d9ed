"""What a DAW needs to know about one audio file: rate, channels, exact length, and the codec's delay and padding.

``read_stream_facts(path)`` recognises the file by its content (stems are checked under their temporary
``.part`` names) and reads, without decoding:

| format          | length from                                  | delay / padding from                       |
|-----------------|----------------------------------------------|--------------------------------------------|
| WAV, FLAC       | their headers (``pcm_header``): exact         | none: PCM starts at its first sample       |
| AIFF, RF64, …   | libsndfile (``soundfile.info``): exact        | none: PCM starts at its first sample       |
| Ogg, Opus       | libsndfile: exact (granule positions)         | not recorded                               |
| MP3             | Xing/LAME header (mutagen's parser): exact    | LAME header, plus the decoder's 529 samples|
| M4A / MP4       | edit list (``mp4box``), else ``iTunSMPB``      | the same                                   |
| anything else   | mutagen's duration × rate: *not* exact        | unknown                                    |

An MP3 without a LAME header or an M4A without an edit list has no exact length: ``frames_exact`` is False and a
DAW will show the encoder's priming as a shift of a few tens of milliseconds.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict

from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.mp4box import gapless_from_timing, read_audio_timing
from mvsep_mcp.daw.pcm_header import header_info
from mvsep_mcp.media.probe import format_of, load_mutagen

log = logging.getLogger(__name__)

MP3_DECODER_DELAY = 529  # samples every MPEG layer III decoder adds before the encoder's own delay (LAME docs)
MP3_SAMPLES_PER_FRAME = {1: 1152, 2: 576, 2.5: 576}  # layer III, by MPEG version
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
MP3_MAX_CHANNELS = 2
PCM_FORMATS = ("wav", "flac", "aiff")

GaplessSource = Literal["pcm", "lame", "edit_list", "itunsmpb"]


class StreamFacts(BaseModel):
    """One file's stream as a DAW will see it. Frames are sample frames (one sample per channel).

    ``frames`` is the song's length, priming and padding excluded (what a gapless decoder returns); ``encoder_delay``
    and ``encoder_padding`` are what the file declares (``gapless_source`` says where); a decoder that ignores them
    starts the song ``start_offset`` frames late.
    """

    model_config = ConfigDict(frozen=True)

    format: str
    sample_rate: int
    channels: int
    frames: int | None
    frames_exact: bool
    encoding: str | None = None  # PCM_16, PCM_24, FLOAT, MPEG_LAYER_III, AAC…
    encoder_delay: int | None = None
    encoder_padding: int | None = None
    decoder_delay: int = 0
    gapless_source: GaplessSource | None = None

    def as_manifest(self) -> dict[str, Any]:
        """The JSON-ready dict for a manifest entry (``stream``); None fields left out."""
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def is_pcm(self) -> bool:
        return self.format in PCM_FORMATS

    @property
    def duration_s(self) -> float | None:
        return self.frames / self.sample_rate if self.frames is not None and self.sample_rate else None

    @property
    def start_offset(self) -> int | None:
        """Frames before the song's first sample for a decoder that ignores the gapless information."""
        if self.gapless_source == "pcm":
            return 0
        if self.encoder_delay is None:
            return None
        return self.encoder_delay + self.decoder_delay


class UnreadableAudio(DawError):
    """``read_stream_facts`` found no audio stream it can describe (the message says what was wrong)."""


def _soundfile_info(path: Path) -> Any | None:
    try:
        import soundfile
    except ImportError:  # pragma: no cover - a base dependency; kept for installs that strip it
        return None
    try:
        return soundfile.info(str(path))
    except Exception as exc:  # libsndfile raises RuntimeError/LibsndfileError/TypeError for what it cannot read
        log.debug("soundfile cannot read %s: %s", path.name, exc)
        return None


def _crc16(data: bytes) -> int:
    """CRC-16/ARC, the checksum of a LAME tag over the first 190 bytes of its frame."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _lame_tag_fields(handle: BinaryIO, frame_offset: int, xing_offset: int) -> tuple[int, int] | None:
    """(delay, padding) from a LAME-format tag with a valid CRC, whatever encoder wrote it (LAME, FFmpeg's Lavf…).

    mutagen parses the tag only when its encoder string says LAME; FFmpeg writes the same 36-byte tag after "Lavf",
    and decoders (mpg123, FFmpeg) honour it, so the fields are read here when mutagen declined.
    """
    handle.seek(frame_offset + xing_offset)
    head = handle.read(8)
    if len(head) < 8 or head[:4] not in (b"Xing", b"Info"):
        return None
    flags = struct.unpack(">I", head[4:8])[0]
    tag_at = xing_offset + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    handle.seek(frame_offset)
    frame = handle.read(max(tag_at + 36, 190))
    if len(frame) < tag_at + 36:
        return None
    tag = frame[tag_at:tag_at + 36]
    stored = struct.unpack(">H", tag[34:36])[0]
    # The CRC covers the frame's first 190 bytes, but FFmpeg computes it past the end of Info frames shorter than
    # that (MPEG-2, mono): accept a tag that names its encoder in ASCII (LAME, Lavf, Lavc…) as decoders do.
    if stored != _crc16(frame[:190]) and not tag[:4].isalnum():
        return None
    packed = int.from_bytes(tag[21:24], "big")
    return packed >> 12, packed & 0xFFF


def _mp3_facts(path: Path, audio: Any) -> StreamFacts:
    from mutagen.mp3._util import XingHeader, XingHeaderError  # private in mutagen: the only LAME parser around

    info = audio.info
    rate, channels = int(info.sample_rate), int(info.channels)
    estimate = round(float(info.length) * rate) if info.length else None
    gapless: tuple[int, int] | None = None
    xing_frames = 0
    try:
        with path.open("rb") as handle:
            xing_offset = int(XingHeader.get_offset(info))  # type: ignore[no-untyped-call]
            handle.seek(int(info.frame_offset) + xing_offset)
            xing = XingHeader(handle)  # type: ignore[no-untyped-call]
            xing_frames = int(xing.frames)
            lame = xing.lame_header
            if lame is not None:
                gapless = int(lame.encoder_delay_start), int(lame.encoder_padding_end)
            else:
                gapless = _lame_tag_fields(handle, int(info.frame_offset), xing_offset)
    except (XingHeaderError, OSError, AttributeError, AssertionError, ValueError, struct.error) as exc:
        log.debug("%s: no Xing/LAME header (%s)", path.name, exc)
    if xing_frames <= 0 or gapless is None:
        return StreamFacts(format="mp3", sample_rate=rate, channels=channels, frames=estimate, frames_exact=False,
                           encoding="MPEG_LAYER_III", decoder_delay=MP3_DECODER_DELAY)
    total = MP3_SAMPLES_PER_FRAME.get(info.version, 1152) * xing_frames
    delay, padding = gapless
    return StreamFacts(format="mp3", sample_rate=rate, channels=channels, frames=max(0, total - delay - padding),
                       frames_exact=True, encoding="MPEG_LAYER_III", encoder_delay=delay, encoder_padding=padding,
                       decoder_delay=MP3_DECODER_DELAY, gapless_source="lame")


def _itunsmpb(audio: Any) -> tuple[int, int, int] | None:
    """(priming, padding, frames) from iTunes' ``----:com.apple.iTunes:iTunSMPB`` tag, or None."""
    values = (audio.tags or {}).get("----:com.apple.iTunes:iTunSMPB") if getattr(audio, "tags", None) else None
    if not values:
        return None
    try:
        fields = bytes(values[0]).decode("ascii").split()
        return int(fields[1], 16), int(fields[2], 16), int(fields[3], 16)
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def _mp4_facts(path: Path, audio: Any) -> StreamFacts:
    info = audio.info
    rate, channels = int(info.sample_rate), int(info.channels)
    codec = str(getattr(info, "codec", "") or "")
    encoding = "AAC" if codec.startswith("mp4a") else (codec.upper() or None)
    timing = read_audio_timing(path)
    gapless = gapless_from_timing(timing, rate) if timing is not None else None
    if gapless is not None:
        return StreamFacts(format="m4a", sample_rate=rate, channels=channels, frames=gapless.frames,
                           frames_exact=gapless.exact, encoding=encoding, encoder_delay=gapless.priming,
                           encoder_padding=gapless.padding, gapless_source="edit_list")
    smpb = _itunsmpb(audio)
    if smpb is not None:
        priming, padding, frames = smpb
        return StreamFacts(format="m4a", sample_rate=rate, channels=channels, frames=frames, frames_exact=True,
                           encoding=encoding, encoder_delay=priming, encoder_padding=padding,
                           gapless_source="itunsmpb")
    estimate = timing.media_duration * rate // timing.media_timescale if timing is not None else None
    return StreamFacts(format="m4a", sample_rate=rate, channels=channels, frames=estimate, frames_exact=False,
                       encoding=encoding)


def _libsndfile_format(info: Any) -> str:
    name = str(info.format).upper()
    return {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "W64": "wav", "FLAC": "flac", "AIFF": "aiff",
            "OGG": "ogg", "MP3": "mp3"}.get(name, name.lower())


def read_stream_facts(path: Path) -> StreamFacts:
    """The stream facts of ``path``, recognised by content; raises ``UnreadableAudio`` or ``OSError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    audio = load_mutagen(path)
    kind = format_of(audio) if audio is not None else None
    if kind == "mp3":
        return _mp3_facts(path, audio)
    if kind == "m4a":
        return _mp4_facts(path, audio)
    info = header_info(path, audio, kind) or _soundfile_info(path)  # headers first: libsndfile loads numpy
    if info is not None and info.samplerate > 0 and info.channels > 0 and 0 <= info.frames < 2**62:
        fmt = _libsndfile_format(info)
        if fmt == "ogg" and kind == "opus":
            fmt = "opus"
        pcm = fmt in PCM_FORMATS
        return StreamFacts(format=fmt, sample_rate=int(info.samplerate), channels=int(info.channels),
                           frames=int(info.frames), frames_exact=True, encoding=str(info.subtype),
                           gapless_source="pcm" if pcm else None, encoder_delay=0 if pcm else None,
                           encoder_padding=0 if pcm else None)
    if audio is None:
        raise UnreadableAudio(f"{path.name} is not audio this server can read.")
    stream = audio.info
    rate = int(getattr(stream, "sample_rate", 0) or 0)
    channels = int(getattr(stream, "channels", 0) or 0)
    length = getattr(stream, "length", None)
    if rate <= 0 or channels <= 0:
        raise UnreadableAudio(f"{path.name} ({kind}) states no sample rate or channel count.")
    frames = round(float(length) * rate) if isinstance(length, (int, float)) and length > 0 else None
    return StreamFacts(format=kind or "unknown", sample_rate=rate, channels=channels, frames=frames,
                       frames_exact=False)


def mp3_limits(sample_rate: int, channels: int) -> str | None:
    """Why an MP3 stem cannot carry this rate or channel count, or None when it can."""
    problems = []
    if sample_rate not in MP3_RATES:
        problems.append(f"MP3 has no {sample_rate} Hz (its rates are 8000-48000 Hz), so the stem was encoded at "
                        "another rate")
    if channels > MP3_MAX_CHANNELS:
        problems.append(f"MP3 carries at most {MP3_MAX_CHANNELS} channels and the input has {channels}")
    if not problems:
        return None
    return "; ".join(problems) + "; choose WAV or FLAC output to keep the input's format."
