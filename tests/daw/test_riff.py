"""The RIFF chunk reader and rewriter: chunks kept byte for byte, odd sizes padded, unfinished headers tolerated."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import soundfile as sf
from mvsep_mcp.daw.errors import NotAWave
from mvsep_mcp.daw.riff import FORMAT_IEEE_FLOAT, FORMAT_PCM, Part, read_layout, read_payload, rewrite_wave

from tests.daw.conftest import write_pcm


def _wave(chunks: list[tuple[bytes, bytes]], *, declared_riff: int | None = None) -> bytes:
    body = b"".join(cid + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
                    for cid, data in chunks)
    return b"RIFF" + struct.pack("<I", declared_riff or 4 + len(body)) + b"WAVE" + body


FMT_16_STEREO = struct.pack("<HHIIHH", FORMAT_PCM, 2, 44100, 44100 * 4, 4, 16)


def test_layout_of_a_soundfile_wav(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    write_pcm(path, 1000, subtype="FLOAT")
    layout = read_layout(path)
    assert [c.id for c in layout.chunks][:1] == [b"fmt "] and layout.find(b"data") is not None
    assert layout.format.format_tag == FORMAT_IEEE_FLOAT and layout.format.block_align == 8
    assert layout.frames == 1000 and layout.format.silence_byte == 0


def test_extensible_format_resolves_to_its_sub_format(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    write_pcm(path, 10, channels=6, subtype="PCM_24")  # libsndfile writes WAVE_FORMAT_EXTENSIBLE for 6 channels
    fmt = read_layout(path).format
    assert fmt.format_tag == FORMAT_PCM and fmt.channels == 6 and fmt.bits_per_sample == 24 and fmt.is_linear


def test_rewrite_keeps_unknown_chunks_and_pads_odd_sizes(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(_wave([(b"fmt ", FMT_16_STEREO), (b"odd!", b"abc"), (b"data", b"\x01\x02\x03\x04" * 3),
                            (b"LIST", b"INFOsome")]))
    layout = read_layout(path)
    assert [(c.id, c.size) for c in layout.chunks] == [(b"fmt ", 16), (b"odd!", 3), (b"data", 12), (b"LIST", 8)]
    rewrite_wave(path, [Part.copy(c) for c in layout.chunks] + [Part(b"new ", data=b"x")])
    again = read_layout(path)
    assert [c.id for c in again.chunks] == [b"fmt ", b"odd!", b"data", b"LIST", b"new "]
    assert read_payload(path, again.chunks[1]) == b"abc" and read_payload(path, again.chunks[4]) == b"x"
    assert struct.unpack("<I", path.read_bytes()[4:8])[0] == path.stat().st_size - 8
    assert path.stat().st_size % 2 == 0
    assert not list(tmp_path.glob(".*.part"))


def test_unfinished_data_size_reads_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    raw = bytearray(_wave([(b"fmt ", FMT_16_STEREO), (b"data", b"\x00" * 40)]))
    raw[-44:-40] = struct.pack("<I", 0xFFFFFFFF)  # a streaming writer that never came back to fix the size
    path.write_bytes(bytes(raw))
    assert read_layout(path).frames == 10
    assert sf.info(str(path)).frames == 10


@pytest.mark.parametrize("head", [b"RF64\xff\xff\xff\xffWAVE", b"RIFX\x00\x00\x00\x10WAVE", b"fLaC\x00\x00\x00\x22"])
def test_not_a_plain_wave(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(head + b"\x00" * 64)
    with pytest.raises(NotAWave):
        read_layout(path)


def test_wave_without_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(_wave([(b"fmt ", FMT_16_STEREO)]))
    with pytest.raises(NotAWave, match="no fmt or data chunk"):
        read_layout(path)


@pytest.mark.parametrize("frames", [600, 1000, 1400])
def test_in_place_cut_or_pad_equals_a_rewrite(tmp_path: Path, frames: int) -> None:
    """The in-place edit (for a download being finished) gives the same bytes as the copying rewrite."""
    from mvsep_mcp.daw.pcm_length import set_wave_frames

    chunks = [(b"fmt ", FMT_16_STEREO), (b"data", bytes(range(256)) * 15 + b"\x01" * 160),
              (b"id3 ", b"ID3 tag and cover" * 7)]  # 4000 bytes of audio: 1000 frames, then a tag chunk
    copied, edited = tmp_path / "copied.wav", tmp_path / "edited.wav"
    copied.write_bytes(_wave(chunks))
    edited.write_bytes(_wave(chunks))
    assert set_wave_frames(copied, frames) == set_wave_frames(edited, frames, in_place=True) == 1000
    assert edited.read_bytes() == copied.read_bytes()
    assert read_layout(edited).frames == frames and read_payload(edited, read_layout(edited).chunks[-1]) == chunks[2][1]


def test_a_rewrite_hashes_what_it_writes(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "x.wav"
    write_pcm(path, 500)
    layout = read_layout(path)
    digest = hashlib.sha256()
    rewrite_wave(path, [Part(b"bext", data=b"x" * 3), *[Part.copy(c) for c in layout.chunks]], digest=digest,
                 durable=False)
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
