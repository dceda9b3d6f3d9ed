"""Give a WAV or FLAC file an exact number of sample frames: cut the end, or pad it with silence.

- WAV: at the RIFF level (``riff.rewrite_wave``): the ``data`` chunk is copied up to the new length or extended
  with silence bytes, ``fact`` (float files) gets the new count, every other chunk (ID3 tags, ``bext``, ``iXML``,
  ``LIST``) is kept byte for byte. Integer PCM and IEEE float only (what MVSep writes); compressed WAV is refused.
- FLAC: re-encoded through libsndfile (``soundfile``) at the same bit depth, block by block (lossless: integers in,
  the same integers out), into a temporary file; the Vorbis comments and pictures are copied over with mutagen, so
  the order "tag, then align" works as well as "align, then tag".

Either way the original is replaced atomically (``os.replace``) only once the new file is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
from pathlib import Path
from typing import Any

from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.riff import FORMAT_PCM, Part, read_layout, read_payload, resize_data_in_place, rewrite_wave
from mvsep_mcp.media.files import temp_path_for
from mvsep_mcp.policy import DAW_PCM_BLOCK_FRAMES

FLAC_SUBTYPES = ("PCM_S8", "PCM_16", "PCM_24")


def set_wave_frames(path: Path, frames: int, *, in_place: bool = False) -> int:
    """Cut or pad the WAV file ``path`` to ``frames`` frames; returns the frame count it had before.

    ``in_place``: for a file nobody else reads yet (a download being finished), edit it where it lies instead of
    writing a new copy (far cheaper for long stems); a crash midway leaves a damaged file, so never on a final one.
    """
    if frames < 0:
        raise ValueError("a frame count cannot be negative")
    layout = read_layout(path)
    fmt = layout.format
    if not fmt.is_linear:
        raise DawError(f"{Path(path).name} holds compressed audio (format 0x{fmt.format_tag:04x}), whose length "
                       f"cannot be changed sample by sample; ask for WAV or FLAC output instead.")
    before = layout.frames
    if before == frames and layout.data.size == frames * fmt.block_align:
        return before
    if in_place and _resize_in_place(path, layout, frames):
        return before
    parts: list[Part] = []
    for chunk in layout.chunks:
        if chunk.id == b"data":
            keep = min(before, frames) * fmt.block_align
            parts.append(Part(b"data", source=chunk, keep=keep, extend=max(0, frames - before) * fmt.block_align,
                              fill=fmt.silence_byte))
        elif chunk.id == b"fact" and chunk.size >= 4 and fmt.format_tag != FORMAT_PCM:
            payload = read_payload(path, chunk)
            parts.append(Part(b"fact", data=struct.pack("<I", min(frames, 0xFFFFFFFF)) + payload[4:]))
        else:
            parts.append(Part.copy(chunk))
    rewrite_wave(path, parts)
    return before


def _resize_in_place(path: Path, layout: Any, frames: int) -> bool:
    fmt = layout.format
    fact = layout.find(b"fact")
    if fact is not None and fact.size >= 4 and fmt.format_tag != FORMAT_PCM:
        with Path(path).open("r+b") as handle:  # the float file's frame count, a fixed place before the audio
            handle.seek(fact.offset)
            handle.write(struct.pack("<I", min(frames, 0xFFFFFFFF)))
    return resize_data_in_place(path, layout, frames * fmt.block_align, fmt.silence_byte)


def _copy_flac_metadata(source: Path, target: Path) -> None:
    """Vorbis comments (vendor string aside) and pictures of ``source`` onto ``target``."""
    from mutagen.flac import FLAC

    old: Any = FLAC(source)  # type: ignore[no-untyped-call]
    if not old.tags and not old.pictures:
        return
    new: Any = FLAC(target)  # type: ignore[no-untyped-call]
    if old.tags:
        if new.tags is None:
            new.add_tags()
        new.tags.clear()
        new.tags.extend(list(old.tags))
    new.clear_pictures()
    for picture in old.pictures:
        new.add_picture(picture)
    new.save()


def set_flac_frames(path: Path, frames: int) -> int:
    """Re-encode the FLAC file ``path`` to exactly ``frames`` frames; returns the frame count it had before."""
    import numpy as np
    import soundfile

    if frames < 0:
        raise ValueError("a frame count cannot be negative")
    path = Path(path)
    info = soundfile.info(str(path))
    if str(info.format).upper() != "FLAC" or info.subtype not in FLAC_SUBTYPES:
        raise DawError(f"{path.name} is not a FLAC file of 8, 16 or 24 bits; it was left as it was.")
    before = int(info.frames)
    if before == frames:
        return before
    tmp = temp_path_for(path)
    try:
        with soundfile.SoundFile(str(path)) as src, soundfile.SoundFile(
                str(tmp), "w", samplerate=info.samplerate, channels=info.channels, format="FLAC",
                subtype=info.subtype) as dst:
            left = min(before, frames)
            while left > 0:
                block = src.read(min(DAW_PCM_BLOCK_FRAMES, left), dtype="int32", always_2d=True)
                if block.shape[0] == 0:
                    break
                dst.write(block)
                left -= block.shape[0]
            missing = frames - min(before, frames) + left  # left > 0 only if the file was shorter than it said
            while missing > 0:
                count = min(DAW_PCM_BLOCK_FRAMES, missing)
                dst.write(np.zeros((count, info.channels), dtype=np.int32))
                missing -= count
        _copy_flac_metadata(path, tmp)
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return before


def set_pcm_frames(path: Path, fmt: str, frames: int, *, in_place: bool = False) -> int:
    """``set_wave_frames`` or ``set_flac_frames`` by ``fmt`` (``"wav"``/``"flac"``); the frame count before."""
    if fmt == "wav":
        return set_wave_frames(path, frames, in_place=in_place)
    if fmt == "flac":
        return set_flac_frames(path, frames)
    raise DawError(f"{Path(path).name}: only WAV and FLAC stems can be cut or padded, not {fmt}.")

