"""Practice mixes: which stems a request sums, the level, and the sum written in every output format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mvsep_mcp.daw.aligned_audio import Layout
from mvsep_mcp.daw.decode import decoded
from mvsep_mcp.daw.errors import DawError
from mvsep_mcp.daw.mix import MixError, choose_stems, clip_gain, is_submix, mix_peak, write_mix
from mvsep_mcp.policy import MIX_PEAK_CEILING_DB

from tests.daw.conftest import FRAMES, RATE, write_pcm

FOUR = ["Vocals", "Instrumental", "Drums", "Bass", "Other"]


def test_without_leaves_out_the_named_stems_and_the_mixes_of_others() -> None:
    choice = choose_stems(FOUR, without=["bass"])
    assert choice.stems == ("Vocals", "Drums", "Other") and choice.mark == "no Bass"
    assert choose_stems(FOUR, without=["Drums", "bass"]).mark == "no Drums or Bass"
    assert choose_stems(["Vocals", "Instrumental"], without=["Vocals"]).stems == ("Instrumental",)  # a part here
    assert choose_stems(["Lead vocals", "Instrumental + back vocals"], without=["lead vocals"]).stems == (
        "Instrumental + back vocals",)
    drums = ["Drums", "Drums: kick", "Drums: snare", "Bass", "Vocals"]
    assert is_submix("Drums: kick", drums) and not is_submix("Drums", drums)
    assert choose_stems(drums, without=["Vocals"]).stems == ("Drums", "Bass")


def test_only_takes_exactly_the_named_stems_in_the_order_given() -> None:
    choice = choose_stems(FOUR, only=["bass", "Drums", "BASS"])
    assert choice.stems == ("Bass", "Drums") and choice.mark == "Bass + Drums"
    assert choose_stems(FOUR, only=["Instrumental"]).stems == ("Instrumental",)


@pytest.mark.parametrize("kwargs, message", [
    ({"without": ["Bass"], "only": ["Drums"]}, "Give either without (the stems to leave out) or only (the stems to "
                                               "keep), not both."),
    ({}, "Name the stems to leave out (without) or to keep (only); this job's stems are Vocals, Instrumental, Drums, "
         "Bass and Other."),
    ({"only": ["Piano"]}, "This job has no 'Piano' stem; its stems are Vocals, Instrumental, Drums, Bass and Other."),
    ({"without": ["Vocals", "Drums", "Bass", "Other"]}, "Leaving out Vocals, Drums, Bass and Other leaves nothing to "
                                                        "mix; this job's stems are"),
])
def test_requests_that_cannot_be_met_are_refused_with_what_is_possible(kwargs: dict[str, list[str]],
                                                                        message: str) -> None:
    with pytest.raises(MixError) as refused:
        choose_stems(FOUR, **kwargs)
    assert refused.value.user_text().startswith(message)


def test_only_a_sum_that_would_clip_is_lowered() -> None:
    assert clip_gain(0.0) == clip_gain(0.7) == clip_gain(1.0) == 1.0
    assert clip_gain(2.0) == pytest.approx(10 ** (MIX_PEAK_CEILING_DB / 20) / 2)


def _stems(folder: Path, subtype: str = "PCM_16") -> list[Path]:
    paths = []
    for index, level in enumerate((0.3, 0.2, 0.1)):
        path = folder / f"stem{index}.wav"
        audio = write_pcm(path, FRAMES, subtype=subtype)
        sf.write(str(path), audio * level / np.abs(audio).max(), RATE, subtype=subtype)
        paths.append(path)
    return paths


def _read(path: Path) -> np.ndarray:
    with decoded(path) as audio:
        return np.concatenate(list(audio.blocks))


@pytest.mark.parametrize("fmt, tolerance", [("wav", 1e-9), ("flac", 1e-9), ("flac24", 1e-9), ("wav32", 1e-7),
                                            ("mp3", None), ("m4a", None)])
def test_the_sum_is_written_in_every_output_format(tmp_path: Path, fmt: str, tolerance: float | None) -> None:
    paths = _stems(tmp_path)
    expected = sum(sf.read(str(p), dtype="float64")[0] for p in paths)
    out = tmp_path / f"mix.{fmt}.part"
    gain = write_mix(out, paths, Layout(RATE, 2, FRAMES), fmt)  # type: ignore[arg-type]
    mixed = _read(out)
    assert gain == 1.0 and len(mixed) == FRAMES  # lossy too: gapless header / edit list
    if tolerance is not None:
        assert np.abs(mixed - expected).max() <= tolerance
    else:  # codec error only: tens of dB below the signal, and no shift in time
        error = np.sqrt(np.mean((mixed - expected) ** 2)) / np.sqrt(np.mean(expected ** 2))
        assert error < 0.3, error  # a shift of one sample would make it ~1.4 (noise)


def test_a_loud_sum_is_lowered_to_the_ceiling_and_shorter_stems_are_padded(tmp_path: Path) -> None:
    loud = []
    for index, frames in enumerate((FRAMES, FRAMES - 100)):
        path = tmp_path / f"loud{index}.flac"
        sf.write(str(path), np.full((frames, 2), 0.8), RATE, subtype="PCM_24")
        loud.append(path)
    layout = Layout(RATE, 2, FRAMES)
    assert mix_peak(loud, layout) == pytest.approx(1.6, abs=1e-6)
    gain = write_mix(tmp_path / "loud.flac", loud, layout, "flac24")
    mixed = _read(tmp_path / "loud.flac")
    assert gain == pytest.approx(10 ** (MIX_PEAK_CEILING_DB / 20) / 1.6, rel=1e-6)
    assert np.abs(mixed).max() == pytest.approx(10 ** (MIX_PEAK_CEILING_DB / 20), abs=1e-6)
    assert np.abs(mixed[-100:]).max() == pytest.approx(0.8 * gain, abs=1e-6)  # the short one ends in silence


def test_an_mp3_mix_at_a_rate_mp3_lacks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hi.wav"
    sf.write(str(path), np.zeros((100, 2)), 96_000)
    with pytest.raises(DawError, match="An mp3 mix cannot be 96000 Hz with 2 channels .*: choose wav, flac or m4a"):
        write_mix(tmp_path / "mix.mp3", [path], Layout(96_000, 2, 100), "mp3")
