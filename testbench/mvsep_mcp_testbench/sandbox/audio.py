"""The sandbox's real audio: probe, decode, read getID3-shaped tags, and render stems in MVSep's output formats.

Stems are made by simple DSP (``audio_split``: FFT band masks, vocals from the centre channel) so that they sum
back to the input: exactly in float before encoding; after encoding

- ``wav 32-bit float``: to ~1e-7 (float32 rounding);
- ``wav/flac 16-bit`` and ``flac 24-bit``: exactly, up to clipping: every stem but the residual is rounded to the
  output's integer grid and the residual is ``round(input) - sum(rounded others)``, so the decoded stems sum to
  the input rounded to that bit depth (a 16-bit input in a 16/24-bit output sums back bit for bit). Stems of a
  full-scale input can exceed [-1, 1]: integer outputs clip there, which then breaks the sum by the clipped amount;
- ``mp3 320 kbps`` and ``m4a (AAC 256 kbps)``: within codec error (tens of dB below the signal), same frame count
  when decoded with ``decode`` (LAME gapless header; MP4 edit list), lossy stems are clipped to [-1, 1].

Never resampled, except MP3 output of a rate MP3 lacks (e.g. 96 kHz), which goes to the nearest MP3 rate.
``render_stems(..., misalignment=Misalignment())`` makes the stems realistically imperfect instead: some a few ms
long or short, some MP3s without a gapless header (``audio_misalign``).
Stems keep the input's channel count. Long inputs stream through in blocks (memory stays a few MB).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mvsep_mcp_testbench.sandbox.audio_codecs import (
    INTEGER_BITS,
    OUTPUT_FORMATS,
    OutputFormat,
    UndecodableAudio,
    Writer,
    clip_int,
    guarded_blocks,
    open_reader,
    open_writer,
    quantise,
)
from mvsep_mcp_testbench.sandbox.audio_misalign import LengthChangingWriter, Misalignment
from mvsep_mcp_testbench.sandbox.audio_split import StemSplitter
from mvsep_mcp_testbench.sandbox.audio_tags import read_getid3_tags

__all__ = [
    "OUTPUT_FORMATS",
    "Misalignment",
    "OutputFormat",
    "RenderedStem",
    "UndecodableAudio",
    "decode",
    "probe_duration",
    "read_getid3_tags",
    "render_stems",
]


@dataclass(frozen=True)
class RenderedStem:
    """One written stem: its key (``vocals``), label (``Vocals``), file and size in bytes."""

    key: str
    label: str
    path: Path
    size: int


def probe_duration(path: Path) -> float:
    """Duration in seconds; raises ``UndecodableAudio`` for anything that is not decodable audio with frames."""
    reader = open_reader(Path(path))
    blocks = guarded_blocks(path, reader)
    try:
        first = next(blocks, None)
        if first is None:
            raise UndecodableAudio(f"{Path(path).name}: no audio frames")
        if reader.frames is not None and reader.frames > 0:
            return float(reader.frames / reader.sample_rate)
        total = int(first.shape[0]) + sum(int(block.shape[0]) for block in blocks)
        return float(total / reader.sample_rate)
    finally:
        with contextlib.suppress(Exception):
            blocks.close()


def decode(path: Path) -> tuple[np.ndarray, int]:
    """The whole file as float32 ``(frames, channels)`` and its sample rate; raises ``UndecodableAudio``."""
    reader = open_reader(Path(path))
    chunks = list(guarded_blocks(path, reader))
    if not chunks:
        raise UndecodableAudio(f"{Path(path).name}: no audio frames")
    return np.concatenate(chunks).astype(np.float32, copy=False), reader.sample_rate


def _write_chunk(writers: list[Writer], x: np.ndarray, stems: np.ndarray, residual: int, bits: int | None) -> None:
    if bits is None:
        for writer, stem in zip(writers, stems, strict=True):
            writer.write(stem)
        return
    # Round every stem but the residual; the residual absorbs their rounding so the integers sum to round(x).
    quantised = [quantise(stem, bits) for stem in stems]
    others = sum((q for i, q in enumerate(quantised) if i != residual), np.zeros_like(quantised[0]))
    quantised[residual] = quantise(x, bits) - others
    for writer, q in zip(writers, quantised, strict=True):
        writer.write(clip_int(q, bits))


def _open_stem_writer(path: Path, index: int, output_format: int, rate: int, channels: int,
                      misalignment: Misalignment | None) -> Writer:
    if misalignment is None:
        return open_writer(path, output_format, rate, channels)
    writer = open_writer(path, output_format, rate, channels,
                         mp3_gapless_header=misalignment.mp3_gapless_header(index))
    delta = misalignment.length_error_frames(index, rate)
    return LengthChangingWriter(writer, delta) if delta else writer


def render_stems(input_path: Path, stems: list[tuple[str, str]], output_format: int, out_dir: Path,
                 base_name: str, *, misalignment: Misalignment | None = None) -> list[RenderedStem]:
    """Split ``input_path`` into ``stems`` ((key, label) pairs) and write ``out_dir/f"{base_name}_{key}.{ext}"``.

    Files are written under a temporary name and renamed when complete; on any error none are left behind.
    With ``misalignment`` the stems stray from the input's length the way real outputs do (``audio_misalign``).
    Raises ``UndecodableAudio`` for an input that cannot be decoded, ``ValueError`` for a bad request.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output_format {output_format!r}; valid: {sorted(OUTPUT_FORMATS)}")
    if not stems:
        raise ValueError("no stems requested")
    keys = [key for key, _label in stems]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate stem keys in {keys}")
    if not base_name or Path(base_name).name != base_name:
        raise ValueError(f"base_name must be a plain file name, not {base_name!r}")
    for key in keys:
        if not key or Path(key).name != key:
            raise ValueError(f"stem key must be a plain name, not {key!r}")
    fmt = OUTPUT_FORMATS[output_format]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    finals = [out_dir / f"{base_name}_{key}.{fmt.ext}" for key in keys]
    temps = [final.with_name(final.name + ".part") for final in finals]

    reader = open_reader(Path(input_path))
    splitter = StemSplitter(keys, reader.sample_rate, reader.channels)
    bits = INTEGER_BITS[output_format]
    writers: list[Writer] = []
    done = False
    try:
        for index, temp in enumerate(temps):
            writers.append(_open_stem_writer(temp, index, output_format, reader.sample_rate, reader.channels,
                                             misalignment))
        wrote_any = False
        for x, chunk in splitter.process(guarded_blocks(input_path, reader)):
            _write_chunk(writers, x, chunk, splitter.residual, bits)
            wrote_any = True
        if not wrote_any:
            raise UndecodableAudio(f"{Path(input_path).name}: no audio frames")
        for writer in writers:
            writer.close()
        writers = []
        for temp, final in zip(temps, finals, strict=True):
            temp.replace(final)
        done = True
    finally:
        for writer in writers:
            with contextlib.suppress(Exception):
                writer.close()
        if not done:
            for temp in temps:
                with contextlib.suppress(OSError):
                    temp.unlink(missing_ok=True)
    return [RenderedStem(key, label, final, final.stat().st_size)
            for (key, label), final in zip(stems, finals, strict=True)]
