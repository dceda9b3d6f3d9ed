"""verify_audio(): a stem is whole audio of the promised format and the input's length; MVSep's size text is a hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.media.verify import StemRejected, verify_audio

from tests.audio_factory import make_audio


def test_whole_audio_of_the_right_length_passes(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "flac", seconds=3.0)
    size = path.stat().st_size
    verified = verify_audio(path, ext="flac", label="Vocals", announced_size=f"{size / 1024 / 1024:.2f} MB",
                            expected_duration=3.0)
    assert verified.format == "flac" and verified.size == size and verified.warnings == ()


def test_a_size_text_that_disagrees_is_a_warning_not_a_rejection(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "flac", seconds=3.0)
    verified = verify_audio(path, ext="flac", label="Vocals", announced_size="9.99 MB", expected_duration=3.0)
    assert verified.warnings == (f"{path.stat().st_size} bytes where MVSep announced 9.99 MB: kept, the audio is "
                                 f"complete",)


@pytest.mark.parametrize("fmt", ["flac", "mp3", "wav", "m4a"])
def test_a_file_cut_short_is_rejected_whatever_its_header_says(tmp_path: Path, fmt: str) -> None:
    whole = make_audio(tmp_path, fmt, seconds=3.0)
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(data[: int(len(data) * 0.95)])
    size_text = f"{len(data) * 0.95 / 1024 / 1024:.2f} MB"  # even when the size text agrees with the cut file
    with pytest.raises(StemRejected, match=r"the Vocals file \(\w+\) (is incomplete: |arrived as .* not readable)"):
        verify_audio(cut, ext=fmt, label="Vocals", announced_size=size_text)


def test_a_stem_of_another_length_is_rejected(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "flac", seconds=3.0)
    with pytest.raises(StemRejected, match="lasts 3.0 s where the input lasts 30.0 s"):
        verify_audio(path, ext="flac", label="Vocals", expected_duration=30.0)


def test_an_error_page_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.flac"
    path.write_text('{"message": "Unauthenticated."}')
    with pytest.raises(StemRejected, match="bytes of JSON"):
        verify_audio(path, ext="flac", label="Vocals")
