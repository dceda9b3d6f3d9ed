"""complete_audio(): a file cut anywhere (a full disk, an unnoticed break) is caught, whatever its header promises."""

from __future__ import annotations

import mmap
from pathlib import Path

import pytest
from mvsep_mcp.media import complete
from mvsep_mcp.media.complete import Incomplete, complete_audio

from tests.audio_factory import FORMATS, make_audio


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_whole_file_passes(tmp_path: Path, fmt: str) -> None:
    complete_audio(make_audio(tmp_path, fmt, seconds=3.0), fmt)
    complete_audio(make_audio(tmp_path, fmt, name="bare", tagged=False), fmt)


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_cut_anywhere_is_incomplete(tmp_path: Path, fmt: str, fraction: float) -> None:
    whole = make_audio(tmp_path, fmt, seconds=3.0, tagged=False)
    cut = tmp_path / f"cut.{fmt}"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(Incomplete):
        complete_audio(cut, fmt)


def test_an_mp3_cut_on_a_frame_boundary_falls_short_of_its_frame_count(tmp_path: Path) -> None:
    whole = make_audio(tmp_path, "mp3", seconds=3.0, tagged=False)
    with whole.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        assert complete._xing_frames(view, 0) is not None, "the encoder writes a Xing/Info header"
        position, ends = 0, []
        while (frame := complete._mp3_frame(view, position)) is not None:
            position += frame[0]
            ends.append(position)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: ends[len(ends) // 2]])  # whole frames only: nothing is cut mid-frame
    with pytest.raises(Incomplete, match="audio frames its header counts"):
        complete_audio(cut, "mp3")


def test_other_formats_are_not_checked(tmp_path: Path) -> None:
    path = tmp_path / "x.aiff"
    path.write_bytes(b"FORM")
    complete_audio(path, "aiff")


def test_an_mp3_with_junk_before_after_and_between_its_frames_is_whole(tmp_path: Path) -> None:
    whole = make_audio(tmp_path, "mp3", seconds=3.0, tagged=False).read_bytes()
    odd = tmp_path / "odd.mp3"
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10  # an empty ID3v2 tag of 10 bytes
    odd.write_bytes(id3 + b"\x00" * 700 + whole + b"TAG" + b"x" * 125 + b"\x00" * 300)
    complete_audio(odd, "mp3")
