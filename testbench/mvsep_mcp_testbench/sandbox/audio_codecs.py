"""Audio decoding and encoding for the sandbox: soundfile where it can, PyAV (FFmpeg) otherwise.

Readers stream float32 ``(frames, channels)`` blocks at the file's own sample rate and channel count. Writers take
float64 blocks and encode one of MVSep's six output formats:

| code | label (as MVSep shows it)     | how                                                        |
|------|-------------------------------|------------------------------------------------------------|
| 0    | ``mp3 (320 kbps)``            | libsndfile/LAME, CBR at the highest bitrate of the rate    |
| 1    | ``wav (uncompressed, 16 bit)``| PCM_16, written as int16 (no float->int scaling surprises) |
| 2    | ``flac (lossless, 16 bit)``   | PCM_16                                                     |
| 3    | ``m4a (lossy)``               | AAC-LC 256 kbps in MP4 (PyAV), priming/padding in edit list|
| 4    | ``wav (uncompressed, 32 bit)``| IEEE float 32                                              |
| 5    | ``flac (lossless, 24 bit)``   | PCM_24                                                     |

Integer writers take already quantised integers (see ``quantise``) so that the caller can make a residual stem
absorb the rounding of the others. Lossy writers clip to [-1, 1]. Lengths: lossless outputs keep the frame count
exactly; mp3 from libsndfile carries a LAME gapless header and decodes to the exact count; m4a decodes to the exact
count when read through ``open_reader`` (which trims to the stream duration the MP4 edit list records, sample-exact
because the movie time scale is the sample rate).
MP3 only exists at 8-48 kHz: other rates are the one case that is resampled (to the nearest MP3 rate, via PyAV).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

READ_BLOCK = 65536
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
AAC_BIT_RATE = 256_000


class UndecodableAudio(Exception):
    """The file is not audio that can be decoded (garbage, empty, truncated header, no audio stream, no frames)."""


@dataclass(frozen=True)
class OutputFormat:
    """One of MVSep's ``output_format`` codes: ``label`` is the text MVSep shows, ``ext`` the file extension."""

    code: int
    label: str
    ext: str


OUTPUT_FORMATS: dict[int, OutputFormat] = {
    0: OutputFormat(0, "mp3 (320 kbps)", "mp3"),
    1: OutputFormat(1, "wav (uncompressed, 16 bit)", "wav"),
    2: OutputFormat(2, "flac (lossless, 16 bit)", "flac"),
    3: OutputFormat(3, "m4a (lossy)", "m4a"),
    4: OutputFormat(4, "wav (uncompressed, 32 bit)", "wav"),
    5: OutputFormat(5, "flac (lossless, 24 bit)", "flac"),
}

# code -> integer bit depth of the PCM written (None: float or lossy)
INTEGER_BITS: dict[int, int | None] = {0: None, 1: 16, 2: 16, 3: None, 4: None, 5: 24}


# --------------------------------------------------------------------------------------------------- reading


@dataclass
class Reader:
    """An opened audio file: its rate, channels, frame count if known, and a block iterator."""

    sample_rate: int
    channels: int
    frames: int | None
    blocks: Iterator[np.ndarray]


def _soundfile_reader(path: Path) -> Reader:
    handle = sf.SoundFile(str(path))
    if handle.samplerate <= 0 or handle.channels <= 0:
        handle.close()
        raise UndecodableAudio(f"{path.name}: no audio")

    def blocks() -> Iterator[np.ndarray]:
        with handle:
            while True:
                data = handle.read(READ_BLOCK, dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    return
                yield data

    frames = handle.frames if 0 <= handle.frames < 2**62 else None
    return Reader(handle.samplerate, handle.channels, frames, blocks())


def _pyav_reader(path: Path) -> Reader:
    container = av.open(str(path))
    try:
        if not container.streams.audio:
            raise UndecodableAudio(f"{path.name}: no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = int(stream.codec_context.channels or 0)
        if rate <= 0 or channels <= 0:
            raise UndecodableAudio(f"{path.name}: no usable audio stream")
        frames: int | None = None
        if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
            frames = int(round(float(stream.duration * stream.time_base) * rate))
    except BaseException:
        container.close()
        raise

    def blocks() -> Iterator[np.ndarray]:
        # Decoders drop the priming samples the MP4 edit list declares; the padding at the end is cut here.
        remaining = frames
        resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    data = np.ascontiguousarray(out.to_ndarray().T, dtype=np.float32)
                    if data.ndim != 2 or data.shape[1] != channels:
                        data = data.reshape(-1, channels)
                    if remaining is not None:
                        data = data[:remaining]
                        remaining -= data.shape[0]
                    if data.shape[0]:
                        yield data
                    if remaining is not None and remaining <= 0:
                        return
        finally:
            container.close()

    return Reader(rate, channels, frames, blocks())


def open_reader(path: Path) -> Reader:
    """Open ``path`` for block decoding; raises ``UndecodableAudio`` when neither backend can read it."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise UndecodableAudio(f"{path.name}: empty file")
    except OSError as exc:
        raise UndecodableAudio(f"{path.name}: {exc.strerror or exc}") from exc
    try:
        return _soundfile_reader(path)
    except UndecodableAudio:
        raise
    except Exception as sf_exc:  # libsndfile cannot read it: try FFmpeg
        log.debug("soundfile cannot read %s (%s); trying PyAV", path.name, sf_exc)
    try:
        return _pyav_reader(path)
    except UndecodableAudio:
        raise
    except Exception as exc:
        raise UndecodableAudio(f"{path.name}: not decodable audio ({type(exc).__name__})") from exc


def guarded_blocks(path: Path, reader: Reader) -> Generator[np.ndarray, None, None]:
    """``reader.blocks`` with decoder errors turned into ``UndecodableAudio``."""
    try:
        yield from reader.blocks
    except UndecodableAudio:
        raise
    except Exception as exc:
        raise UndecodableAudio(f"{Path(path).name}: decoding failed ({type(exc).__name__})") from exc


# --------------------------------------------------------------------------------------------------- writing


class Writer(Protocol):
    """Encodes stem blocks to one file."""

    def write(self, block: np.ndarray) -> None: ...

    def close(self) -> None: ...


def quantise(block: np.ndarray, bits: int) -> np.ndarray:
    """Float [-1, 1) to integers at ``bits`` depth, as int64 (scale 2**(bits-1), the way libsndfile reads back)."""
    scale = float(2 ** (bits - 1))
    quantised: np.ndarray = np.rint(np.asarray(block, dtype=np.float64) * scale).astype(np.int64)
    return quantised


def clip_int(values: np.ndarray, bits: int) -> np.ndarray:
    """Clip int64 samples to the signed range of ``bits``."""
    top = 2 ** (bits - 1)
    clipped: np.ndarray = np.clip(values, -top, top - 1)
    return clipped


class _SoundfileWriter:
    def __init__(self, path: Path, rate: int, channels: int, code: int) -> None:
        self._bits = INTEGER_BITS[code]
        self._code = code
        kwargs: dict[str, object] = {}
        if code == 0:
            fmt, subtype = "MP3", "MPEG_LAYER_III"
            kwargs = {"compression_level": 0.0, "bitrate_mode": "CONSTANT"}
        elif code in (1, 4):
            fmt, subtype = "WAV", ("PCM_16" if code == 1 else "FLOAT")
        else:
            fmt, subtype = "FLAC", ("PCM_16" if code == 2 else "PCM_24")
        self._file = sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, format=fmt, subtype=subtype,
                                  **kwargs)

    def write(self, block: np.ndarray) -> None:
        if self._bits == 16:
            self._file.write(clip_int(np.asarray(block, dtype=np.int64), 16).astype(np.int16))
        elif self._bits == 24:  # libsndfile takes the top 24 bits of an int32
            self._file.write((clip_int(np.asarray(block, dtype=np.int64), 24) * 256).astype(np.int32))
        elif self._code == 0:
            self._file.write(np.clip(block, -1.0, 1.0).astype(np.float32))
        else:
            self._file.write(np.asarray(block, dtype=np.float32))

    def close(self) -> None:
        self._file.close()


_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


class _PyAVWriter:
    """AAC in MP4 (``codec="aac"``), or MP3 through libmp3lame when the rate needs resampling."""

    def __init__(self, path: Path, rate: int, channels: int, *, codec: str, container_format: str,
                 bit_rate: int, out_rate: int | None = None, options: dict[str, str] | None = None) -> None:
        if channels not in _LAYOUTS:
            raise ValueError(f"cannot encode {channels} channels")
        self._layout = _LAYOUTS[channels]
        self._rate = rate
        self._container = av.open(str(path), "w", format=container_format, options=options or {})
        stream: Any = self._container.add_stream(codec, rate=out_rate or rate, layout=self._layout)
        stream.bit_rate = bit_rate
        self._stream = stream
        self._resampler = (av.AudioResampler(format="fltp", layout=self._layout, rate=out_rate)
                           if out_rate and out_rate != rate else None)
        self._pts = 0

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def write(self, block: np.ndarray) -> None:
        planar = np.ascontiguousarray(np.clip(block, -1.0, 1.0).T, dtype=np.float32)
        if planar.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=self._layout)
        frame.sample_rate = self._rate
        frame.pts = self._pts
        self._pts += planar.shape[1]
        if self._resampler is None:
            self._encode(frame)
        else:
            for out in self._resampler.resample(frame):
                self._encode(out)

    def close(self) -> None:
        try:
            if self._resampler is not None:
                for out in self._resampler.resample(None):
                    self._encode(out)
            self._encode(None)
        finally:
            self._container.close()


def mp3_rate(rate: int) -> int:
    """The MP3 sample rate used for an input rate: itself when MP3 has it, else the nearest one."""
    return min(MP3_RATES, key=lambda r: (abs(r - rate), -r))


def open_writer(path: Path, code: int, rate: int, channels: int, *, mp3_gapless_header: bool = True) -> Writer:
    """A writer for output format ``code``; ``path`` may carry any suffix (the format is explicit).

    ``mp3_gapless_header=False`` writes an MP3 without its Xing/LAME header (FFmpeg's ``write_xing=0``), so that
    decoders play its encoder delay as a shift (the sandbox's realistic misalignment).
    """
    if code == 3:
        # The movie time scale is the sample rate, so the edit list states the length to the sample (FFmpeg's
        # default of 1000 rounds it to the millisecond).
        return _PyAVWriter(path, rate, channels, codec="aac", container_format="mp4", bit_rate=AAC_BIT_RATE,
                           options={"movie_timescale": str(rate)})
    if code == 0 and (rate not in MP3_RATES or channels > 2 or not mp3_gapless_header):
        if channels > 2:
            raise ValueError("mp3 output supports mono and stereo only")
        return _PyAVWriter(path, rate, channels, codec="libmp3lame", container_format="mp3", bit_rate=320_000,
                           out_rate=mp3_rate(rate), options=None if mp3_gapless_header else {"write_xing": "0"})
    return _SoundfileWriter(path, rate, channels, code)
