"""A box in moov/udta: added, replaced, read back, and every chunk offset still true (FFmpeg decodes the same audio)."""

from __future__ import annotations

import hashlib
import struct
import subprocess
from pathlib import Path

import pytest
from mvsep_mcp.daw.mp4_udta import Mp4BoxError, put_udta_box, read_udta_box

from tests import ffmpeg


def _make(path: Path, *, faststart: bool, tags: bool = True) -> Path:
    args = [ffmpeg.program("ffmpeg"), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-f", "lavfi", "-i", "sine=frequency=660:duration=1", "-map", "0", "-map", "1", "-c:a", "alac"]
    args += ["-movflags", "+faststart"] if faststart else []
    args += [] if tags else ["-map_metadata", "-1", "-fflags", "+bitexact"]
    subprocess.run([*args, str(path)], check=True)
    return path


def _pcm(path: Path) -> list[str]:
    return [hashlib.sha256(subprocess.run([ffmpeg.program("ffmpeg"), "-v", "error", "-i", str(path), "-map",
                                           f"0:a:{i}", "-f", "s16le", "-"], check=True,
                                          capture_output=True).stdout).hexdigest() for i in range(2)]


def _top_level(path: Path) -> list[bytes]:
    data, at, kinds = path.read_bytes(), 0, []
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        kinds.append(kind)
        at += size
    return kinds


@pytest.mark.parametrize("faststart", [False, True])
def test_the_box_is_added_and_the_audio_stays_where_it_was(tmp_path: Path, faststart: bool) -> None:
    path = _make(tmp_path / "two.mp4", faststart=faststart)
    before = _pcm(path)
    assert (_top_level(path).index(b"moov") < _top_level(path).index(b"mdat")) is faststart
    put_udta_box(path, b"stem", b'{"version":1}')
    assert read_udta_box(path, b"stem") == b'{"version":1}'
    assert _pcm(path) == before  # chunk offsets moved with the data when moov grew before it
    put_udta_box(path, b"stem", b'{"version":1,"stems":[]}' * 40)  # replaced, not repeated
    assert read_udta_box(path, b"stem") == b'{"version":1,"stems":[]}' * 40
    assert _pcm(path) == before
    assert not list(tmp_path.glob(".*.part"))


def test_a_movie_without_user_data_gets_a_udta(tmp_path: Path) -> None:
    path = _make(tmp_path / "bare.mp4", faststart=True, tags=False)
    before = _pcm(path)
    put_udta_box(path, b"stem", b"{}")
    assert read_udta_box(path, b"stem") == b"{}" and _pcm(path) == before


def test_not_an_mp4_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not.mp4"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    with pytest.raises(Mp4BoxError, match="not an MP4 file"):
        put_udta_box(path, b"stem", b"{}")
    assert read_udta_box(_make(tmp_path / "plain.mp4", faststart=False), b"stem") is None
