"""Alignment of stems to their input: PCM cut or padded exactly (tags kept), lossy offsets recorded, reasons given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import TIT2
from mutagen.wave import WAVE
from mvsep_mcp.daw import align_stem, read_stream_facts
from mvsep_mcp.daw.bwf import Provenance, write_provenance
from mvsep_mcp_testbench.sandbox.audio import OUTPUT_FORMATS, Misalignment, render_stems
from wavinfo import WavInfoReader

from tests.audio_factory import Song, png_cover, tag_audio
from tests.daw.conftest import FRAMES, RATE, song_file, write_m4a, write_mp3, write_pcm

FOUR = [("vocals", "Vocals"), ("bass", "Bass"), ("drums", "Drums"), ("other", "Other")]


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT", "PCM_U8"])
@pytest.mark.parametrize("delta", [+123, -77])
def test_wav_stems_are_cut_or_padded_exactly(song_dir: Path, tmp_path: Path, subtype: str, delta: int) -> None:
    stem = tmp_path / "stem.wav"
    written = write_pcm(stem, FRAMES + delta, subtype=subtype)
    before = sf.read(str(stem), dtype="float64")[0]
    result = align_stem(song_file(song_dir, "flac"), stem)
    assert result.status == ("trimmed" if delta > 0 else "padded")
    assert result.exact and result.reason is None
    assert (result.frames_before, result.frames_after, result.adjusted_frames) == (FRAMES + delta, FRAMES, -delta)
    after, rate = sf.read(str(stem), dtype="float64")
    assert rate == RATE and after.shape == (FRAMES, 2) and written.shape[0] == FRAMES + delta
    keep = min(FRAMES, FRAMES + delta)
    np.testing.assert_array_equal(after[:keep], before[:keep])  # the audio itself is untouched
    assert not after[keep:].any()  # padding is silence (0x80 bytes in unsigned 8-bit)
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
@pytest.mark.parametrize("delta", [+300, -41])
def test_flac_stems_are_reencoded_losslessly_with_their_tags(song_dir: Path, tmp_path: Path, subtype: str,
                                                             delta: int) -> None:
    stem = tmp_path / "stem.flac"
    write_pcm(stem, FRAMES + delta, subtype=subtype)
    tag_audio(stem, Song(title="Café (Vocals)", cover=png_cover()))
    before = sf.read(str(stem), dtype="int32")[0]
    result = align_stem(song_file(song_dir, "wav"), stem)
    assert result.status in ("trimmed", "padded") and result.exact
    info = sf.info(str(stem))
    assert (info.frames, info.subtype) == (FRAMES, subtype)
    after = sf.read(str(stem), dtype="int32")[0]
    keep = min(FRAMES, FRAMES + delta)
    np.testing.assert_array_equal(after[:keep], before[:keep])
    assert not after[keep:].any()
    flac = FLAC(stem)
    assert flac.tags is not None and flac["title"] == ["Café (Vocals)"] and flac["artist"] == ["Test Artist"]
    assert [p.data for p in flac.pictures] == [png_cover()]


def test_wav_alignment_keeps_id3_and_bwf_chunks(song_dir: Path, tmp_path: Path) -> None:
    stem = tmp_path / "stem.wav"
    write_pcm(stem, FRAMES - 500, subtype="PCM_24")
    write_provenance(stem, Provenance(song="Café Song", stem="Vocals", model="Demucs"))
    wave = WAVE(stem)
    wave.add_tags()
    assert wave.tags is not None
    wave.tags.add(TIT2(encoding=3, text=["Café Song (Vocals)"]))
    wave.save()
    assert align_stem(song_file(song_dir, "flac"), stem).status == "padded"
    assert str(WAVE(stem).tags["TIT2"]) == "Café Song (Vocals)"  # type: ignore[index]
    info = WavInfoReader(str(stem))
    assert info.bext is not None and info.bext.description.startswith("Cafe Song - Vocals")
    assert info.ixml is not None and info.ixml.project == "Café Song"
    assert sf.info(str(stem)).frames == FRAMES


def test_matching_stem_is_left_alone(song_dir: Path, tmp_path: Path) -> None:
    stem = tmp_path / "stem.flac"
    write_pcm(stem, FRAMES)
    mtime = stem.stat().st_mtime_ns
    result = align_stem(song_file(song_dir, "mp3"), stem)  # a LAME MP3 input has an exact length too
    assert (result.status, result.exact, result.adjusted_frames) == ("matched", True, 0)
    assert stem.stat().st_mtime_ns == mtime


def test_daw_ready_off_only_reports(song_dir: Path, tmp_path: Path) -> None:
    stem = tmp_path / "stem.wav"
    write_pcm(stem, FRAMES + 441)
    result = align_stem(song_file(song_dir, "flac"), stem, daw_ready=False)
    assert result.status == "not_adjusted" and not result.exact
    assert result.reason == "daw_ready is off: the stem is 441 frames (10.0 ms) longer than the input"
    assert sf.info(str(stem)).frames == FRAMES + 441


def test_a_stem_far_off_is_not_cut(song_dir: Path, tmp_path: Path) -> None:
    stem = tmp_path / "stem.wav"
    write_pcm(stem, FRAMES * 3)
    result = align_stem(song_file(song_dir, "flac"), stem)
    assert result.status == "not_adjusted" and "more than the 1 s of padding" in (result.reason or "")
    assert sf.info(str(stem)).frames == FRAMES * 3


def test_input_of_unknown_length_leaves_pcm_alone(tmp_path: Path) -> None:
    source = tmp_path / "in.mp3"
    write_mp3(source, FRAMES, encoder="ffmpeg", gapless_header=False)
    stem = tmp_path / "stem.wav"
    write_pcm(stem, FRAMES)
    result = align_stem(source, stem)
    assert result.status == "not_adjusted" and "exact length is unknown" in (result.reason or "")


def test_other_rate_is_reported_and_matched_in_time(tmp_path: Path) -> None:
    source = tmp_path / "in.wav"
    write_pcm(source, 96000, rate=96000)
    stem = tmp_path / "stem.flac"
    write_pcm(stem, 48000 + 100, rate=48000)
    result = align_stem(source, stem)
    assert result.status == "trimmed" and not result.exact and result.frames_after == 48000
    assert "48000 Hz" in (result.reason or "") and "96000 Hz" in (result.reason or "")


def test_mp3_that_cannot_carry_the_input_says_why(tmp_path: Path) -> None:
    source = tmp_path / "in.wav"
    write_pcm(source, 96000, rate=96000)
    stem = tmp_path / "stem.mp3"
    write_mp3(stem, 48000, rate=48000)
    result = align_stem(source, stem)
    assert result.status == "recorded" and not result.exact
    assert (result.reason or "").startswith("MP3 has no 96000 Hz")


def test_lossy_stems_record_their_offsets(song_dir: Path, tmp_path: Path) -> None:
    source = song_file(song_dir, "flac")
    exact_mp3 = tmp_path / "a.mp3"
    write_mp3(exact_mp3, FRAMES)
    result = align_stem(source, exact_mp3)
    assert (result.status, result.exact) == ("recorded", True)
    manifest = result.as_manifest()
    assert manifest["stem"]["encoder_delay"] == 576 and manifest["stem"]["decoder_delay"] == 529
    assert manifest["stem"]["gapless_source"] == "lame" and "reason" not in manifest and "input" not in manifest
    assert result.as_manifest(include_input=True)["input"] == read_stream_facts(source).as_manifest()
    assert result.as_manifest(include_input=True)["input"]["frames"] == FRAMES

    bare = tmp_path / "b.mp3"
    write_mp3(bare, FRAMES, encoder="ffmpeg", gapless_header=False)
    result = align_stem(source, bare)
    assert not result.exact and "no gapless information" in (result.reason or "")

    rounded = tmp_path / "c.m4a"
    write_m4a(rounded, FRAMES + 30)
    result = align_stem(source, rounded)
    assert not result.exact and "time scale" in (result.reason or "")

    longer = tmp_path / "d.m4a"
    write_m4a(longer, FRAMES + 30, movie_timescale=RATE)
    result = align_stem(source, longer)
    assert not result.exact and "30 frames (0.7 ms) longer" in (result.reason or "")
    assert result.stem is not None and result.stem.encoder_delay == 1024
    assert longer.stat().st_size > 0 and read_stream_facts(longer).frames == FRAMES + 30  # never re-encoded


def test_unreadable_stem_and_input(tmp_path: Path, song_dir: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"nope" * 100)
    assert align_stem(song_file(song_dir, "flac"), junk).status == "unreadable"
    stem = tmp_path / "stem.wav"
    write_pcm(stem, 100)
    result = align_stem(None, stem)
    assert result.status == "not_adjusted" and "no input file" in (result.reason or "")
    assert align_stem(junk, stem).status == "not_adjusted"


def test_input_facts_can_be_read_once(song_dir: Path, tmp_path: Path) -> None:
    facts = read_stream_facts(song_file(song_dir, "flac"))
    stem = tmp_path / "stem.wav"
    write_pcm(stem, FRAMES + 5)
    assert align_stem(None, stem, input_facts=facts).status == "trimmed"


@pytest.mark.parametrize("code", sorted(OUTPUT_FORMATS))
def test_sandbox_stems_in_every_output_format(song_dir: Path, tmp_path: Path, code: int) -> None:
    """The issue's check: after alignment every stem has the input's rate and channels (or says why), PCM stems
    its exact length, lossy stems their offsets recorded. The sandbox makes them realistically imperfect."""
    source = song_file(song_dir, "m4a")
    rendered = render_stems(source, FOUR, code, tmp_path, "song", misalignment=Misalignment())
    input_facts = read_stream_facts(source)
    results = [align_stem(source, stem.path, input_facts=input_facts) for stem in rendered]
    for stem, result in zip(rendered, results, strict=True):
        assert result.stem is not None
        assert (result.stem.sample_rate, result.stem.channels) == (RATE, 2)
        if OUTPUT_FORMATS[code].ext in ("wav", "flac"):
            assert result.exact, result.reason
            assert sf.info(str(stem.path)).frames == FRAMES
        else:
            assert result.status == "recorded"
            assert result.exact == (result.stem.frames == FRAMES and result.stem.frames_exact), result.reason
            assert result.exact or result.reason
    statuses = {r.status for r in results}
    if OUTPUT_FORMATS[code].ext in ("wav", "flac"):
        assert {"matched", "trimmed", "padded"} <= statuses  # the sandbox's misalignment was really there
    if code == 0:
        assert any(r.stem is not None and r.stem.gapless_source is None for r in results)  # a header-less MP3


def test_alignment_round_trips_through_the_job_manifest(song_dir: Path, tmp_path: Path) -> None:
    from mvsep_mcp.media import Manifest, ManifestInput, ManifestJob, ManifestOutput, read_manifest, write_manifest

    source = song_file(song_dir, "flac")
    stem = tmp_path / "Song - Vocals.wav"
    write_pcm(stem, FRAMES + 9)
    result = align_stem(source, stem)
    output = ManifestOutput.for_file(tmp_path, "Vocals", stem).model_copy(update={"alignment": result.as_manifest()})
    entry = ManifestInput(name=source.name).model_copy(update={"stream": read_stream_facts(source).as_manifest()})
    manifest = Manifest(job=ManifestJob(hash="h", model="m"), input=entry, outputs=[output])
    again = read_manifest(write_manifest(tmp_path, manifest))
    stored = again.outputs[0].model_dump()["alignment"]
    assert stored["status"] == "trimmed" and stored["adjusted_frames"] == -9 and stored["stem"]["frames"] == FRAMES + 9
    assert again.input.model_dump()["stream"]["frames"] == FRAMES
